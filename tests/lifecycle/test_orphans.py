"""Objects of no session: found from one listing, removed carefully, on every backend;
and delete_session removes a session's objects when its metadata is already gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, SessionManager, Store
from synaptic_s3.lifecycle.orphans import find_orphans, sweep_orphans

LATER = datetime.now(UTC) + timedelta(hours=1)


async def orphaned(manager: SessionManager, store: Store) -> str:
    """A session whose metadata is gone but whose objects are left, as when a write
    races a DELETE: messages, summary, a checkpoint, a lease."""
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("left behind"))
    await manager.memory().set_summary(session_id, "s")
    await manager.checkpointer().put(CheckpointConfig(session_id), Checkpoint({"n": 1}))
    await manager.acquire_lease(session_id, ttl=timedelta(minutes=1))
    await store.delete(("sessions",), session_id)
    return session_id


async def test_objects_without_metadata_are_found(manager: SessionManager, store: Store) -> None:
    kept = await manager.create_session()
    await manager.memory().append(kept, Message.human("mine"))
    lost = await orphaned(manager, store)
    found = await find_orphans(manager)
    assert [orphan.session_id for orphan in found] == [lost]
    assert found[0].objects == 4
    assert found[0].size > 0


async def test_a_dry_run_deletes_nothing(manager: SessionManager, store: Store) -> None:
    lost = await orphaned(manager, store)
    report = await sweep_orphans(manager, now=LATER)
    assert report.deleted == []
    assert await store.list_namespaces(("memory", lost))


async def test_delete_removes_orphans_and_nothing_else(
    manager: SessionManager, store: Store
) -> None:
    kept = await manager.create_session()
    await manager.memory().append(kept, Message.human("mine"))
    lost = await orphaned(manager, store)
    report = await sweep_orphans(manager, delete=True, now=LATER)
    assert report.deleted == [lost]
    assert await find_orphans(manager) == []
    assert await store.list_namespaces(("memory", lost)) == []
    assert await store.list_namespaces(("checkpoints", lost)) == []
    assert [m.content for m in await manager.memory().load(kept)] == ["mine"]


async def test_recent_orphans_are_kept_for_the_grace_period(
    manager: SessionManager, store: Store
) -> None:
    lost = await orphaned(manager, store)
    report = await sweep_orphans(manager, delete=True)  # written just now: within 10 min
    assert (report.deleted, report.kept) == ([], [lost])
    assert await store.list_namespaces(("memory", lost))


async def test_an_id_given_metadata_since_the_census_is_kept(
    manager: SessionManager, store: Store
) -> None:
    lost = await orphaned(manager, store)
    found = await find_orphans(manager)
    await manager.create_session(session_id=lost)  # e.g. a fork finishing
    report = await sweep_orphans(manager, delete=True, now=LATER)
    assert [o.session_id for o in found] == [lost]
    assert report.kept == [lost] or report.found == []
    assert await manager.memory().load(lost)


async def test_an_empty_store_has_no_orphans(manager: SessionManager) -> None:
    report = await sweep_orphans(manager, delete=True, now=LATER)
    assert (report.found, report.deleted, report.objects) == ([], [], 0)


async def test_delete_session_removes_objects_whose_metadata_is_gone(
    manager: SessionManager, store: Store
) -> None:
    lost = await orphaned(manager, store)
    await manager.delete_session(lost)
    assert await store.list_namespaces(("memory", lost)) == []
    assert await store.list_namespaces(("checkpoints", lost)) == []
