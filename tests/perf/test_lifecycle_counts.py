"""S3 requests of the lifecycle operations (issue 13), counted on the wire: leases,
checkpoint pruning, retention, forks and the orphan sweep. The README states these."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, S3Store, SessionManager
from synaptic_s3.ids import uuid7
from synaptic_s3.lifecycle.orphans import sweep_orphans
from synaptic_s3.lifecycle.retention import idle_sessions, sweep_idle_sessions
from tests.perf.conftest import Seed, WireCounter

pytestmark = pytest.mark.s3

TTL = timedelta(minutes=5)
LATER = datetime.now(UTC) + timedelta(days=31)
MONTH = timedelta(days=30)


# -- leases -------------------------------------------------------------------------------------

async def test_the_first_lease_of_a_session_is_three_requests(
    manager: SessionManager, wire: WireCounter
) -> None:
    session_id = await manager.create_session()
    wire.reset()
    await manager.acquire_lease(session_id, ttl=TTL)
    assert wire.calls == {"GetObject": 2, "PutObject": 1}  # the lease, the session; create
    assert wire.conditional_puts == 1


async def test_a_later_lease_is_one_read_and_one_conditional_put(
    manager: SessionManager, wire: WireCounter
) -> None:
    session_id = await manager.create_session()
    await (await manager.acquire_lease(session_id, ttl=TTL)).release()
    wire.reset()
    await manager.acquire_lease(session_id, ttl=TTL)
    assert wire.calls == {"GetObject": 1, "PutObject": 1}
    assert wire.conditional_puts == 1


async def test_a_held_lease_is_refused_after_one_read(
    manager: SessionManager, wire: WireCounter
) -> None:
    from synaptic_s3.core.errors import LeaseHeldError

    session_id = await manager.create_session()
    await manager.acquire_lease(session_id, ttl=TTL)
    wire.reset()
    with pytest.raises(LeaseHeldError):
        await manager.acquire_lease(session_id, ttl=TTL)
    assert wire.calls == {"GetObject": 1}


async def test_renew_and_release_are_one_conditional_put_each(
    manager: SessionManager, wire: WireCounter
) -> None:
    lease = await manager.acquire_lease(await manager.create_session(), ttl=TTL)
    wire.reset()
    await lease.renew()
    assert (wire.calls, wire.conditional_puts) == ({"PutObject": 1}, 1)
    wire.reset()
    await lease.release()
    assert (wire.calls, wire.conditional_puts) == ({"PutObject": 1}, 1)


# -- pruning checkpoints ------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "keep_last", "batches"), [(5, 2, 1), (5, 5, 0), (2500, 1, 3)])
async def test_prune_is_a_listing_and_one_batch_per_thousand(
    manager: SessionManager, store: S3Store, wire: WireCounter, seed: Seed,
    count: int, keep_last: int, batches: int,
) -> None:
    seed((f"checkpoints/t/{i:016x}-0000.json", b'{"id":"x","state":{}}') for i in range(count))
    wire.reset()
    deleted = await manager.checkpointer().prune(CheckpointConfig("t"), keep_last=keep_last)
    assert deleted == count - keep_last
    listings = -(-count // 1000)
    assert wire.calls == {"ListObjectsV2": listings, **({"DeleteObjects": batches}
                                                        if batches else {})}


# -- retention ----------------------------------------------------------------------------------

async def populate(manager: SessionManager, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        session_id = await manager.create_session()
        await manager.memory().append(session_id, Message.human("hi"))
        await manager.checkpointer().put(CheckpointConfig(session_id), Checkpoint({}))
        ids.append(session_id)
    return ids


async def test_idle_sessions_costs_three_listings_and_no_reads(
    manager: SessionManager, wire: WireCounter
) -> None:
    await populate(manager, 5)
    wire.reset()
    assert len(await idle_sessions(manager, MONTH, now=LATER)) == 5
    assert wire.calls == {"ListObjectsV2": 3}  # sessions/, memory/, checkpoints/


async def test_idle_sessions_lists_a_page_per_thousand_objects(
    manager: SessionManager, wire: WireCounter, seed: Seed
) -> None:
    seed((f"sessions/{uuid7()}.json", b'{}') for _ in range(2500))
    wire.reset()
    assert len(await idle_sessions(manager, MONTH, now=LATER)) == 2500
    assert wire.calls == {"ListObjectsV2": 3 + 2}  # 3 pages of sessions/, 1 + 1 empty


async def test_deleting_an_idle_session_is_six_requests_after_the_census(
    manager: SessionManager, wire: WireCounter
) -> None:
    await populate(manager, 2)
    wire.reset()
    report = await sweep_idle_sessions(manager, MONTH, now=LATER)
    assert len(report.deleted) == 2
    # census 3 listings; per session: re-check 2 listings, then delete_session:
    # 2 listings + 1 DeleteObjects + 1 DeleteObject (the metadata)
    assert wire.calls == {"ListObjectsV2": 3 + 2 * 4, "DeleteObjects": 2, "DeleteObject": 2}


# -- forks --------------------------------------------------------------------------------------

async def test_a_fork_copies_server_side_and_downloads_no_checkpoint(
    manager: SessionManager, wire: WireCounter
) -> None:
    source = await manager.create_session()
    await manager.memory().append_many(source, [Message.human("a"), Message.ai("b")])
    await manager.memory().set_summary(source, "s")
    for step in range(3):
        await manager.checkpointer().put(CheckpointConfig(source), Checkpoint({"n": step}))
    wire.reset()
    await manager.fork_session(source)
    assert wire.calls["CopyObject"] == 3 + 1  # the checkpoints and the summary
    assert wire.calls["ListObjectsV2"] == 1
    # the source's metadata, then copy_history's reads (the target's absent tail, the
    # source's tail, and its range read of the part that ends the copy)
    assert wire.calls["GetObject"] == 4
    assert wire.calls["PutObject"] == 2  # the copied history's tail, the metadata (last)
    assert sum(wire.calls.values()) == 11


# -- orphans ------------------------------------------------------------------------------------

async def test_finding_orphans_costs_three_listings(
    manager: SessionManager, store: S3Store, wire: WireCounter
) -> None:
    ids = await populate(manager, 3)
    await store.delete(("sessions",), ids[0])
    wire.reset()
    report = await sweep_orphans(manager)
    assert [o.session_id for o in report.found] == [ids[0]]
    assert wire.calls == {"ListObjectsV2": 3}
    wire.reset()
    await sweep_orphans(manager, delete=True, now=LATER)
    # census; then per orphan: a GET of its metadata, 2 listings, 1 DeleteObjects
    assert wire.calls == {"ListObjectsV2": 3 + 2, "GetObject": 1, "DeleteObjects": 1}
