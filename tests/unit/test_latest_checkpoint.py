"""How many listings finding the latest checkpoint costs, for histories of any shape.

Counted on an in-memory store (the same listing calls S3Store makes one request each),
with ids placed at chosen times, as the Rust crate's generator would have made them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, FileStore, InMemoryStore, StoreCheckpointer
from synaptic_s3.checkpoint_hint import HINT_EVERY
from synaptic_s3.core.store import DEFAULT_PAGE_SIZE, KeyPage

SECOND = 10**9


class CountingStore(InMemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.listings = 0

    async def list_keys(
        self, namespace: Sequence[str], *, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> KeyPage:
        self.listings += 1
        return await super().list_keys(namespace, after=after, limit=limit)


async def history(times_ns: list[int]) -> CountingStore:
    store = CountingStore()
    await asyncio.gather(*(
        store.put(("checkpoints", "t"), f"{ns:016x}-0000", {"at": ns}) for ns in times_ns
    ))
    return store


async def latest_listings(store: CountingStore) -> tuple[str | None, int]:
    store.listings = 0
    latest = await StoreCheckpointer(store).latest_id("t")
    return latest, store.listings


@pytest.mark.parametrize("count", [1, 999, 1000])
async def test_a_thread_written_in_the_last_hour_costs_one_listing(count: int) -> None:
    now = time.time_ns()
    times = [now - 30 * 60 * SECOND + i * SECOND for i in range(count)]
    latest, listings = await latest_listings(await history(times))
    assert latest == f"{times[-1]:016x}-0000"
    assert listings == 1


async def test_a_busy_thread_still_being_written_costs_two_listings() -> None:
    now = time.time_ns()
    times = [now - 3_000 * SECOND // 10 + i * SECOND // 10 for i in range(3_000)]  # 10/s
    latest, listings = await latest_listings(await history(times))
    assert latest == f"{times[-1]:016x}-0000"
    assert listings == 2


async def test_a_burst_of_ten_thousand_costs_at_most_five_listings() -> None:
    end = time.time_ns() - 5 * SECOND
    times = [end - SECOND + i * SECOND // 10_000 for i in range(10_000)]
    latest, listings = await latest_listings(await history(times))
    assert latest == f"{times[-1]:016x}-0000"
    assert listings <= 5


async def test_the_cost_does_not_grow_with_history() -> None:
    now = time.time_ns()
    costs = []
    for count in (2_000, 20_000):
        step = 3_600 * SECOND // count
        times = [now - 3_600 * SECOND + 1 + i * step for i in range(count)]
        costs.append((await latest_listings(await history(times)))[1])
    assert costs[1] <= costs[0] + 1


async def test_an_old_thread_of_at_most_a_page_costs_two_listings() -> None:
    long_ago = time.time_ns() - 200 * 24 * 3_600 * SECOND
    latest, listings = await latest_listings(await history([long_ago, long_ago + SECOND]))
    assert latest == f"{long_ago + SECOND:016x}-0000"
    assert listings == 2  # the last hour: empty; from the start: the whole thread


async def test_a_thread_without_checkpoints_costs_two_listings() -> None:
    latest, listings = await latest_listings(await history([]))
    assert latest is None
    assert listings == 2


async def test_an_old_thread_of_many_pages_is_found_past_the_windows() -> None:
    long_ago = time.time_ns() - 200 * 24 * 3_600 * SECOND
    times = [long_ago + i * SECOND for i in range(2_500)]
    latest, listings = await latest_listings(await history(times))
    assert latest == f"{times[-1]:016x}-0000"
    assert listings <= 8  # the hour, the start, a day, 30 days, then at most 4 more


async def test_a_little_more_than_a_page_in_the_last_hour_costs_two_listings() -> None:
    now = time.time_ns()
    times = [now - 1_200 * SECOND + i * SECOND for i in range(1_200)]  # one a second
    latest, listings = await latest_listings(await history(times))
    assert latest == f"{times[-1]:016x}-0000"
    assert listings == 2


async def test_more_than_a_page_written_after_the_remembered_id_is_still_found() -> None:
    store = CountingStore()
    mine = StoreCheckpointer(store)
    now = time.time_ns()  # an explicit id: other tests may have moved the generator ahead
    await mine.put(CheckpointConfig("t"), Checkpoint({"step": "mine"}, id=f"{now:016x}-0000"))
    times = [now + i * 1000 for i in range(1, 1500)]  # another writer, right after
    await asyncio.gather(*(
        store.put(("checkpoints", "t"), f"{ns:016x}-0000", {"id": f"{ns:016x}-0000", "state": ns})
        for ns in times))
    store.listings = 0
    latest = await mine.get(CheckpointConfig("t"))
    assert latest is not None
    assert latest.id == f"{times[-1]:016x}-0000"
    assert store.listings <= 1 + 5  # the page after the id is truncated: the full search


# -- the writer's hint ---------------------------------------------------------------------

async def _busy_file_thread(root: Path) -> tuple[FileStore, str]:
    """A file store holding 1,500 checkpoints written in the last minutes."""
    store = FileStore(root)
    now = time.time_ns()
    times = [now - 600 * SECOND + i * SECOND // 10 for i in range(1500)]
    await asyncio.gather(*(
        store.put(("checkpoints", "t"), f"{ns:016x}-0000", {"id": f"{ns:016x}-0000", "state": {}})
        for ns in times))
    return store, f"{times[-1]:016x}-0000"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"checkpoint_id": 7}',
                                  b'{"checkpoint_id": "step-3"}'])
async def test_an_unusable_hint_is_ignored(
    tmp_path: Path, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    store, newest = await _busy_file_thread(tmp_path)
    (tmp_path / "memory" / "t").mkdir(parents=True)
    (tmp_path / "memory" / "t" / "latest_checkpoint.json").write_bytes(body)

    assert await StoreCheckpointer(store).latest_id("t") == newest
    assert ("unreadable latest-checkpoint hint" in caplog.text) == (body == b"{not json")


async def test_a_hint_naming_a_checkpoint_that_was_never_written_is_not_the_answer(
    tmp_path: Path,
) -> None:
    store, newest = await _busy_file_thread(tmp_path)
    missing = f"{time.time_ns() - 60 * SECOND:016x}-0000"  # after every key
    await store.put(("memory", "t"), "latest_checkpoint", {"checkpoint_id": missing})

    assert await StoreCheckpointer(store).latest_id("t") == newest


async def test_a_checkpointer_that_remembers_no_threads_writes_no_hint() -> None:
    store = InMemoryStore()
    checkpointer = StoreCheckpointer(store, remembered_threads=0)
    for step in range(HINT_EVERY):
        await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": step}))
    assert await store.get(("memory", "t"), "latest_checkpoint") is None


async def test_a_thread_forgotten_by_the_lru_starts_counting_again() -> None:
    store = InMemoryStore()
    checkpointer = StoreCheckpointer(store, remembered_threads=1)
    for step in range(HINT_EVERY - 1):
        await checkpointer.put(CheckpointConfig("a"), Checkpoint({"step": step}))
    await checkpointer.put(CheckpointConfig("b"), Checkpoint({"step": 0}))  # evicts "a"
    await checkpointer.put(CheckpointConfig("a"), Checkpoint({"step": HINT_EVERY}))
    assert await store.get(("memory", "a"), "latest_checkpoint") is None


def test_the_hint_lives_in_the_session_s_memory_namespace() -> None:
    from synaptic_s3.checkpoint_hint import hint_namespace
    from synaptic_s3.memory import NAMESPACE as MEMORY

    assert hint_namespace("t") == (MEMORY, "t")


async def test_concurrent_puts_write_one_hint_per_hundred() -> None:
    """The count is claimed before the hint's PUT is awaited, so puts racing past the
    100th do not each write a hint."""

    class HintCounting(InMemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.hint_puts = 0

        async def put(self, namespace: Sequence[str], key: str, value: Any,
                      **kwargs: Any) -> str:
            if key == "latest_checkpoint":
                self.hint_puts += 1
                await asyncio.sleep(0)  # let the other puts run while this one is out
            return await super().put(namespace, key, value, **kwargs)

    store = HintCounting()
    checkpointer = StoreCheckpointer(store)
    await asyncio.gather(*(checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": step}))
                           for step in range(3 * HINT_EVERY)))
    assert store.hint_puts == 3


@pytest.mark.parametrize("every", [1, 2, 7])
async def test_the_hint_is_written_at_every_nth_put_and_not_between(every: int) -> None:
    store = InMemoryStore()
    checkpointer = StoreCheckpointer(store, hint_every=every)
    hints = []
    for step in range(2 * every + 1):
        checkpoint = Checkpoint({"step": step})
        await checkpointer.put(CheckpointConfig("t"), checkpoint)
        hint = await store.get(("memory", "t"), "latest_checkpoint")
        hints.append(None if hint is None else hint.value["checkpoint_id"])
        if (step + 1) % every == 0:
            assert hints[-1] == checkpoint.id  # due: names this one
        else:
            assert hints[-1] == (hints[-2] if step else None)  # not due: unchanged


async def test_hint_every_zero_writes_no_hint() -> None:
    store = InMemoryStore()
    checkpointer = StoreCheckpointer(store, hint_every=0)
    for step in range(HINT_EVERY):
        await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": step}))
    assert await store.get(("memory", "t"), "latest_checkpoint") is None


@pytest.mark.parametrize(("every", "error"), [(-1, ValueError), (True, TypeError),
                                              (1.5, TypeError)])
def test_a_bad_hint_every_is_refused(every: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="hint_every"):
        StoreCheckpointer(InMemoryStore(), hint_every=every)  # type: ignore[arg-type]
