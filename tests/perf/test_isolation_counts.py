"""An isolated deployment (``ISOLATION_MODE=jwt``: every caller's data behind a
:class:`ScopedStore`) sends exactly the requests an unscoped one sends, operation by
operation. The scope is a namespace prefix and nothing more: a wrapper that dropped a
backend's optimisation (the shared ``DeleteObjects`` batch of ``delete_session``) would
show up here as a different count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, S3Store, SessionManager, Store
from synaptic_s3.service.isolation import ScopedStore, subject_scope
from tests.perf.conftest import WireCounter

pytestmark = pytest.mark.s3

Step = Callable[[SessionManager, str], Awaitable[object]]


async def _create(manager: SessionManager, session_id: str) -> object:
    return await manager.create_session(session_id=session_id)


async def _get(manager: SessionManager, session_id: str) -> object:
    return await manager.get_session(session_id)


async def _list(manager: SessionManager, session_id: str) -> object:
    return await manager.list_sessions()


async def _append(manager: SessionManager, session_id: str) -> object:
    return await manager.memory().append(session_id, Message.human("hello"))


async def _append_again(manager: SessionManager, session_id: str) -> object:
    return await manager.memory().append(session_id, Message.ai("hi"))


async def _load(manager: SessionManager, session_id: str) -> object:
    return await SessionManager(manager.store).memory().load(session_id)  # a cold cache


async def _put_checkpoint(manager: SessionManager, session_id: str) -> object:
    return await manager.checkpointer().put(CheckpointConfig(session_id), Checkpoint({"n": 1}))


async def _latest_checkpoint(manager: SessionManager, session_id: str) -> object:
    return await manager.checkpointer().get(CheckpointConfig(session_id))


async def _delete_session(manager: SessionManager, session_id: str) -> object:
    return await manager.delete_session(session_id)


STEPS: list[tuple[str, Step]] = [
    ("create_session", _create),
    ("get_session", _get),
    ("list_sessions", _list),
    ("append", _append),
    ("append_warm", _append_again),
    ("load", _load),
    ("put_checkpoint", _put_checkpoint),
    ("latest_checkpoint", _latest_checkpoint),
    ("delete_session", _delete_session),
]


async def _costs(store: Store, wire: WireCounter) -> dict[str, dict[str, int]]:
    manager = SessionManager(store)
    memory = manager.memory()
    manager.memory = lambda: memory  # type: ignore[method-assign] # one warm history
    costs = {}
    for name, step in STEPS:
        wire.reset()
        await step(manager, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        costs[name] = dict(wire.calls)
    return costs


async def test_an_isolated_deployment_costs_what_an_unscoped_one_costs(
    store: S3Store, wire: WireCounter
) -> None:
    unscoped = await _costs(store, wire)
    scoped = await _costs(ScopedStore(store, subject_scope("alice")), wire)

    assert scoped == unscoped
    assert unscoped["delete_session"].get("DeleteObjects") == 1  # one shared batch
    assert unscoped["get_session"] == {"GetObject": 1}
