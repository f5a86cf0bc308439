"""Retention: idle sessions found from listings alone, deleted safely (re-checked
right before each delete), on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, SessionManager, Store
from synaptic_s3.lifecycle import retention
from synaptic_s3.lifecycle.retention import idle_sessions, sweep_idle_sessions
from tests.conftest import StoreFactory
from tests.lifecycle.aging import age

MONTH = timedelta(days=30)


def later(days: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


async def populated(manager: SessionManager) -> list[str]:
    """Three sessions: bare, with messages and summary, with a checkpoint."""
    bare = await manager.create_session()
    chatty = await manager.create_session()
    await manager.memory().append(chatty, Message.human("hi"))
    await manager.memory().set_summary(chatty, "greeting")
    graph = await manager.create_session()
    await manager.checkpointer().put(CheckpointConfig(graph), Checkpoint({"x": 1}))
    return [bare, chatty, graph]


async def test_nothing_is_idle_right_after_writing(manager: SessionManager) -> None:
    await populated(manager)
    assert await manager.idle_sessions(MONTH) == []


async def test_every_session_is_idle_a_month_later(manager: SessionManager) -> None:
    ids = await populated(manager)
    found = await idle_sessions(manager, MONTH, now=later(31))
    assert sorted(info.id for info in found) == sorted(ids)


async def test_idle_sessions_costs_no_reads_of_uuid7_sessions(manager: SessionManager) -> None:
    ids = await populated(manager)
    found = await idle_sessions(manager, MONTH, now=later(31))
    assert [info.created_at for info in found] == [
        info.created_at for info in await manager.list_sessions() if info.id in ids]


async def test_the_cutoff_is_exclusive_of_recent_writes(manager: SessionManager) -> None:
    await populated(manager)
    assert await idle_sessions(manager, MONTH, now=later(29)) == []


async def test_dry_run_deletes_nothing(manager: SessionManager) -> None:
    ids = await populated(manager)
    report = await sweep_idle_sessions(manager, MONTH, dry_run=True, now=later(31))
    assert report.deleted == sorted(ids)
    assert len(await manager.list_sessions()) == 3


async def test_sweep_deletes_idle_sessions_and_everything_they_own(
    manager: SessionManager, store: Store
) -> None:
    ids = await populated(manager)
    report = await sweep_idle_sessions(manager, MONTH, now=later(31))
    assert report.deleted == sorted(ids)
    assert await manager.list_sessions() == []
    assert await store.list_namespaces(()) == []


async def test_a_limit_bounds_the_run_and_the_next_run_resumes(manager: SessionManager) -> None:
    ids = await populated(manager)
    first = await sweep_idle_sessions(manager, MONTH, now=later(31), limit=2)
    assert (len(first.deleted), first.remaining) == (2, 1)
    second = await sweep_idle_sessions(manager, MONTH, now=later(31), limit=2)
    assert sorted(first.deleted + second.deleted) == sorted(ids)
    assert second.remaining == 0


async def test_keep_going_stops_a_run_early(manager: SessionManager) -> None:
    await populated(manager)
    report = await sweep_idle_sessions(manager, MONTH, now=later(31), concurrency=1,
                                       keep_going=lambda: False)
    assert (report.deleted, report.remaining) == ([], 3)


async def test_delete_idle_sessions_returns_ids(manager: SessionManager) -> None:
    await populated(manager)
    assert await manager.delete_idle_sessions(MONTH) == []
    assert await manager.delete_idle_sessions(MONTH, dry_run=True) == []


@pytest.mark.parametrize("bad", [timedelta(0), timedelta(seconds=-1)])
async def test_a_non_positive_age_is_refused(manager: SessionManager, bad: timedelta) -> None:
    with pytest.raises(ValueError, match="older_than"):
        await manager.idle_sessions(bad)


# -- data of different ages (memory and files: S3 sets LastModified itself) ------------------


@pytest.mark.parametrize("part", ["messages", "summary", "checkpoint", "lease"])
async def test_any_recent_write_keeps_a_session(
    manager: SessionManager, store: Store, part: str
) -> None:
    old = await manager.create_session()
    fresh = await manager.create_session()
    age(store, timedelta(days=40))
    if part == "messages":
        await manager.memory().append(fresh, Message.human("still here"))
    elif part == "summary":
        await manager.memory().set_summary(fresh, "s")
    elif part == "checkpoint":
        await manager.checkpointer().put(CheckpointConfig(fresh), Checkpoint({}))
    else:
        await manager.acquire_lease(fresh, ttl=timedelta(minutes=5))
    assert [info.id for info in await manager.idle_sessions(MONTH)] == [old]


async def test_a_session_written_during_the_sweep_is_not_deleted(
    manager: SessionManager, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await manager.create_session()
    second = await manager.create_session()
    age(store, timedelta(days=40))
    census = retention.idle_ids

    async def census_then_a_write(*args: Any, **kwargs: Any) -> list[str]:
        """Both are idle when the census is taken; then a writer appends to one."""
        found = await census(*args, **kwargs)
        await manager.memory().append(second, Message.human("late"))
        return found

    monkeypatch.setattr(retention, "idle_ids", census_then_a_write)
    report = await sweep_idle_sessions(manager, MONTH)
    assert report.idle == [first, second]
    assert report.deleted == [first]
    assert report.skipped == [second]
    assert [info.id for info in await manager.list_sessions()] == [second]
    assert [m.content for m in await manager.memory().load(second)] == ["late"]


async def test_two_sweeps_at_once_delete_every_idle_session_without_error(
    store_factory: StoreFactory,
) -> None:
    managers = [SessionManager(await store_factory()) for _ in range(2)]
    ids = await populated(managers[0])
    reports = await asyncio.gather(*(sweep_idle_sessions(m, MONTH, now=later(31))
                                     for m in managers))
    assert set(reports[0].deleted) | set(reports[1].deleted) == set(ids)
    assert await managers[0].list_sessions() == []
