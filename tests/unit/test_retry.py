"""The shared compare-and-swap loop and bounded gather."""

from __future__ import annotations

import asyncio

import pytest

from synaptic_s3 import ConflictError, InMemoryStore
from synaptic_s3.core.retry import Backoff, Edit, gather_bounded, update_with_retry
from synaptic_s3.core.store import Item

NS = ("counters",)


def increment(item: Item | None) -> Edit[int]:
    value = 1 if item is None else item.value + 1
    return Edit(value, value)


async def test_update_creates_the_item_when_absent() -> None:
    store = InMemoryStore()
    assert await update_with_retry(store, NS, "c", increment) == 1
    item = await store.get(NS, "c")
    assert item is not None
    assert item.value == 1


async def test_concurrent_updates_lose_nothing() -> None:
    store = InMemoryStore()
    await asyncio.gather(*(update_with_retry(store, NS, "c", increment) for _ in range(40)))
    item = await store.get(NS, "c")
    assert item is not None
    assert item.value == 40


async def test_an_edit_returning_no_value_writes_nothing() -> None:
    store = InMemoryStore()
    assert await update_with_retry(store, NS, "c", lambda item: Edit(None, "kept")) == "kept"
    assert await store.get(NS, "c") is None


async def test_a_coroutine_edit_is_awaited() -> None:
    async def edit(item: Item | None) -> Edit[str]:
        return Edit("v", "done")

    store = InMemoryStore()
    assert await update_with_retry(store, NS, "c", edit) == "done"


async def test_update_gives_up_after_max_attempts() -> None:
    store = InMemoryStore()
    rival_writes = 0

    async def always_loses(item: Item | None) -> Edit[None]:
        nonlocal rival_writes
        rival_writes += 1
        await store.put(NS, "c", {"rival": rival_writes})  # changes the item under us
        return Edit({"mine": True}, None)

    with pytest.raises(ConflictError, match="3 attempts"):
        await update_with_retry(store, NS, "c", always_loses, max_attempts=3,
                                backoff=Backoff(base=0, cap=0))


def test_backoff_is_clamped_for_huge_attempt_numbers() -> None:
    backoff = Backoff(base=0.005, cap=0.25)
    assert all(0 <= backoff.delay(n) <= 0.25 for n in (0, 1, 16, 10_000))


async def test_gather_bounded_keeps_order_and_the_limit() -> None:
    running = 0
    peak = 0

    async def job(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        return n

    assert await gather_bounded((job(n) for n in range(10)), limit=3) == list(range(10))
    assert peak <= 3


async def test_gather_bounded_finishes_everything_before_raising() -> None:
    finished: list[int] = []

    async def job(n: int) -> int:
        await asyncio.sleep(0)
        if n == 0:
            raise ValueError("first")
        finished.append(n)
        return n

    with pytest.raises(ValueError, match="first"):
        await gather_bounded((job(n) for n in range(5)), limit=2)
    assert sorted(finished) == [1, 2, 3, 4]
