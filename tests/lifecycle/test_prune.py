"""StoreCheckpointer.prune on every backend: the newest keep_last stay, the rest go."""

from __future__ import annotations

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, SessionManager, Store

COUNT = 5


async def put_checkpoints(manager: SessionManager, thread: str, count: int) -> list[str]:
    checkpointer = manager.checkpointer()
    ids = []
    for step in range(count):
        checkpoint = Checkpoint({"step": step})
        await checkpointer.put(CheckpointConfig(thread), checkpoint)
        ids.append(checkpoint.id)
    return ids


async def remaining(manager: SessionManager, thread: str) -> list[str]:
    return [c.id for c in await manager.checkpointer().list(CheckpointConfig(thread))]


@pytest.mark.parametrize("keep_last", [0, 1, COUNT - 1, COUNT, COUNT + 1])
async def test_prune_keeps_the_newest_keep_last(manager: SessionManager, keep_last: int) -> None:
    ids = await put_checkpoints(manager, "t", COUNT)
    deleted = await manager.checkpointer().prune(CheckpointConfig("t"), keep_last=keep_last)
    kept = ids[len(ids) - min(keep_last, len(ids)):]
    assert await remaining(manager, "t") == kept
    assert deleted == COUNT - len(kept)


async def test_prune_of_an_empty_thread_deletes_nothing(manager: SessionManager) -> None:
    assert await manager.checkpointer().prune(CheckpointConfig("none"), keep_last=0) == 0


async def test_prune_leaves_other_threads_and_the_latest_correct(
    manager: SessionManager,
) -> None:
    ids = await put_checkpoints(manager, "t", 4)
    other = await put_checkpoints(manager, "t2", 2)
    await manager.checkpointer().prune(CheckpointConfig("t"), keep_last=2)
    assert await remaining(manager, "t2") == other
    latest = await manager.checkpointer().get(CheckpointConfig("t"))
    assert latest is not None
    assert latest.id == ids[-1]


async def test_prune_never_touches_sub_namespaces(manager: SessionManager, store: Store) -> None:
    await put_checkpoints(manager, "t", 2)
    await store.put(("checkpoints", "t", "langgraph", "!"), "x", {"kept": True})
    await manager.checkpointer().prune(CheckpointConfig("t"), keep_last=0)
    assert await store.get(("checkpoints", "t", "langgraph", "!"), "x") is not None


@pytest.mark.parametrize("bad", [-1, True, 1.5])
async def test_prune_refuses_a_bad_keep_last(manager: SessionManager, bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        await manager.checkpointer().prune(CheckpointConfig("t"), keep_last=bad)  # type: ignore[arg-type]
