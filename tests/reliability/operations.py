"""The library's operation classes, each with the state it needs and the state it must
leave: what the fault tests run, one fault at a time.

A :class:`World` is two fully populated sessions (messages, summary, checkpoints)
and one empty one. Each :class:`Operation` says which S3 request its fault is
aimed at, how to run it, what the bucket must hold after it succeeded, and which
in-between states are acceptable after it failed (never a corrupt or half-written
object: only "before", "after", or for deletes a state the next delete finishes).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, SessionInfo, SessionManager
from synaptic_s3.ids import iso_utc, uuid7_datetime
from tests.reliability.helpers import digest, etag

Snapshot = dict[str, Any]


@dataclass
class World:
    """What an operation runs against; the pending objects are created once so that a
    retried call sends the very same message / checkpoint (as a caller would)."""

    target: str
    neighbour: str
    empty: str
    new_message: Message = field(default_factory=lambda: Message.human("appended under fault"))
    new_checkpoint: Checkpoint = field(default_factory=lambda: Checkpoint({"step": 3}))
    new_summary: str = "summary written under fault"


async def build_world(manager: SessionManager) -> tuple[World, Snapshot]:
    """A target session with two messages, a summary and two checkpoints; a
    neighbour with a message and a checkpoint; an empty session. Written with plain
    puts, all at once (the fault tests build many worlds); returns the world and
    the snapshot of what was written."""
    store = manager.store
    ids = sorted(await asyncio.gather(*(manager.create_session() for _ in range(3))))
    target, neighbour = ids[0], ids[1]
    written: Snapshot = {f"sessions/{sid}.json": session_info(sid) for sid in ids}
    for session_id, count in ((target, 2), (neighbour, 1)):
        written[f"memory/{session_id}/messages.json"] = [
            Message.human(f"{i} from {session_id}", id=f"m{i}").to_dict() for i in range(count)]
        for step in range(count):
            checkpoint = Checkpoint({"step": step}).to_dict()
            written[f"checkpoints/{session_id}/{checkpoint['id']}.json"] = checkpoint
    written[f"memory/{target}/summary.json"] = f"summary of {target}"
    await asyncio.gather(*(
        store.put(tuple(key.split("/")[:-1]), key.rsplit("/", 1)[1].removesuffix(".json"), value)
        for key, value in written.items() if not key.startswith("sessions/")
    ))
    return World(ids[0], ids[1], ids[2]), written


def session_info(session_id: str) -> dict[str, str]:
    created = uuid7_datetime(session_id)
    assert created is not None
    return {"id": session_id, "created_at": iso_utc(created)}


def owned_by(key: str, session_id: str) -> bool:
    """Whether an object key belongs to a session (its metadata, memory, checkpoints)."""
    return key == f"sessions/{session_id}.json" or key.startswith(
        (f"memory/{session_id}/", f"checkpoints/{session_id}/"))


Run = Callable[[SessionManager, World], Awaitable[Any]]
Expect = Callable[[Snapshot, World, Any], Snapshot]
Check = Callable[[Any, Snapshot, World], None]


def _unchanged(before: Snapshot, world: World, result: Any) -> Snapshot:
    return before


@dataclass(frozen=True)
class Operation:
    name: str
    target: str
    """The S3 operation (as :func:`synaptic_s3.testing.faults.classify` names it)
    the fault hits: the first such request the operation sends."""
    run: Run
    expect: Expect = _unchanged
    check: Check | None = None
    conditional: bool = False
    """Whether the targeted request is a conditional write (412 is meaningful)."""
    fanout: int = 1
    """How many target requests the operation sends at once (each retried alone)."""

    def partial_ok(self, before: Snapshot, mid: dict[str, str], world: World) -> bool:
        """Whether ``mid`` (ETags, as :func:`snapshot` returns) is an acceptable state
        after the operation FAILED: before, after, or for deletes a prefix of the work."""
        etags = digest(before)
        if self.name == "delete_session":
            return _partly_deleted(etags, mid, world.target)
        if self.name == "clear":
            # clear first fences writers with an empty messages array, then deletes.
            tail = f"memory/{world.target}/messages.json"
            fenced = {**etags, tail: etag([])}
            kept = {k: v for k, v in etags.items()
                    if not k.startswith(f"memory/{world.target}/")}
            return (all(mid.get(k) == v for k, v in kept.items())
                    and (mid.items() <= etags.items() or mid.items() <= fenced.items()))
        if self.name == "create_session":
            added = {k: v for k, v in mid.items() if k not in etags}
            return (all(mid.get(k) == v for k, v in etags.items())
                    and all(v == etag(session_info(k[len("sessions/"):-len(".json")]))
                            for k, v in added.items()))
        return mid in (etags, digest(self.expect(before, world, None)))

    def __str__(self) -> str:
        return self.name


def _partly_deleted(before: dict[str, str], mid: dict[str, str], session_id: str) -> bool:
    """Others untouched; of the session, only deletions; metadata goes last."""
    others_kept = all(mid.get(k) == v for k, v in before.items() if not owned_by(k, session_id))
    only_deleted = mid.items() <= before.items()
    metadata_last = f"sessions/{session_id}.json" in mid or not any(
        owned_by(k, session_id) for k in mid)
    return others_kept and only_deleted and metadata_last


# -- the operations -------------------------------------------------------------------------


async def _create(manager: SessionManager, world: World) -> str:
    return await manager.create_session()


def _expect_created(before: Snapshot, world: World, result: Any) -> Snapshot:
    return {**before, f"sessions/{result}.json": session_info(result)}


def _check_get(result: Any, before: Snapshot, world: World) -> None:
    assert result == SessionInfo(**before[f"sessions/{world.target}.json"])


def _check_list(result: Any, before: Snapshot, world: World) -> None:
    assert [info.id for info in result] == [world.target, world.neighbour, world.empty]


async def _append(manager: SessionManager, world: World) -> None:
    await manager.memory().append(world.target, world.new_message)


def _expect_appended(before: Snapshot, world: World, result: Any) -> Snapshot:
    key = f"memory/{world.target}/messages.json"
    return {**before, key: [*before[key], world.new_message.to_dict()]}


async def _append_first(manager: SessionManager, world: World) -> None:
    await manager.memory().append(world.empty, world.new_message)


def _expect_first(before: Snapshot, world: World, result: Any) -> Snapshot:
    return {**before, f"memory/{world.empty}/messages.json": [world.new_message.to_dict()]}


async def _load(manager: SessionManager, world: World) -> list[dict[str, Any]]:
    return [m.to_dict() for m in await manager.memory().load(world.target)]


def _check_load(result: Any, before: Snapshot, world: World) -> None:
    assert result == before[f"memory/{world.target}/messages.json"]


async def _set_summary(manager: SessionManager, world: World) -> None:
    await manager.memory().set_summary(world.target, world.new_summary)


def _expect_summary(before: Snapshot, world: World, result: Any) -> Snapshot:
    return {**before, f"memory/{world.target}/summary.json": world.new_summary}


async def _get_summary(manager: SessionManager, world: World) -> str | None:
    return await manager.memory().get_summary(world.target)


def _check_summary(result: Any, before: Snapshot, world: World) -> None:
    assert result == before[f"memory/{world.target}/summary.json"]


async def _put_checkpoint(manager: SessionManager, world: World) -> None:
    await manager.checkpointer().put(CheckpointConfig(world.target), world.new_checkpoint)


def _expect_checkpoint(before: Snapshot, world: World, result: Any) -> Snapshot:
    key = f"checkpoints/{world.target}/{world.new_checkpoint.id}.json"
    return {**before, key: world.new_checkpoint.to_dict()}


def _checkpoints_of(before: Snapshot, session_id: str) -> list[Any]:
    prefix = f"checkpoints/{session_id}/"
    return [before[k] for k in sorted(before) if k.startswith(prefix)]


async def _latest_checkpoint(manager: SessionManager, world: World) -> Any:
    latest = await manager.checkpointer().get(CheckpointConfig(world.target))
    return None if latest is None else latest.to_dict()


def _check_latest(result: Any, before: Snapshot, world: World) -> None:
    assert result == _checkpoints_of(before, world.target)[-1]


async def _list_checkpoints(manager: SessionManager, world: World) -> list[Any]:
    return [c.to_dict() for c in await manager.checkpointer().list(CheckpointConfig(world.target))]


def _check_checkpoints(result: Any, before: Snapshot, world: World) -> None:
    assert result == _checkpoints_of(before, world.target)


async def _delete_session(manager: SessionManager, world: World) -> None:
    await manager.delete_session(world.target)


def _expect_deleted(before: Snapshot, world: World, result: Any) -> Snapshot:
    return {k: v for k, v in before.items() if not owned_by(k, world.target)}


async def _clear(manager: SessionManager, world: World) -> None:
    await manager.memory().clear(world.target)


def _expect_cleared(before: Snapshot, world: World, result: Any) -> Snapshot:
    return {k: v for k, v in before.items() if not k.startswith(f"memory/{world.target}/")}


async def _get_session(manager: SessionManager, world: World) -> SessionInfo | None:
    return await manager.get_session(world.target)


async def _list_sessions(manager: SessionManager, world: World) -> list[SessionInfo]:
    return await manager.list_sessions()


OPERATIONS: tuple[Operation, ...] = (
    Operation("create_session", "PutObject", _create, _expect_created, conditional=True),
    Operation("get_session", "GetObject", _get_session, check=_check_get),
    Operation("list_sessions", "ListObjectsV2", _list_sessions, check=_check_list),
    Operation("append", "PutObject", _append, _expect_appended, conditional=True),
    Operation("append_first", "PutObject", _append_first, _expect_first, conditional=True),
    Operation("load", "GetObject", _load, check=_check_load),
    Operation("set_summary", "PutObject", _set_summary, _expect_summary),
    Operation("get_summary", "GetObject", _get_summary, check=_check_summary),
    Operation("put_checkpoint", "PutObject", _put_checkpoint, _expect_checkpoint),
    Operation("latest_checkpoint", "ListObjectsV2", _latest_checkpoint, check=_check_latest),
    Operation("list_checkpoints", "GetObject", _list_checkpoints, check=_check_checkpoints,
              fanout=2),
    Operation("delete_session", "DeleteObjects", _delete_session, _expect_deleted),
    Operation("clear", "DeleteObject", _clear, _expect_cleared, fanout=2),
)

_LIBRARY = str(Path(inspect.getfile(SessionManager)).parent)


async def settle() -> None:
    """Wait for tasks the library left running (``asyncio.gather`` keeps a sibling
    going after the first failure), so the bucket no longer changes."""
    current = asyncio.current_task()
    pending = [
        task for task in asyncio.all_tasks()
        if task is not current and not task.done()
        and (code := getattr(task.get_coro(), "cr_code", None)) is not None
        and code.co_filename.startswith(_LIBRARY) and "testing" not in code.co_filename
    ]
    if pending:
        await asyncio.wait(pending)
