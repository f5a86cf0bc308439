"""The Store contract, run against every backend (memory, files, S3 on moto and SeaweedFS)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from synaptic_s3 import ConflictError, InvalidDataError, InvalidKeyError, NotFoundError, Store
from synaptic_s3.core.store import Entry

NS = ("things",)

BAD_NAMES = [
    "", ".", "..", ".hidden", "a/b", "a\\b", "nul\x00", "tab\t", "newline\n", "del\x7f",
    "x" * 201, "surrogate\ud800", "nonchar\ufffe", "nonchar\U0010ffff", "nonchar\ufdd0",
]


async def test_get_of_a_missing_key_is_none(store: Store) -> None:
    assert await store.get(NS, "missing") is None


async def test_put_then_get_returns_the_value_and_its_version(store: Store) -> None:
    version = await store.put(NS, "k", {"a": [1, 2.5, "three", None, True]})
    item = await store.get(NS, "k")
    assert item is not None
    assert item.value == {"a": [1, 2.5, "three", None, True]}
    assert (item.namespace, item.key, item.version) == (NS, "k", version)
    assert item.created_at <= item.updated_at


@pytest.mark.parametrize("value", [None, "text", 0, -1.5, True, [], {}, ["é", "漢字", "🙂"]])
async def test_any_json_value_round_trips(store: Store, value: Any) -> None:
    await store.put(NS, "v", value)
    item = await store.get(NS, "v")
    assert item is not None
    assert item.value == value


async def test_put_overwrites_and_changes_the_version(store: Store) -> None:
    first = await store.put(NS, "k", 1)
    second = await store.put(NS, "k", 2)
    item = await store.get(NS, "k")
    assert item is not None
    assert item.value == 2
    assert first != second


@pytest.mark.parametrize("value", [{1, 2}, object(), math.nan, {"x": math.inf}, b"bytes"])
async def test_a_value_that_is_not_json_is_rejected_and_nothing_is_stored(
    store: Store, value: Any
) -> None:
    with pytest.raises(InvalidDataError):
        await store.put(NS, "bad", value)
    assert await store.get(NS, "bad") is None


async def test_values_are_copies_not_shared_objects(store: Store) -> None:
    value = {"list": [1]}
    await store.put(NS, "k", value)
    value["list"].append(2)
    item = await store.get(NS, "k")
    assert item is not None
    assert item.value == {"list": [1]}


async def test_if_absent_creates_a_missing_item(store: Store) -> None:
    await store.put(NS, "new", "v", if_absent=True)
    item = await store.get(NS, "new")
    assert item is not None
    assert item.value == "v"


async def test_if_absent_refuses_to_overwrite(store: Store) -> None:
    await store.put(NS, "k", "original")
    with pytest.raises(ConflictError):
        await store.put(NS, "k", "intruder", if_absent=True)
    item = await store.get(NS, "k")
    assert item is not None
    assert item.value == "original"


async def test_if_version_replaces_the_version_that_was_read(store: Store) -> None:
    version = await store.put(NS, "k", 1)
    new_version = await store.put(NS, "k", 2, if_version=version)
    item = await store.get(NS, "k")
    assert item is not None
    assert (item.value, item.version) == (2, new_version)


async def test_if_version_refuses_a_stale_version(store: Store) -> None:
    stale = await store.put(NS, "k", 1)
    await store.put(NS, "k", 2)
    with pytest.raises(ConflictError):
        await store.put(NS, "k", 3, if_version=stale)
    item = await store.get(NS, "k")
    assert item is not None
    assert item.value == 2


async def test_if_version_refuses_a_deleted_item(store: Store) -> None:
    version = await store.put(NS, "k", 1)
    await store.delete(NS, "k")
    with pytest.raises(ConflictError):
        await store.put(NS, "k", 2, if_version=version)
    assert await store.get(NS, "k") is None


async def test_if_absent_and_if_version_together_are_a_usage_error(store: Store) -> None:
    with pytest.raises(ValueError, match="exclude"):
        await store.put(NS, "k", 1, if_absent=True, if_version='"v"')


async def test_compare_and_swap_lets_exactly_one_of_many_racers_win(store: Store) -> None:
    version = await store.put(NS, "counter", 0)

    async def bump(n: int) -> bool:
        try:
            await store.put(NS, "counter", n, if_version=version)
        except ConflictError:
            return False
        return True

    outcomes = await asyncio.gather(*(bump(n) for n in range(1, 9)))
    assert outcomes.count(True) == 1


async def test_delete_removes_the_item(store: Store) -> None:
    await store.put(NS, "k", 1)
    await store.delete(NS, "k")
    assert await store.get(NS, "k") is None


async def test_delete_of_a_missing_item_is_not_an_error(store: Store) -> None:
    await store.delete(NS, "never-was")
    assert await store.get(NS, "never-was") is None


async def test_the_same_key_in_different_namespaces_is_a_different_item(store: Store) -> None:
    await store.put(("a",), "k", "in a")
    await store.put(("a", "b"), "k", "in a/b")
    await store.put(("b",), "k", "in b")
    values = [(await store.get(ns, "k")).value for ns in [("a",), ("a", "b"), ("b",)]]  # type: ignore[union-attr]
    assert values == ["in a", "in a/b", "in b"]


async def test_list_keys_returns_direct_keys_only_in_order(store: Store) -> None:
    for key in ["b", "a", "c"]:
        await store.put(NS, key, key)
    await store.put((*NS, "sub"), "z", "nested")
    page = await store.list_keys(NS)
    assert page.keys == ["a", "b", "c"]
    assert page.next_after is None


async def test_list_keys_orders_keys_as_object_paths(store: Store) -> None:
    # "a-b.json" sorts before "a.json" byte-wise: S3's order, kept on every backend.
    for key in ["a", "a-b", "ab"]:
        await store.put(NS, key, key)
    assert (await store.list_keys(NS)).keys == ["a-b", "a", "ab"]


async def test_list_keys_pages_with_limit_and_after(store: Store) -> None:
    keys = [f"k{i:02d}" for i in range(7)]
    await asyncio.gather(*(store.put(NS, key, key) for key in keys))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = await store.list_keys(NS, after=after, limit=3)
        seen.extend(page.keys)
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == keys
    assert pages == 3


async def test_list_keys_after_a_key_that_does_not_exist(store: Store) -> None:
    for key in ["k1", "k3"]:
        await store.put(NS, key, key)
    assert (await store.list_keys(NS, after="k2")).keys == ["k3"]


async def test_list_keys_of_an_empty_namespace_is_empty(store: Store) -> None:
    page = await store.list_keys(("nothing", "here"))
    assert (page.keys, page.next_after) == ([], None)


async def test_iter_keys_walks_every_page(store: Store) -> None:
    await asyncio.gather(*(store.put(NS, f"k{i}", i) for i in range(5)))
    assert sorted([key async for key in store.iter_keys(NS)]) == [f"k{i}" for i in range(5)]


async def test_list_namespaces_lists_namespaces_holding_items(store: Store) -> None:
    await store.put(("memory", "s1"), "messages", [])
    await store.put(("memory", "s2"), "summary", "x")
    await store.put(("sessions",), "s1", {})
    assert await store.list_namespaces() == [("memory", "s1"), ("memory", "s2"), ("sessions",)]
    assert await store.list_namespaces(("memory",)) == [("memory", "s1"), ("memory", "s2")]


async def test_list_namespaces_matches_whole_labels_only(store: Store) -> None:
    await store.put(("tenant", "acme"), "k", 1)
    await store.put(("tenant", "acme-corp"), "k", 1)
    assert await store.list_namespaces(("tenant", "acme")) == [("tenant", "acme")]


async def test_delete_namespace_removes_items_and_sub_namespaces(store: Store) -> None:
    await store.put(("memory", "abc"), "messages", [])
    await store.put(("memory", "abc"), "summary", "s")
    await store.put(("memory", "abc", "deeper"), "k", 1)
    assert await store.delete_namespace(("memory", "abc")) == 3
    assert await store.list_namespaces(("memory",)) == []


async def test_delete_namespace_never_touches_a_namespace_sharing_a_prefix(store: Store) -> None:
    await store.put(("memory", "abc"), "messages", [])
    await store.put(("memory", "abcd"), "messages", ["kept"])
    await store.put(("memory",), "abc", "a key named like the namespace")
    await store.delete_namespace(("memory", "abc"))
    kept = await store.get(("memory", "abcd"), "messages")
    assert kept is not None
    assert kept.value == ["kept"]
    assert await store.get(("memory",), "abc") is not None


async def test_delete_namespace_is_idempotent(store: Store) -> None:
    await store.put(("gone",), "k", 1)
    assert await store.delete_namespace(("gone",)) == 1
    assert await store.delete_namespace(("gone",)) == 0


async def test_get_many_returns_found_items_in_the_order_asked(store: Store) -> None:
    await asyncio.gather(*(store.put(NS, key, key) for key in ["x", "y", "z"]))
    items = await store.get_many(NS, ["z", "missing", "x"])
    assert [item.key for item in items] == ["z", "x"]


async def test_search_lists_items_of_a_namespace_in_key_order(store: Store) -> None:
    await asyncio.gather(*(store.put(NS, f"k{i}", {"n": i}) for i in range(4)))
    await store.put((*NS, "sub"), "k9", {"n": 9})
    items = await store.search(NS, limit=10)
    assert [item.value["n"] for item in items] == [0, 1, 2, 3]


async def test_search_filters_by_query_in_key_or_value(store: Store) -> None:
    await store.put(NS, "apple", {"colour": "red"})
    await store.put(NS, "banana", {"colour": "yellow"})
    await store.put(NS, "cherry", {"colour": "red"})
    assert [i.key for i in await store.search(NS, query="red")] == ["apple", "cherry"]
    assert [i.key for i in await store.search(NS, query="banana")] == ["banana"]


async def test_search_applies_limit_and_offset(store: Store) -> None:
    await asyncio.gather(*(store.put(NS, f"k{i}", i) for i in range(6)))
    items = await store.search(NS, limit=2, offset=3)
    assert [item.key for item in items] == ["k3", "k4"]


@pytest.mark.parametrize("bad", BAD_NAMES)
async def test_invalid_keys_are_rejected_before_any_io(store: Store, bad: str) -> None:
    with pytest.raises(InvalidKeyError):
        await store.put(NS, bad, 1)
    with pytest.raises(InvalidKeyError):
        await store.get(NS, bad)
    with pytest.raises(InvalidKeyError):
        await store.delete(NS, bad)


@pytest.mark.parametrize("bad", [*BAD_NAMES, "ends.json"])
async def test_invalid_namespace_parts_are_rejected_before_any_io(store: Store, bad: str) -> None:
    with pytest.raises(InvalidKeyError):
        await store.put(("ok", bad), "k", 1)
    with pytest.raises(InvalidKeyError):
        await store.list_keys(("ok", bad))
    with pytest.raises(InvalidKeyError):
        await store.delete_namespace(("ok", bad))


async def test_an_empty_namespace_is_rejected(store: Store) -> None:
    with pytest.raises(InvalidKeyError):
        await store.put((), "k", 1)
    with pytest.raises(InvalidKeyError):
        await store.delete_namespace(())


async def test_a_string_is_not_taken_for_a_namespace(store: Store) -> None:
    with pytest.raises(InvalidKeyError):
        await store.put("sessions", "k", 1)  # type: ignore[arg-type]


async def test_stores_are_async_context_managers(store: Store) -> None:
    async with store as entered:
        assert entered is store


async def test_delete_namespaces_removes_each_namespace_and_nothing_else(store: Store) -> None:
    await store.put(("memory", "s1"), "messages", [])
    await store.put(("memory", "s1"), "summary", "s")
    await store.put(("checkpoints", "s1"), "c1", {})
    await store.put(("checkpoints", "s10"), "c1", {"kept": True})
    deleted = await store.delete_namespaces([("memory", "s1"), ("checkpoints", "s1")])
    assert deleted == 3
    assert await store.list_namespaces() == [("checkpoints", "s10")]


# -- the contract's shape: backends implement primitives, never the public methods ------------

def test_backends_and_wrappers_leave_every_public_method_to_store(store: Store) -> None:
    from synaptic_s3.core.store import PUBLIC_METHODS
    from synaptic_s3.core.wrapper import StoreWrapper
    from synaptic_s3.service.isolation import ScopedStore

    for cls in (type(store), StoreWrapper, ScopedStore):
        overridden = [name for name in PUBLIC_METHODS
                      if getattr(cls, name) is not getattr(Store, name)]
        assert overridden == [], f"{cls.__name__} overrides {overridden}"


# -- copy ---------------------------------------------------------------------------------------

async def test_copy_duplicates_the_value_and_leaves_the_source(store: Store) -> None:
    await store.put(("sessions", "a"), "messages", [{"id": "m1"}, "é🙂"])
    version = await store.copy(("sessions", "a"), "messages", ("sessions", "b"), "messages")
    copied = await store.get(("sessions", "b"), "messages")
    source = await store.get(("sessions", "a"), "messages")
    assert copied is not None
    assert source is not None
    assert (copied.value, copied.version) == ([{"id": "m1"}, "é🙂"], version)
    assert source.value == [{"id": "m1"}, "é🙂"]


async def test_copy_overwrites_the_destination_by_default(store: Store) -> None:
    await store.put(NS, "src", "new")
    await store.put(NS, "dst", "old")
    await store.copy(NS, "src", NS, "dst")
    copied = await store.get(NS, "dst")
    assert copied is not None
    assert copied.value == "new"


async def test_copy_if_absent_creates_a_missing_destination(store: Store) -> None:
    await store.put(NS, "src", {"v": 1})
    await store.copy(NS, "src", ("other",), "dst", if_absent=True)
    copied = await store.get(("other",), "dst")
    assert copied is not None
    assert copied.value == {"v": 1}


async def test_copy_if_absent_refuses_an_existing_destination(store: Store) -> None:
    await store.put(NS, "src", "new")
    await store.put(NS, "dst", "old")
    with pytest.raises(ConflictError):
        await store.copy(NS, "src", NS, "dst", if_absent=True)
    kept = await store.get(NS, "dst")
    assert kept is not None
    assert kept.value == "old"


async def test_copy_of_a_missing_source_is_not_found_and_writes_nothing(store: Store) -> None:
    with pytest.raises(NotFoundError):
        await store.copy(NS, "missing", NS, "dst")
    with pytest.raises(NotFoundError):
        await store.copy(NS, "missing", NS, "dst", if_absent=True)
    assert await store.get(NS, "dst") is None


async def test_copy_onto_itself_changes_nothing(store: Store) -> None:
    version = await store.put(NS, "k", "v")
    assert await store.copy(NS, "k", NS, "k") == version
    with pytest.raises(ConflictError):
        await store.copy(NS, "k", NS, "k", if_absent=True)


async def test_concurrent_copies_if_absent_let_exactly_one_win(store: Store) -> None:
    await asyncio.gather(*(store.put(NS, f"src{n}", n) for n in range(6)))

    async def attempt(n: int) -> bool:
        try:
            await store.copy(NS, f"src{n}", NS, "dst", if_absent=True)
        except ConflictError:
            return False
        return True

    outcomes = await asyncio.gather(*(attempt(n) for n in range(6)))
    assert outcomes.count(True) == 1
    winner = await store.get(NS, "dst")
    assert winner is not None
    assert winner.value == outcomes.index(True)


@pytest.mark.parametrize("bad", ["", ".x", "a/b"])
async def test_copy_validates_both_addresses_before_any_io(store: Store, bad: str) -> None:
    await store.put(NS, "src", 1)
    with pytest.raises(InvalidKeyError):
        await store.copy(NS, "src", NS, bad)
    with pytest.raises(InvalidKeyError):
        await store.copy((bad,), "src", NS, "dst")
    assert await store.get(NS, "dst") is None


# -- iter_entries -------------------------------------------------------------------------------

async def _entries(store: Store, prefix: tuple[str, ...] = ()) -> list[Entry]:
    return [entry async for page in store.iter_entries(prefix) for entry in page]


async def test_iter_entries_of_an_empty_store_yields_no_page(store: Store) -> None:
    assert [page async for page in store.iter_entries()] == []
    assert [page async for page in store.iter_entries(("nothing",))] == []


async def test_iter_entries_lists_items_and_sub_namespaces_in_path_order(store: Store) -> None:
    await store.put(("memory", "s1"), "messages", [1, 2, 3])
    await store.put(("memory", "s1", "deeper"), "k", "x")
    await store.put(("memory", "s2"), "summary", "é")
    await store.put(("sessions",), "s1", {})
    entries = await _entries(store, ("memory",))
    assert [(e.namespace, e.key) for e in entries] == [
        (("memory", "s1", "deeper"), "k"), (("memory", "s1"), "messages"),
        (("memory", "s2"), "summary"),
    ]
    everything = await _entries(store)
    assert [(e.namespace, e.key) for e in everything][-1] == (("sessions",), "s1")
    assert len(everything) == 4


async def test_iter_entries_reports_size_in_bytes_and_an_aware_utc_time(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await store.put(NS, "k", "é")  # '"é"': 4 bytes of UTF-8
    [entry] = await _entries(store, NS)
    assert entry.size == 4
    assert entry.updated_at.utcoffset() == timedelta(0)
    assert before <= entry.updated_at <= datetime.now(UTC) + timedelta(seconds=5)


async def test_iter_entries_matches_whole_labels_only(store: Store) -> None:
    await store.put(("tenant", "abc"), "k", 1)
    await store.put(("tenant", "abcd"), "k", 2)
    await store.put(("tenant",), "abc", 3)
    entries = await _entries(store, ("tenant", "abc"))
    assert [(e.namespace, e.key) for e in entries] == [(("tenant", "abc"), "k")]


@pytest.mark.parametrize(("count", "pages"), [(1001, [1000, 1])])
async def test_iter_entries_pages_by_1000(store: Store, count: int, pages: list[int]) -> None:
    # Exactly 1,000 and 999 on S3 are pinned (with their request counts) in
    # tests/perf/test_store_counts.py, where seeding thousands of objects is cheap.
    from synaptic_s3.core.retry import gather_bounded

    await gather_bounded((store.put(NS, f"k{i:05d}", i) for i in range(count)), 32)
    sizes = [len(page) async for page in store.iter_entries(NS)]
    keys = [entry.key for entry in await _entries(store, NS)]
    assert sizes == pages
    assert keys == [f"k{i:05d}" for i in range(count)]


async def test_iter_entries_rejects_an_invalid_prefix(store: Store) -> None:
    with pytest.raises(InvalidKeyError):
        await _entries(store, ("ok", "a/b"))
