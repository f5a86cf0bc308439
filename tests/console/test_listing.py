"""Sessions newest first: the same pages as sorting every key, for far fewer listings."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from synaptic_s3 import InMemoryStore
from synaptic_s3.console.listing import newest_first, uuid7_floor
from synaptic_s3.core.keys import path_order
from synaptic_s3.core.store import KeyPage
from synaptic_s3.ids import uuid7_from

NS = ("sessions",)
NOW_MS = 1_764_700_000_000  # Dec 2025
HOUR = 3_600_000


class CountingStore(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.listings = 0

    async def list_keys(self, namespace: Sequence[str], *, after: str | None = None,
                        limit: int = 1000) -> KeyPage:
        self.listings += 1
        return await super().list_keys(namespace, after=after, limit=limit)


async def _store(keys: list[str]) -> CountingStore:
    store = CountingStore()
    for key in keys:
        await store.put(NS, key, {"id": key, "created_at": "x"})
    store.listings = 0
    return store


def _uuid(ms: int, n: int) -> str:
    return str(uuid7_from(ms, n.to_bytes(4, "big")))


async def _all_pages(store: CountingStore, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    before: str | None = None
    while True:
        keys, more = await newest_first(store, NS, before=before, limit=limit, now_ms=NOW_MS)
        pages.append(keys)
        if not more:
            return pages
        before = keys[-1]


def test_floor_separates_milliseconds() -> None:
    ms = NOW_MS
    assert path_order(uuid7_floor(ms)) <= path_order(_uuid(ms, 1))
    assert path_order(_uuid(ms - 1, 1)) < path_order(uuid7_floor(ms))


@pytest.mark.parametrize("seed", range(6))
async def test_pages_match_a_full_sort(seed: int) -> None:
    rng = random.Random(seed)
    ages = [0, HOUR // 2, 2 * HOUR, 3 * 24 * HOUR, 90 * 24 * HOUR, 3 * 366 * 24 * HOUR,
            20 * 366 * 24 * HOUR]
    keys = {_uuid(NOW_MS - rng.choice(ages) - rng.randrange(1000), n)
            for n in range(rng.randrange(0, 260))}
    keys |= {rng.choice(["zeta-", "agent:", "0-", "Z", "é"]) + str(n)
             for n in range(rng.randrange(0, 8))}
    keys.add(_uuid(NOW_MS + 5 * HOUR, 99))  # a clock ahead of ours
    store = await _store(sorted(keys))
    limit = rng.choice([1, 7, 50, 100])
    pages = await _all_pages(store, limit)
    expected = sorted(keys, key=path_order, reverse=True)
    assert [key for page in pages for key in page] == expected
    assert all(len(page) == limit for page in pages[:-1])


async def test_a_busy_store_answers_the_first_page_with_one_listing() -> None:
    # 2,500 sessions, two a second: the first minute already holds a page
    store = await _store([_uuid(NOW_MS - n * 500, n) for n in range(2500)])
    keys, more = await newest_first(store, NS, before=None, limit=100, now_ms=NOW_MS)
    assert store.listings == 1
    assert more
    assert keys == sorted(keys, key=path_order, reverse=True)
    assert keys[0] == _uuid(NOW_MS, 0)


async def test_a_later_page_probes_back_from_its_cursor() -> None:
    store = await _store([_uuid(NOW_MS - n * 500, n) for n in range(2500)])
    first, _ = await newest_first(store, NS, before=None, limit=100, now_ms=NOW_MS)
    store.listings = 0
    second, more = await newest_first(store, NS, before=first[-1], limit=100, now_ms=NOW_MS)
    assert store.listings == 1
    assert more
    assert second[0] == _uuid(NOW_MS - 100 * 500, 100)


async def test_a_slower_store_costs_a_probe_per_eightfold_window() -> None:
    # one session a second: the first minute holds 60, the next window (8 minutes) 480
    store = await _store([_uuid(NOW_MS - n * 1000, n) for n in range(2500)])
    keys, more = await newest_first(store, NS, before=None, limit=100, now_ms=NOW_MS)
    assert store.listings == 2
    assert more
    assert keys[-1] == _uuid(NOW_MS - 99_000, 99)


@pytest.mark.parametrize(("count", "more"), [(0, False), (99, False), (100, False),
                                              (101, True)])
async def test_page_edges(count: int, more: bool) -> None:
    store = await _store([_uuid(NOW_MS - n, n) for n in range(count)])
    keys, has_more = await newest_first(store, NS, before=None, limit=100, now_ms=NOW_MS)
    assert len(keys) == min(count, 100)
    assert has_more is more


async def test_a_quiet_store_costs_at_most_a_dozen_small_listings() -> None:
    store = await _store([_uuid(NOW_MS - 30 * 366 * 24 * HOUR, n) for n in range(10)])
    keys, more = await newest_first(store, NS, before=None, limit=100, now_ms=NOW_MS)
    assert len(keys) == 10
    assert not more
    assert store.listings == 10  # windows of 1 min x 8^k up to 32 years, then the rest


async def test_a_steady_store_lists_about_a_page() -> None:
    # one session every 43 minutes for 30 days: the windows jump by the rate seen
    keys_in = [_uuid(NOW_MS - n * 2_592_000, n) for n in range(1000)]
    store = CountingStore()
    listed: list[int] = []
    original = store.list_keys

    async def spy(namespace: Sequence[str], *, after: str | None = None,
                  limit: int = 1000) -> KeyPage:
        page = await original(namespace, after=after, limit=limit)
        listed.append(len(page.keys))
        return page

    for key in keys_in:
        await store.put(NS, key, {"id": key, "created_at": "x"})
    store.list_keys = spy  # type: ignore[method-assign]
    keys, more = await newest_first(store, NS, before=None, limit=100, now_ms=NOW_MS)
    assert keys == keys_in[:100]
    assert more
    assert len(listed) <= 7
    assert listed[-1] <= 150  # the last window holds about a page, not 8 pages
    assert sum(listed) <= 300  # S3 lists upwards: each probe re-reads what is above it
