"""Forks on every backend: a complete copy or no new session, the source untouched."""

from __future__ import annotations

import pytest

from synaptic_s3 import (
    Checkpoint,
    CheckpointConfig,
    Message,
    NotFoundError,
    SessionManager,
    Store,
)
from synaptic_s3.lifecycle.forks import fork_session
from synaptic_s3.lifecycle.orphans import find_orphans


async def source(manager: SessionManager, messages: int = 4,
                 checkpoints: int = 3) -> tuple[str, list[str]]:
    session_id = await manager.create_session()
    await manager.memory().append_many(
        session_id, [Message.human(f"m{i}") for i in range(messages)])
    await manager.memory().set_summary(session_id, "the summary")
    ids = []
    for step in range(checkpoints):
        checkpoint = Checkpoint({"step": step})
        await manager.checkpointer().put(CheckpointConfig(session_id), checkpoint)
        ids.append(checkpoint.id)
    return session_id, ids


async def contents(manager: SessionManager, session_id: str) -> tuple[list[str], str | None,
                                                                      list[str]]:
    messages = [m.content for m in await manager.memory().load(session_id)]
    summary = await manager.memory().get_summary(session_id)
    checkpoints = [c.id for c in await manager.checkpointer().list(CheckpointConfig(session_id))]
    return messages, summary, checkpoints


async def test_a_fork_copies_messages_summary_and_checkpoints(manager: SessionManager) -> None:
    original, _ = await source(manager)
    before = await contents(manager, original)
    fork = await manager.fork_session(original)
    assert fork != original
    assert await manager.get_session(fork) is not None
    assert await contents(manager, fork) == before
    assert await contents(manager, original) == before


@pytest.mark.parametrize("count", [0, 1, 3, 4, 5])
async def test_a_fork_takes_the_first_messages(manager: SessionManager, count: int) -> None:
    original, _ = await source(manager, messages=4)
    fork = await manager.fork_session(original, messages=count)
    messages, _, _ = await contents(manager, fork)
    assert messages == [f"m{i}" for i in range(min(count, 4))]


@pytest.mark.parametrize("upto", [0, 1, 2])
async def test_a_fork_at_a_checkpoint_keeps_those_up_to_it(
    manager: SessionManager, upto: int
) -> None:
    original, ids = await source(manager, checkpoints=3)
    fork = await manager.fork_session(original, checkpoint_id=ids[upto])
    _, _, checkpoints = await contents(manager, fork)
    assert checkpoints == ids[:upto + 1]
    latest = await manager.checkpointer().get(CheckpointConfig(fork))
    assert latest is not None
    assert latest.state == {"step": upto}


async def test_forking_an_empty_session_makes_an_empty_session(manager: SessionManager) -> None:
    original = await manager.create_session()
    fork = await manager.fork_session(original)
    assert await contents(manager, fork) == ([], None, [])


async def test_a_missing_source_is_not_found_and_writes_nothing(
    manager: SessionManager, store: Store
) -> None:
    with pytest.raises(NotFoundError, match="session"):
        await manager.fork_session("no-such-session")
    assert await store.list_namespaces(()) == []


async def test_a_missing_checkpoint_is_not_found_and_writes_nothing(
    manager: SessionManager, store: Store
) -> None:
    original, _ = await source(manager)
    before = await store.list_namespaces(())
    with pytest.raises(NotFoundError, match="checkpoint"):
        await manager.fork_session(original, checkpoint_id="ffff")
    assert await store.list_namespaces(()) == before
    assert len(await manager.list_sessions()) == 1


async def test_an_interrupted_fork_leaves_no_session_only_orphans(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, _ = await source(manager)

    async def killed(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt  # the process dies before the metadata is written

    monkeypatch.setattr(manager, "create_session", killed)
    with pytest.raises(KeyboardInterrupt):
        await manager.fork_session(original)
    monkeypatch.undo()
    assert [info.id for info in await manager.list_sessions()] == [original]
    assert len(await find_orphans(manager)) == 1


async def test_a_repeated_fork_with_the_same_new_id_is_one_fork(manager: SessionManager) -> None:
    original, _ = await source(manager)
    first = await fork_session(manager, original, new_id="fork-1")
    again = await fork_session(manager, original, new_id="fork-1")
    assert first == again == "fork-1"
    assert await contents(manager, "fork-1") == await contents(manager, original)


async def test_a_retried_fork_after_an_interruption_completes(
    manager: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, _ = await source(manager)

    async def killed(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(manager, "create_session", killed)
    with pytest.raises(KeyboardInterrupt):
        await fork_session(manager, original, new_id="fork-2")
    monkeypatch.undo()
    retried = await fork_session(manager, original, new_id="fork-2")
    assert retried == "fork-2.1"  # the interrupted attempt's leftovers are not reused
    assert await contents(manager, retried) == await contents(manager, original)
    assert [o.session_id for o in await find_orphans(manager)] == ["fork-2"]
    assert await fork_session(manager, original, new_id="fork-2") == retried  # a replay


async def test_a_fork_does_not_take_the_lease(manager: SessionManager, store: Store) -> None:
    from datetime import timedelta

    original, _ = await source(manager)
    await manager.acquire_lease(original, ttl=timedelta(minutes=1))
    fork = await manager.fork_session(original)
    assert await store.get(("memory", fork), "lease") is None
    await (await manager.acquire_lease(fork, ttl=timedelta(minutes=1))).release()
