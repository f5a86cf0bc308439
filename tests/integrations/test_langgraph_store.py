"""SynapticStore against LangGraph's own InMemoryStore: the same operations, the
same answers (on memory, files and S3 over HTTP); then what only ours promises."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langgraph.store.memory")

from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    SearchOp,
)
from langgraph.store.memory import InMemoryStore as ReferenceStore

from synaptic_s3 import InMemoryStore, Store
from synaptic_s3.core.errors import InvalidDataError, InvalidKeyError
from synaptic_s3.integrations.langgraph_store import SynapticStore

ITEMS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = sorted([
    (("docs",), "intro", {"kind": "doc", "score": 1, "meta": {"lang": "en"}}),
    (("docs",), "setup", {"kind": "doc", "score": 4, "meta": {"lang": "de"}}),
    (("docs", "drafts"), "wip", {"kind": "doc", "score": 2, "tags": ["a", "b"]}),
    (("tenant", "acme"), "alice", {"kind": "user", "score": 5, "meta": {"lang": "en"}}),
    (("tenant", "acme"), "bob", {"kind": "user", "score": 3}),
    (("tenant", "acme"), "carol", {"kind": "user", "score": 1, "tags": ["a", "b"]}),
    (("tenant", "acme", "users"), "dave", {"kind": "user", "score": 7}),
    (("tenant", "acme-corp"), "eve", {"kind": "user", "score": 9}),
    (("tenant", "acme/labs"), "lab/1", {"kind": "lab", "score": 2}),
    (("tenant", "ünïcode"), "k", {"kind": "user", "score": 6, "meta": {"lang": "en"}}),
])

# InMemoryStore returns items in insertion order, ours in namespace then key order: the
# script inserts in that order so that the two orders agree.
prefix = MatchCondition("prefix", ("tenant",))
STEPS: list[list[Op]] = [
    [PutOp(ns, key, value) for ns, key, value in ITEMS],
    [GetOp(("tenant", "acme"), "bob"), GetOp(("tenant", "acme"), "nobody"),
     GetOp(("tenant", "acme/labs"), "lab/1"), GetOp(("tenant", "ünïcode"), "k")],
    [SearchOp(("tenant", "acme")), SearchOp(("tenant", "acme"), limit=2, offset=1),
     SearchOp(("tenant",), filter={"kind": "user"}, limit=3, offset=2),
     SearchOp((), filter={"score": {"$gte": 3}}),
     SearchOp((), filter={"score": {"$gt": 1, "$lt": 6}}, limit=3),
     SearchOp((), filter={"meta": {"lang": "en"}}),
     SearchOp((), filter={"kind": {"$ne": "user"}}),
     SearchOp((), filter={"tags": ["a", "b"]}),
     SearchOp(("docs",), filter={"score": {"$lte": 2}, "kind": {"$eq": "doc"}}),
     SearchOp(("tenant", "acme-co")), SearchOp((), limit=100), SearchOp((), offset=8)],
    [ListNamespacesOp(), ListNamespacesOp((prefix,)), ListNamespacesOp((prefix,), max_depth=2),
     ListNamespacesOp(max_depth=1), ListNamespacesOp((MatchCondition("suffix", ("users",)),)),
     ListNamespacesOp((MatchCondition("prefix", ("tenant", "*", "users")),)),
     ListNamespacesOp((MatchCondition("suffix", ("*",)), prefix), limit=2, offset=1),
     ListNamespacesOp((MatchCondition("prefix", ("tenant", "acme")),))],
    # in one batch, reads see the state before the batch's writes; the last write wins
    [GetOp(("tenant", "acme"), "bob"), PutOp(("tenant", "acme"), "bob", {"kind": "x"}),
     PutOp(("tenant", "acme"), "bob", {"kind": "user", "score": 8}),
     GetOp(("tenant", "acme"), "bob")],
    [GetOp(("tenant", "acme"), "bob"), SearchOp(("tenant", "acme"), filter={"score": 8})],
    [PutOp(("tenant", "acme"), "carol", None), PutOp(("docs",), "intro", None),
     PutOp(("docs",), "tutorial", {"kind": "doc", "score": 3})],
    [GetOp(("tenant", "acme"), "carol"), SearchOp(("tenant", "acme")),
     SearchOp(("docs",)), SearchOp((), filter={"kind": "doc"})],
]


def comparable(result: Any) -> Any:
    """Results without timestamps (they differ by construction)."""
    if isinstance(result, list):
        return [comparable(entry) for entry in result]
    if hasattr(result, "key") and hasattr(result, "namespace"):
        return (tuple(result.namespace), result.key, result.value,
                getattr(result, "score", None))
    return result


async def test_same_answers_as_langgraphs_in_memory_store(backend_store: Store) -> None:
    ours, reference = SynapticStore(backend_store), ReferenceStore()
    for step, ops in enumerate(STEPS):
        expected = comparable(await reference.abatch(ops))
        assert comparable(await ours.abatch(ops)) == expected, f"step {step}"


def test_sync_methods_give_the_same_answers() -> None:
    ours, reference = SynapticStore(InMemoryStore()), ReferenceStore()
    stores: list[BaseStore] = [ours, reference]
    for store in stores:
        for ns, key, value in ITEMS:
            store.put(ns, key, value)
    for method, args, kwargs in [
        ("get", (("tenant", "acme"), "alice"), {}),
        ("search", (("tenant",),), {"filter": {"score": {"$gt": 4}}, "limit": 2}),
        ("list_namespaces", (), {"prefix": ("tenant",), "max_depth": 2}),
    ]:
        answers = [comparable(getattr(store, method)(*args, **kwargs)) for store in stores]
        assert answers[0] == answers[1], method
    for store in stores:
        store.delete(("tenant", "acme"), "alice")
    assert ours.get(("tenant", "acme"), "alice") is None


async def test_prefixes_match_whole_labels(s3_store: Store) -> None:
    store = SynapticStore(s3_store)
    await store.aput(("tenant", "acme"), "a", {"n": 1})
    await store.aput(("tenant", "acme-corp"), "b", {"n": 2})
    await store.aput(("tenant", "acme", "team"), "c", {"n": 3})
    found = await store.asearch(("tenant", "acme"))
    assert [(item.namespace, item.key) for item in found] == [
        (("tenant", "acme"), "a"), (("tenant", "acme", "team"), "c")]
    assert await store.alist_namespaces(prefix=("tenant", "acme")) == [
        ("tenant", "acme"), ("tenant", "acme", "team")]


async def test_a_slash_in_a_label_stays_inside_one_level(s3_store: Store) -> None:
    store = SynapticStore(s3_store)
    await store.aput(("users", "alice/x"), "k/1", {"n": 1})
    assert await s3_store.list_namespaces(("langgraph-store",)) == [
        ("langgraph-store", "users", "!alice!2Fx")]
    assert await store.alist_namespaces() == [("users", "alice/x")]
    assert await store.asearch(("users", "alice")) == []


async def test_labels_too_long_for_a_key_still_list_by_name() -> None:
    store = SynapticStore(InMemoryStore())
    long_label = "section:" * 40
    await store.aput(("books", long_label), "k", {"n": 1})
    assert await store.alist_namespaces(prefix=("books",)) == [("books", long_label)]
    item = await store.aget(("books", long_label), "k")
    assert item is not None
    assert item.value == {"n": 1}


async def test_updates_keep_created_at(s3_store: Store) -> None:
    store = SynapticStore(s3_store)
    await store.aput(("notes",), "k", {"v": 1})
    first = await store.aget(("notes",), "k")
    await store.aput(("notes",), "k", {"v": 2})
    second = await store.aget(("notes",), "k")
    assert first is not None
    assert second is not None
    assert second.value == {"v": 2}
    assert second.created_at == first.created_at
    assert second.updated_at >= first.updated_at


async def test_emptied_namespaces_are_not_listed() -> None:
    """Unlike InMemoryStore (which keeps listing them), like a database-backed store."""
    store = SynapticStore(InMemoryStore())
    await store.aput(("a",), "k", {"v": 1})
    await store.adelete(("a",), "k")
    await store.aget(("never", "written"), "k")
    assert await store.alist_namespaces() == []


async def test_concurrent_writers_all_land() -> None:
    store = SynapticStore(InMemoryStore())
    await asyncio.gather(*(store.aput(("race",), "k", {"writer": n}) for n in range(8)))
    await asyncio.gather(*(store.aput(("race",), f"k{n}", {"n": n}) for n in range(8)))
    assert len(await store.asearch(("race",), limit=100)) == 9


async def test_namespaces_deeper_than_the_key_space_are_refused() -> None:
    store = SynapticStore(InMemoryStore())
    with pytest.raises(InvalidKeyError):
        await store.aput(tuple(f"l{n}" for n in range(16)), "k", {"v": 1})


async def test_values_must_be_json() -> None:
    store = SynapticStore(InMemoryStore())
    with pytest.raises(InvalidDataError):
        await store.aput(("a",), "k", {"v": object()})


async def test_labels_handed_straight_to_batch_are_checked_as_langgraph_says() -> None:
    """``validate_op_namespace`` is LangGraph's rule for ops that skip the public
    methods (InMemoryStore skips it; its persistent stores apply it)."""
    store = SynapticStore(InMemoryStore())
    for labels in (("a.b",), ("a", ""), ("a\x00",)):
        with pytest.raises(InvalidNamespaceError):
            await store.abatch([PutOp(labels, "k", {"v": 1})])
