"""What LangGraph's own store tests check (libs/checkpoint/tests/test_store.py:
reserved and invalid namespaces, list_namespaces with prefixes, suffixes, wildcards,
depth and pages), run against SynapticStore on memory, files and S3, with LangGraph's
InMemoryStore as the reference answer wherever both must agree."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langgraph.store.memory")

from langgraph.store.base import BaseStore, GetOp, InvalidNamespaceError, PutOp
from langgraph.store.memory import InMemoryStore as ReferenceStore

from synaptic_s3 import InMemoryStore, Store
from synaptic_s3.integrations.langgraph_store import SynapticStore

DOC = {"foo": "bar"}


def both(backend_store: Store) -> list[BaseStore]:
    return [SynapticStore(backend_store), ReferenceStore()]


@pytest.mark.parametrize("labels", [(), ("the", "thing.about"), ("some", "fun", ""),
                                    ("langgraph", "foo")])
async def test_public_put_refuses_empty_invalid_and_reserved_namespaces(
    labels: tuple[str, ...], backend_store: Store
) -> None:
    store = SynapticStore(backend_store)
    with pytest.raises(InvalidNamespaceError):
        await store.aput(labels, "foo", DOC)
    assert await backend_store.list_namespaces(()) == []


async def test_langgraph_as_an_inner_label_is_an_ordinary_label(backend_store: Store) -> None:
    store = SynapticStore(backend_store)
    labels = ("foo", "langgraph", "foo")
    await store.aput(labels, "bar", DOC)
    item = await store.aget(labels, "bar")
    assert item is not None
    assert item.value == DOC
    assert [found.value for found in await store.asearch(labels)] == [DOC]
    await store.adelete(labels, "bar")
    assert await store.aget(labels, "bar") is None


@pytest.mark.parametrize("labels", [("langgraph", "foo"), ()])
async def test_batch_writes_where_the_reference_store_does(
    labels: tuple[str, ...], backend_store: Store
) -> None:
    """Past the public put: ``batch`` writes under the reserved root and to the empty
    namespace, as LangGraph's InMemoryStore does; get, search and delete follow."""
    for store in both(backend_store):
        await store.abatch([PutOp(labels, "bar", DOC)])
        item = (await store.abatch([GetOp(labels, "bar")]))[0]
        assert item is not None
        assert item.value == DOC
        assert [found.value for found in await store.asearch(labels)] == [DOC]
        await store.abatch([PutOp(labels, "bar", None)])
        assert await store.asearch(labels) == []


def test_batch_writes_under_the_reserved_root_synchronously() -> None:
    store = SynapticStore(InMemoryStore())
    store.batch([PutOp(("langgraph", "foo"), "bar", DOC)])
    assert store.search(("langgraph", "foo"))[0].value == DOC
    assert store.list_namespaces() == [("langgraph", "foo")]
    store.delete(("langgraph", "foo"), "bar")
    assert store.search(("langgraph", "foo")) == []


NAMESPACES = [
    ("a", "b", "c"), ("a", "b", "d", "e"), ("a", "b", "d", "i"), ("a", "b", "f"),
    ("a", "c", "f"), ("b", "a", "f"), ("users", "123"), ("users", "456", "settings"),
    ("admin", "users", "789"),
]
QUERIES: list[dict[str, Any]] = [
    {"prefix": ("a", "b")}, {"suffix": ("f",)}, {"prefix": ("a",), "suffix": ("f",)},
    {"prefix": ("a", "b"), "max_depth": 3}, {"prefix": ("a", "b"), "limit": 2},
    {"prefix": ("a", "b"), "offset": 2}, {"prefix": ("a", "*", "f")},
    {"suffix": ("*", "f")}, {"prefix": ("nonexistent",)}, {"prefix": ("users", "123")},
    {"prefix": ("users", "*")}, {"suffix": ("*", "settings")},
    {"prefix": ("*", "users"), "suffix": ("*", "settings")}, {"max_depth": 2}, {},
    {"max_depth": 1, "limit": 2, "offset": 1}, {"limit": 0}, {"offset": 100},
]


async def test_list_namespaces_answers_like_the_reference(backend_store: Store) -> None:
    ours, reference = both(backend_store)
    for number, labels in enumerate(NAMESPACES):
        for store in (ours, reference):
            await store.aput(labels, f"id_{number}", {"data": f"value_{number:02d}"})
    for query in QUERIES:
        assert await ours.alist_namespaces(**query) == await reference.alist_namespaces(
            **query), query


async def test_list_namespaces_pages_in_order(backend_store: Store) -> None:
    store = SynapticStore(backend_store)
    for number in range(20):
        await store.aput(("namespace", f"sub_{number:02d}"), "k", {"n": number})
    for offset in (0, 5, 15):
        assert await store.alist_namespaces(prefix=("namespace",), limit=5, offset=offset) == [
            ("namespace", f"sub_{n:02d}") for n in range(offset, offset + 5)]


async def test_an_empty_store_lists_nothing(backend_store: Store) -> None:
    assert await SynapticStore(backend_store).alist_namespaces() == []
