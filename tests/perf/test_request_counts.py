"""S3 requests per operation, counted on the wire (issue 4's targets).

Each test sets up what it needs (uncounted), resets the counter, runs ONE
operation and asserts exactly which requests it sent. Counts are deterministic;
no test looks at a clock's reading of how long anything took. Targets the library
does not meet yet are strict xfails whose reason names the change needed.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from synaptic_s3 import (
    Checkpoint,
    CheckpointConfig,
    Message,
    S3Store,
    SessionManager,
    StoreCheckpointer,
)
from synaptic_s3.checkpoint_hint import HINT_EVERY
from synaptic_s3.ids import iso_utc, uuid7, uuid7_datetime
from tests.perf.conftest import Seed, WireCounter

pytestmark = pytest.mark.s3

SECOND_NS = 10**9
HOUR_NS = 3600 * SECOND_NS
DAY_NS = 24 * HOUR_NS


def _history(count: int) -> list[dict[str, str]]:
    return [{"role": "human" if i % 2 == 0 else "assistant", "content": f"message {i}",
             "id": f"m{i}"} for i in range(count)]


def _session_objects(count: int) -> list[tuple[str, bytes]]:
    objects = []
    for _ in range(count):
        session_id = str(uuid7())
        created = uuid7_datetime(session_id)
        assert created is not None
        body = json.dumps({"id": session_id, "created_at": iso_utc(created)}).encode()
        objects.append((f"sessions/{session_id}.json", body))
    return objects


def _checkpoint_objects(thread_id: str, stamps_ns: list[int]) -> list[tuple[str, bytes]]:
    """Checkpoints with the ids the library generates at those instants."""
    objects = []
    for stamp in stamps_ns:
        checkpoint_id = f"{stamp:016x}-0000"
        body = json.dumps({"id": checkpoint_id, "state": {}}).encode()
        objects.append((f"checkpoints/{thread_id}/{checkpoint_id}.json", body))
    return objects


# -- sessions ---------------------------------------------------------------------------------

async def test_create_session_is_one_conditional_put(
    manager: SessionManager, wire: WireCounter
) -> None:
    await manager.create_session()

    assert wire.calls == {"PutObject": 1}
    assert wire.conditional_puts == 1


async def test_get_session_is_one_get(manager: SessionManager, wire: WireCounter) -> None:
    session_id = await manager.create_session()
    wire.reset()

    assert await manager.get_session(session_id) is not None

    assert wire.calls == {"GetObject": 1}


# -- messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 100, 5000])
async def test_load_is_one_get_whatever_the_length(
    store: S3Store, manager: SessionManager, wire: WireCounter, count: int
) -> None:
    await store.put(("memory", "s1"), "messages", _history(count))
    wire.reset()

    loaded = await manager.memory().load("s1")

    assert len(loaded) == count
    assert wire.calls == {"GetObject": 1}


async def test_append_to_a_warm_history_is_one_conditional_put(
    store: S3Store, manager: SessionManager, wire: WireCounter
) -> None:
    await store.put(("memory", "s1"), "messages", _history(10))
    memory = manager.memory()
    await memory.load("s1")
    wire.reset()

    await memory.append("s1", Message.human("hello"))

    assert wire.calls == {"PutObject": 1}
    assert wire.conditional_puts == 1


async def test_append_with_a_stale_cache_retries_and_loses_nothing(
    store: S3Store, wire: WireCounter
) -> None:
    first, second = SessionManager(store).memory(), SessionManager(store).memory()
    await first.append("s1", Message.human("one"))
    await second.load("s1")
    await first.append("s1", Message.human("two"))  # second's cached ETag is now stale
    wire.reset()

    await second.append("s1", Message.human("three"))

    assert wire.calls == {"PutObject": 2, "GetObject": 1}  # 412, re-read, conditional PUT
    contents = [m.content for m in await first.load("s1")]
    assert contents == ["one", "two", "three"]


async def test_chat_turn_is_three_requests(
    store: S3Store, manager: SessionManager, wire: WireCounter
) -> None:
    await store.put(("memory", "s1"), "messages", _history(10))
    memory = manager.memory()
    wire.reset()

    await memory.load("s1")
    await memory.append("s1", Message.human("question"))
    await memory.append("s1", Message.ai("answer"))

    assert wire.calls == {"GetObject": 1, "PutObject": 2}


async def test_chat_turn_with_append_many_is_two_requests(
    store: S3Store, manager: SessionManager, wire: WireCounter
) -> None:
    await store.put(("memory", "s1"), "messages", _history(10))
    memory = manager.memory()
    wire.reset()

    await memory.load("s1")
    await memory.append_many("s1", [Message.human("question"), Message.ai("answer")])

    assert wire.calls == {"GetObject": 1, "PutObject": 1}


# -- listing sessions -------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1000, 1001])
async def test_listing_n_sessions_is_ceil_n_over_1000_listings(
    manager: SessionManager, seed: Seed, wire: WireCounter, count: int
) -> None:
    seed(_session_objects(count))

    sessions = await manager.list_sessions()

    assert len(sessions) == count
    assert wire.calls == {"ListObjectsV2": math.ceil(count / 1000)}  # and not one GET


# -- latest checkpoint ------------------------------------------------------------------------

async def test_latest_checkpoint_of_a_thread_written_in_the_last_hour_is_two_requests(
    manager: SessionManager, seed: Seed, wire: WireCounter
) -> None:
    now = time.time_ns()
    stamps = [now - i * SECOND_NS for i in range(100)]  # one a second, the last just now
    seed(_checkpoint_objects("t1", stamps))

    latest = await manager.checkpointer().get(CheckpointConfig("t1"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    assert wire.total <= 2


async def test_latest_checkpoint_cost_does_not_grow_with_history(
    manager: SessionManager, seed: Seed, wire: WireCounter
) -> None:
    now = time.time_ns()
    recent = [now - i * SECOND_NS for i in range(100)]
    older = [now - 2 * HOUR_NS - i * (30 * DAY_NS // 1900) for i in range(1900)]
    seed(_checkpoint_objects("short", recent))
    seed(_checkpoint_objects("long", recent + older))  # same last hour, 20x the history
    checkpointer = manager.checkpointer()
    await checkpointer.get(CheckpointConfig("short"))
    short_cost = wire.total
    wire.reset()

    latest = await checkpointer.get(CheckpointConfig("long"))

    assert latest is not None
    assert latest.id == f"{max(recent):016x}-0000"
    assert wire.total == short_cost


async def test_latest_checkpoint_of_a_dense_thread_is_bounded(
    manager: SessionManager, seed: Seed, wire: WireCounter
) -> None:
    now = time.time_ns()
    stamps = [now - i * 1_000_000 for i in range(2000)]  # 2,000 in the last 2 seconds
    seed(_checkpoint_objects("dense", stamps))

    latest = await manager.checkpointer().get(CheckpointConfig("dense"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    assert wire.calls["ListObjectsV2"] <= 5  # a search over time, not a full listing
    assert wire.calls["GetObject"] == 2  # the hint (none: seeded raw), the checkpoint


def _burst(count: int, end_ns: int, duration_ns: int) -> list[int]:
    """``count`` instants evenly spread over ``duration_ns``, the last at ``end_ns``."""
    return [end_ns - duration_ns + (i + 1) * duration_ns // count for i in range(count)]


_SPREADS = {"same millisecond": 1_000_000, "over ten minutes": 600 * SECOND_NS}


@pytest.mark.parametrize("spread", list(_SPREADS))
@pytest.mark.parametrize("count", [1, 999, 1000, 1001, 3000, 10_000])
async def test_latest_checkpoint_of_a_burst_is_at_most_five_listings(
    manager: SessionManager, seed: Seed, wire: WireCounter, count: int, spread: str
) -> None:
    # Ended five minutes ago: the thread is quiet, so "just before now" cannot help.
    stamps = _burst(count, time.time_ns() - 300 * SECOND_NS, _SPREADS[spread])
    seed(_checkpoint_objects("burst", stamps))

    latest = await manager.checkpointer().get(CheckpointConfig("burst"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    # More than a page: the hint is read too (none here: the thread was seeded raw).
    assert wire.calls["GetObject"] == (1 if count <= 1000 else 2)
    assert wire.calls["ListObjectsV2"] <= (1 if count <= 1000 else 5)
    assert set(wire.calls) == {"ListObjectsV2", "GetObject"}


async def test_latest_checkpoint_of_a_long_thread_with_a_recent_burst_is_at_most_five_listings(
    manager: SessionManager, seed: Seed, wire: WireCounter
) -> None:
    now = time.time_ns()
    old = _burst(20_000, now - 2 * HOUR_NS, 90 * DAY_NS)  # three months of history
    recent = _burst(3000, now - 120 * SECOND_NS, 30 * SECOND_NS)
    seed(_checkpoint_objects("long", old + recent))

    latest = await manager.checkpointer().get(CheckpointConfig("long"))

    assert latest is not None
    assert latest.id == f"{max(recent):016x}-0000"
    assert wire.calls["GetObject"] == 2  # the hint (none: seeded raw), the checkpoint
    assert wire.calls["ListObjectsV2"] <= 5


async def test_latest_checkpoint_of_an_empty_thread_is_two_listings(
    manager: SessionManager, wire: WireCounter
) -> None:
    assert await manager.checkpointer().get(CheckpointConfig("nothing")) is None

    assert wire.calls == {"ListObjectsV2": 2}  # the last hour, then from the start


@pytest.mark.parametrize("count", [
    1100,
    2000,
])
async def test_latest_checkpoint_of_a_steadily_written_busy_hour_is_four_requests(
    manager: SessionManager, seed: Seed, wire: WireCounter, count: int
) -> None:
    now = time.time_ns()
    stamps = [now - i * SECOND_NS for i in range(count)]  # one a second, the last just now
    seed(_checkpoint_objects("busy", stamps))

    latest = await manager.checkpointer().get(CheckpointConfig("busy"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    assert wire.calls == {"ListObjectsV2": 2, "GetObject": 2}  # GETs: the hint (none), the answer


async def test_latest_checkpoint_after_this_process_wrote_one_is_one_listing_and_one_get(
    manager: SessionManager, seed: Seed, wire: WireCounter
) -> None:
    now = time.time_ns()
    seed(_checkpoint_objects("warm", _burst(5000, now - 300 * SECOND_NS, 1_000_000)))
    checkpointer = manager.checkpointer()
    written = Checkpoint({"step": "last"})
    await checkpointer.put(CheckpointConfig("warm"), written)
    wire.reset()

    latest = await checkpointer.get(CheckpointConfig("warm"))

    assert latest is not None
    assert latest.id == written.id
    assert wire.calls == {"ListObjectsV2": 1, "GetObject": 1}  # nothing listed after it


def _hint_object(thread_id: str, checkpoint_id: str) -> tuple[str, bytes]:
    body = json.dumps({"checkpoint_id": checkpoint_id}).encode()
    return f"memory/{thread_id}/latest_checkpoint.json", body


def _hinted_threads(now: int) -> dict[str, list[int]]:
    """Thread shapes by name: single bursts ended five minutes ago, and the shape the
    search alone handles worst (two bursts minutes apart: 7 listings without a hint)."""
    ended = now - 300 * SECOND_NS
    threads = {f"{count:,} {spread}": _burst(count, ended, duration)
               for count in (1001, 3000, 10_000) for spread, duration in _SPREADS.items()}
    threads["two bursts minutes apart"] = (
        _burst(1000, now - 600 * SECOND_NS, 10 * SECOND_NS)
        + _burst(5000, ended, 50 * SECOND_NS))
    return threads


@pytest.mark.parametrize("shape", list(_hinted_threads(0)))
async def test_latest_checkpoint_of_a_hinted_thread_is_two_listings_and_two_gets(
    manager: SessionManager, seed: Seed, wire: WireCounter, shape: str
) -> None:
    stamps = _hinted_threads(time.time_ns())[shape]
    # The hint as a writer leaves it at worst: 99 checkpoints behind the newest.
    seed([*_checkpoint_objects("t", stamps),
          _hint_object("t", f"{stamps[-HINT_EVERY]:016x}-0000")])

    latest = await manager.checkpointer().get(CheckpointConfig("t"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    # the last hour; GET the hint; list from just below it (99 keys); GET the answer
    assert wire.calls == {"ListObjectsV2": 2, "GetObject": 2}


async def test_a_thread_written_through_the_checkpointer_is_found_from_its_hint(
    manager: SessionManager, store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    """End to end: after 960 older checkpoints, a writer puts 100 (its 100th put writes
    the hint); a fresh checkpointer (another process) finds the newest in 2 listings."""
    now = time.time_ns()
    seed(_checkpoint_objects("written", _burst(960, now - 120 * SECOND_NS, 1_000_000)))
    writer = manager.checkpointer()
    for step in range(HINT_EVERY):
        await writer.put(CheckpointConfig("written"), Checkpoint({"step": step}))
    wire.reset()

    latest = await StoreCheckpointer(store).get(CheckpointConfig("written"))

    assert latest is not None
    assert latest.state == {"step": HINT_EVERY - 1}
    assert wire.calls == {"ListObjectsV2": 2, "GetObject": 2}


async def test_every_hundredth_put_to_a_thread_also_writes_its_hint(
    manager: SessionManager, store: S3Store, wire: WireCounter
) -> None:
    checkpointer = manager.checkpointer()
    for step in range(HINT_EVERY - 1):
        await checkpointer.put(CheckpointConfig("t1"), Checkpoint({"step": step}))
    assert wire.calls == {"PutObject": HINT_EVERY - 1}
    assert await store.get(("memory", "t1"), "latest_checkpoint") is None
    wire.reset()

    newest = Checkpoint({"step": HINT_EVERY})
    await checkpointer.put(CheckpointConfig("t1"), newest)

    assert wire.calls == {"PutObject": 2}  # the checkpoint, then the hint naming it
    hint = await store.get(("memory", "t1"), "latest_checkpoint")
    assert hint is not None
    assert hint.value == {"checkpoint_id": newest.id}


async def test_putting_a_checkpoint_is_one_put(
    manager: SessionManager, wire: WireCounter
) -> None:
    await manager.checkpointer().put(CheckpointConfig("t1"), Checkpoint({"step": 1}))

    assert wire.calls == {"PutObject": 1}


# -- deleting a session -----------------------------------------------------------------------

async def test_delete_session_is_about_two_requests_per_thousand_objects(
    store: S3Store, manager: SessionManager, seed: Seed, wire: WireCounter
) -> None:
    session_id = await manager.create_session()
    await store.put(("memory", session_id), "messages", _history(10))
    await store.put(("memory", session_id), "summary", "so far")
    now = time.time_ns()
    seed(_checkpoint_objects(session_id, [now - i * SECOND_NS for i in range(1500)]))
    objects = 3 + 1500
    wire.reset()

    await manager.delete_session(session_id)

    # listings: 1 for memory/<id>/, 2 for 1,500 checkpoints; DeleteObjects: 2 shared
    # batches; then the metadata DELETE last
    assert wire.total == 2 * math.ceil(objects / 1000) + 2
    assert wire.calls["DeleteObject"] <= 1  # batches, never one DELETE per object
    assert await manager.get_session(session_id) is None
    assert await store.list_namespaces(("checkpoints", session_id)) == []
