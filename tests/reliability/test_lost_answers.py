"""Writes whose answer is lost: the server applied them, the client saw a 500 or a
dropped connection, and retried. Each must take effect exactly once.

Appends are idempotent by message id: a message without an id is given one (set on
the very object passed in) before the first attempt, so a retry of the SAME
object, by botocore or by the caller, is recognised; a new object with the same
text is a new message.
"""

from __future__ import annotations

import pytest

from synaptic_s3 import (
    Checkpoint,
    CheckpointConfig,
    Message,
    S3Store,
    SessionManager,
    StorageUnavailableError,
)
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.reliability.helpers import snapshot

pytestmark = [pytest.mark.s3]

LOST = [Fault.lose_answer("error"), Fault.lose_answer("drop")]
LOST_IDS = ["500", "drop"]


def puts(proxy: FaultProxy) -> list[tuple[int | None, str | None]]:
    """(server's status, fault) of every PutObject the proxy saw."""
    return [(e.upstream_status, e.fault) for e in proxy.exchanges if e.operation == "PutObject"]


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_a_create_whose_answer_is_lost_is_one_session(
    fault: Fault, proxy: FaultProxy, faulty: S3Store
) -> None:
    proxy.inject(fault, operation="PutObject")
    manager = SessionManager(faulty)
    session_id = await manager.create_session()
    assert [info.id for info in await manager.list_sessions()] == [session_id]
    assert puts(proxy) == [(200, fault.name), (412, None)]  # applied, then met itself


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_an_append_whose_answer_is_lost_is_stored_once(
    fault: Fault, proxy: FaultProxy, faulty: S3Store
) -> None:
    history = SessionManager(faulty).memory()
    await history.append("s", Message.human("first"))
    proxy.inject(fault, operation="PutObject")
    await history.append("s", Message.human("second"))
    assert [m.content for m in await history.load("s")] == ["first", "second"]
    assert history.conflicts == 1  # the retry met its own write: one re-read, no re-write
    assert puts(proxy)[1:] == [(200, fault.name), (412, None)]


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_a_first_append_whose_answer_is_lost_is_stored_once(
    fault: Fault, proxy: FaultProxy, faulty: S3Store
) -> None:
    proxy.inject(fault, operation="PutObject")
    history = SessionManager(faulty).memory()
    await history.append_many("s", [Message.human("a"), Message.ai("b")])
    assert [m.content for m in await history.load("s")] == ["a", "b"]


async def test_a_caller_retry_of_the_same_message_after_an_error_is_stored_once(
    proxy: FaultProxy, faulty: S3Store
) -> None:
    history = SessionManager(faulty).memory()
    await history.append("s", Message.human("first"))
    message = Message.human("every answer lost")
    proxy.inject(Fault.lose_answer("error"), operation="PutObject", times=None)
    with pytest.raises(StorageUnavailableError):
        await history.append("s", message)
    proxy.clear()
    await history.append("s", message)  # the caller retries with the same object
    loaded = await history.load("s")
    assert [m.content for m in loaded] == ["first", "every answer lost"]
    assert loaded[1].id == message.id


async def test_a_caller_retry_with_an_explicit_id_is_stored_once(
    proxy: FaultProxy, faulty: S3Store
) -> None:
    """A caller that rebuilds the message (a new Lambda invocation) keeps the id."""
    proxy.inject(Fault.lose_answer("error"), operation="PutObject", times=None)
    with pytest.raises(StorageUnavailableError):
        await SessionManager(faulty).memory().append("s", Message.human("x", id="client-1"))
    proxy.clear()
    history = SessionManager(faulty).memory()  # a fresh process: no cache
    await history.append("s", Message.human("x", id="client-1"))
    assert [m.id for m in await history.load("s")] == ["client-1"]


async def test_a_new_message_object_without_id_is_a_new_message(
    proxy: FaultProxy, faulty: S3Store
) -> None:
    """Documented limit: idempotency is by id; same text in a new object is appended."""
    history = SessionManager(faulty).memory()
    await history.append("s", Message.human("same text"))
    await history.append("s", Message.human("same text"))
    assert [m.content for m in await history.load("s")] == ["same text", "same text"]


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_a_checkpoint_whose_answer_is_lost_is_one_object(
    fault: Fault, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    proxy.inject(fault, operation="PutObject")
    checkpoint = Checkpoint({"step": 1})
    await SessionManager(faulty).checkpointer().put(CheckpointConfig("t"), checkpoint)
    assert list(await snapshot(direct)) == [f"checkpoints/t/{checkpoint.id}.json"]
    assert puts(proxy) == [(200, fault.name), (200, None)]  # same body written twice


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_a_delete_whose_answer_is_lost_completes(
    fault: Fault, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    manager = SessionManager(faulty)
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("bye"))
    proxy.inject(fault, operation="DeleteObjects")
    proxy.inject(fault, operation="DeleteObject")
    await manager.delete_session(session_id)
    assert await snapshot(direct) == {}
