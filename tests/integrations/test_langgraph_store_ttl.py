"""SynapticStore's TTL (what LangGraph's SQLite and Postgres TTL tests check: expiry
per item and by default, refresh on read, expired items invisible before the sweep,
filtering before limit/offset, the sweep and the sweeper), with a clock the tests
move instead of sleeping; then the coalescing of identical concurrent reads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("langgraph.store.base")

from synaptic_s3 import InMemoryStore, Store
from synaptic_s3.core.errors import InvalidDataError
from synaptic_s3.core.store import KeyPage
from synaptic_s3.integrations.langgraph_store import SynapticStore

from .stores import CountingStore, WrappingStore

START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ttl_store(backend: Store, clock: Clock, **config: object) -> SynapticStore:
    return SynapticStore(backend, ttl=config or None, clock=clock)  # type: ignore[arg-type]


def test_supports_ttl() -> None:
    assert SynapticStore(InMemoryStore()).supports_ttl is True


async def test_an_item_expires_after_its_ttl(backend_store: Store, clock: Clock) -> None:
    store = ttl_store(backend_store, clock)
    await store.aput(("omit", "expired"), "e", {"data": "gone"}, ttl=5)
    await store.aput(("omit", "control"), "c", {"data": "keep"})
    clock.advance(4.9)
    assert await store.aget(("omit", "expired"), "e", refresh_ttl=False) is not None
    clock.advance(0.2)
    assert await store.aget(("omit", "expired"), "e") is None
    assert await store.aget(("omit", "control"), "c") is not None
    assert await store.asearch(("omit", "expired")) == []
    assert [item.key for item in await store.asearch(("omit",))] == ["c"]
    assert await store.alist_namespaces(prefix=("omit",)) == [("omit", "control")]


async def test_reading_refreshes_the_ttl(backend_store: Store, clock: Clock) -> None:
    store = ttl_store(backend_store, clock)
    await store.aput(("r",), "got", {"n": 1}, ttl=10)
    await store.aput(("r",), "found", {"n": 2}, ttl=10)
    await store.aput(("r",), "untouched", {"n": 3}, ttl=10)
    clock.advance(8)
    assert await store.aget(("r",), "got") is not None
    assert len(await store.asearch(("r",), filter={"n": 2})) == 1
    clock.advance(8)  # 16 minutes after the puts, 8 after the reads
    assert await store.aget(("r",), "got", refresh_ttl=False) is not None
    assert await store.aget(("r",), "found", refresh_ttl=False) is not None
    assert await store.aget(("r",), "untouched") is None


async def test_refresh_ttl_false_does_not_extend(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock)
    await store.aput(("r",), "k", {"n": 1}, ttl=10)
    clock.advance(8)
    assert await store.aget(("r",), "k", refresh_ttl=False) is not None
    clock.advance(3)
    assert await store.aget(("r",), "k") is None


async def test_refresh_on_read_false_in_the_config_is_the_default(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock, refresh_on_read=False)
    await store.aput(("r",), "k", {"n": 1}, ttl=10)
    clock.advance(8)
    assert await store.aget(("r",), "k") is not None
    clock.advance(3)
    assert await store.aget(("r",), "k") is None


async def test_a_refresh_never_resurrects_an_expired_item(clock: Clock) -> None:
    backend = InMemoryStore()
    store = ttl_store(backend, clock)
    await store.aput(("r",), "k", {"n": 1}, ttl=1)
    clock.advance(2)
    before = await backend.get(("langgraph-store", "r"), "k")
    assert await store.aget(("r",), "k", refresh_ttl=True) is None
    assert await store.asearch(("r",), refresh_ttl=True) == []
    assert await backend.get(("langgraph-store", "r"), "k") == before


async def test_a_refresh_that_would_barely_move_the_expiry_writes_nothing(clock: Clock) -> None:
    counting = CountingStore(InMemoryStore())
    store = ttl_store(counting, clock)
    await store.aput(("r",), "k", {"n": 1}, ttl=600)  # 1% of 10 h: the 60 s cap
    clock.advance(0.5)
    counting.reset()
    assert await store.aget(("r",), "k") is not None
    assert counting.calls == {"get": 1}
    clock.advance(1)
    counting.reset()
    assert await store.aget(("r",), "k") is not None
    assert counting.calls == {"get": 1, "put": 1}


async def test_the_default_ttl_applies_and_none_keeps_forever(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock, default_ttl=5)
    await store.aput(("d",), "short", {"n": 1}, ttl=1)
    await store.aput(("d",), "default", {"n": 2})
    await store.aput(("d",), "forever", {"n": 3}, ttl=None)
    clock.advance(2)
    assert [i.key for i in await store.asearch(("d",), refresh_ttl=False)] == [
        "default", "forever"]
    clock.advance(4)
    assert [i.key for i in await store.asearch(("d",))] == ["forever"]


async def test_expired_items_are_filtered_before_limit_and_offset(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock)
    for key in ("a", "b", "c"):
        await store.aput(("p",), key, {"k": key}, ttl=10)
    await store.aput(("p",), "ab", {"k": "x"}, ttl=1)  # sorts between a and b
    clock.advance(2)
    assert [i.key for i in await store.asearch(("p",), limit=2)] == ["a", "b"]
    assert [i.key for i in await store.asearch(("p",), limit=2, offset=2)] == ["c"]


async def test_an_update_without_ttl_makes_the_item_permanent(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock)
    await store.aput(("u",), "k", {"v": 1}, ttl=1)
    await store.aput(("u",), "k", {"v": 2})
    clock.advance(5)
    item = await store.aget(("u",), "k")
    assert item is not None
    assert item.value == {"v": 2}


async def test_a_put_over_an_expired_item_starts_a_new_one(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock)
    await store.aput(("u",), "k", {"v": 1}, ttl=1)
    clock.advance(5)
    await store.aput(("u",), "k", {"v": 2})
    item = await store.aget(("u",), "k")
    assert item is not None
    assert item.created_at == clock.now


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), "5"])
async def test_a_ttl_must_be_a_positive_number(ttl: object) -> None:
    from langgraph.store.base import PutOp

    with pytest.raises(InvalidDataError):
        await SynapticStore(InMemoryStore()).abatch([PutOp(("t",), "k", {"v": 1},
                                                           ttl=ttl)])  # type: ignore[arg-type]


async def test_the_sweep_deletes_expired_items_and_their_markers(
    backend_store: Store, clock: Clock
) -> None:
    store = ttl_store(backend_store, clock)
    await store.aput(("s", "a"), "short", {"n": 1}, ttl=1)
    await store.aput(("s", "a"), "long", {"n": 2}, ttl=10)
    await store.aput(("s", "b"), "forever", {"n": 3})
    assert await store.asweep_ttl() == 0
    clock.advance(2)
    assert await store.asweep_ttl() == 1
    assert await backend_store.get(("langgraph-store", "s", "a"), "short") is None
    assert await backend_store.list_keys(("langgraph-store.ttl", "s", "a")) == KeyPage(
        ["long"], None)
    clock.advance(10)
    assert await store.asweep_ttl() == 1
    assert await backend_store.list_namespaces(("langgraph-store.ttl",)) == []
    assert await store.alist_namespaces() == [("s", "b")]


async def test_the_sweep_drops_markers_of_items_that_no_longer_expire(clock: Clock) -> None:
    backend = InMemoryStore()
    store = ttl_store(backend, clock)
    await store.aput(("s",), "kept", {"n": 1}, ttl=1)
    await store.aput(("s",), "kept", {"n": 2})
    await store.aput(("s",), "gone", {"n": 3}, ttl=1)
    await store.adelete(("s",), "gone")
    # a process that died between the marker and the item leaves a marker alone
    await backend.put(("langgraph-store.ttl", "s"), "orphan", {"namespace": ["s"],
                                                                "key": "orphan"})
    assert await store.asweep_ttl() == 0
    assert await backend.list_namespaces(("langgraph-store.ttl",)) == []
    assert [i.key for i in await store.asearch(("s",))] == ["kept"]


def test_sweep_ttl_runs_from_synchronous_code(clock: Clock) -> None:
    store = ttl_store(InMemoryStore(), clock)
    store.put(("s",), "k", {"n": 1}, ttl=1)
    clock.advance(2)
    assert store.sweep_ttl() == 1


class DeleteSignal(WrappingStore):
    """Sets ``deleted`` when an item is deleted (how a test waits for the sweeper)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.deleted = threading.Event()

    async def delete(self, namespace: Sequence[str], key: str) -> None:
        await super().delete(namespace, key)
        if namespace[0] == "langgraph-store":
            self.deleted.set()


async def test_the_async_sweeper_deletes_expired_items(clock: Clock) -> None:
    backend = DeleteSignal(InMemoryStore())
    store = SynapticStore(backend, ttl={"sweep_interval_minutes": 1}, clock=clock)
    await store.aput(("s",), "k", {"n": 1}, ttl=1)
    clock.advance(2)
    task = await store.astart_ttl_sweeper(sweep_interval_minutes=0.001)
    try:
        await asyncio.to_thread(backend.deleted.wait, 30)
    finally:
        assert store.stop_ttl_sweeper()
    assert backend.deleted.is_set()
    assert await backend.get(("langgraph-store", "s"), "k") is None
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_sync_sweeper_deletes_expired_items(clock: Clock) -> None:
    backend = DeleteSignal(InMemoryStore())
    store = SynapticStore(backend, ttl={"sweep_interval_minutes": 1}, clock=clock)
    store.put(("s",), "k", {"n": 1}, ttl=1)
    clock.advance(2)
    future = store.start_ttl_sweeper()
    try:
        assert backend.deleted.wait(30)
    finally:
        assert store.stop_ttl_sweeper(timeout=30)
    assert future.cancelled()
    assert store.get(("s",), "k") is None


def test_a_sweeper_needs_an_interval() -> None:
    with pytest.raises(InvalidDataError):
        SynapticStore(InMemoryStore()).start_ttl_sweeper()


# -- identical concurrent reads share one request -----------------------------------------


async def seeded(backend: Store | None = None, keys: int = 5
                 ) -> tuple[CountingStore, SynapticStore]:
    counting = CountingStore(backend or InMemoryStore())
    store = SynapticStore(counting)
    for n in range(keys):
        await store.aput(("shared",), f"k{n}", {"n": n})
    counting.reset()
    return counting, store


async def test_concurrent_identical_searches_list_and_read_once(backend_store: Store) -> None:
    counting, store = await seeded(backend_store)
    results = await asyncio.gather(*(store.asearch(("shared",)) for _ in range(200)))
    assert all(len(found) == 5 for found in results)
    assert counting.calls == {"list_namespaces": 1, "list_keys": 1, "get": 5}


async def test_concurrent_identical_gets_read_once() -> None:
    counting, store = await seeded()
    results = await asyncio.gather(*(store.aget(("shared",), "k1") for _ in range(200)))
    assert {item.value["n"] for item in results if item is not None} == {1}
    assert counting.calls == {"get": 1}


async def test_concurrent_listings_list_once() -> None:
    counting, store = await seeded()
    results = await asyncio.gather(*(store.alist_namespaces() for _ in range(200)))
    assert all(found == [("shared",)] for found in results)
    # the namespaces, and the TTL markers' namespaces (none here)
    assert counting.calls == {"list_namespaces": 2}


async def test_sequential_reads_are_not_shared() -> None:
    counting, store = await seeded()
    await store.asearch(("shared",))
    await store.asearch(("shared",))
    assert counting.calls["list_keys"] == 2


class GatedListing(WrappingStore):
    """Holds every listing until ``gate`` opens."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.gate = asyncio.Event()
        self.arrived: asyncio.Queue[Sequence[str]] = asyncio.Queue()

    async def list_keys(self, namespace: Sequence[str], *, after: str | None = None,
                        limit: int = 1000) -> KeyPage:
        self.arrived.put_nowait(namespace)
        await self.gate.wait()
        return await super().list_keys(namespace, after=after, limit=limit)


async def test_a_read_after_a_write_never_joins_a_read_from_before_it() -> None:
    backend = GatedListing(InMemoryStore())
    store = SynapticStore(backend)
    backend.gate.set()
    await store.aput(("rw",), "old", {"n": 0})
    backend.gate.clear()
    early = asyncio.ensure_future(store.asearch(("rw",)))
    await backend.arrived.get()
    await store.aput(("rw",), "new", {"n": 1})
    late = asyncio.ensure_future(store.asearch(("rw",)))
    await backend.arrived.get()  # its own listing: it did not join the early one
    backend.gate.set()
    assert [item.key for item in await late] == ["new", "old"]
    await early
