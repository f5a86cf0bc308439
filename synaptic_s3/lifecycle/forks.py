"""Forks: a new session holding a copy of another's messages, summary and checkpoints.

The copy never modifies the source and never downloads what it can copy whole: the
summary and every checkpoint object are copied server side (:meth:`Store.copy`, S3
CopyObject); the messages through :meth:`ChatMessageHistory.copy_history` (whole
segments copied, only the part that ends the copy rewritten).

The new session's metadata is written LAST. A fork interrupted before that leaves
objects under ``memory/<new>/`` and ``checkpoints/<new>/`` with no metadata: no
route or listing shows a half-made session, and the orphan sweep
(:mod:`synaptic_s3.lifecycle.orphans`) removes them once they are older than its
grace period. So an interrupted fork leaves either no new session or a complete one.

With ``checkpoint_id``, the native checkpoints up to and including it are copied
(ids sort in creation order); LangGraph checkpoints stored under the session
(``checkpoints/<id>/langgraph...``) are copied only by a fork of the whole
session. Cost: 1 GET (the source's metadata) + 1 listing per 1,000 checkpoint
objects + 1 CopyObject per checkpoint + 1 CopyObject for the summary +
``copy_history`` + 1 PUT (the metadata).
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from synaptic_s3.checkpoint import NAMESPACE as CHECKPOINTS
from synaptic_s3.core.errors import ConflictError, NotFoundError
from synaptic_s3.core.keys import Namespace, validate_key
from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.ids import uuid7, uuid7_datetime, uuid7_from
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.memory import SUMMARY_KEY

if TYPE_CHECKING:
    from synaptic_s3.session import SessionManager


_MAX_RETRIES = 16


async def _holds_objects(manager: SessionManager, session_id: str) -> bool:
    for name in (MEMORY, CHECKPOINTS):
        async for _ in manager.store.iter_entries((name, session_id)):
            return True
    return False


async def free_target(manager: SessionManager, new_id: str) -> tuple[str, bool]:
    """``new_id``, or -- when an interrupted attempt left objects there without
    metadata -- the first of a sequence of ids derived from it that is complete or
    untouched, and whether it is complete. Nothing is deleted (the HTTP write role
    may not delete): what the interrupted attempt left is an orphan for the sweep."""
    created = uuid7_datetime(new_id)
    candidate = new_id
    for attempt in range(1, _MAX_RETRIES + 1):
        if await manager.get_session(candidate) is not None:
            return candidate, True
        if not await _holds_objects(manager, candidate):
            return candidate, False
        if created is None:
            candidate = f"{new_id}.{attempt}"
        else:
            seed = json.dumps([new_id, attempt]).encode()
            candidate = str(uuid7_from(int(created.timestamp() * 1000), seed))
    raise ConflictError(f"fork {new_id!r} was interrupted too often; retry with a new "
                        "request", namespace=("sessions",), key=new_id)


async def fork_session(
    manager: SessionManager,
    session_id: str,
    *,
    messages: int | None = None,
    checkpoint_id: str | None = None,
    new_id: str | None = None,
) -> str:
    """Fork ``session_id``; return the new session's id. :class:`NotFoundError` for
    a missing source session or checkpoint, before anything is written.

    ``new_id`` is for callers that must be idempotent (an HTTP request replayed,
    derived from its Idempotency-Key): if that session exists the fork is done and
    its id returned; if an interrupted attempt left objects there, the fork is made
    under the next id derived from it (the leftovers are orphans for the sweep).
    """
    if messages is not None and (isinstance(messages, bool) or not isinstance(messages, int)
                                 or messages < 0):
        raise ValueError(f"messages must be a non-negative int, not {messages!r}")
    store = manager.store
    source_ns: Namespace = (CHECKPOINTS, session_id)
    if checkpoint_id is not None:
        validate_key(source_ns, checkpoint_id)
    if await manager.get_session(session_id) is None:
        raise NotFoundError("session", session_id)
    objects: list[tuple[Namespace, str]] = []
    async for page in store.iter_entries(source_ns):
        objects.extend((entry.namespace, entry.key) for entry in page)
    if checkpoint_id is not None:
        if (source_ns, checkpoint_id) not in objects:
            raise NotFoundError("checkpoint", checkpoint_id)
        objects = [(ns, key) for ns, key in objects if ns == source_ns and key <= checkpoint_id]
    if new_id is None:
        target = str(uuid7())
    else:
        validate_key(("sessions",), new_id)
        target, complete = await free_target(manager, new_id)
        if complete:
            return target  # a repeated request: that fork is complete

    async def copy(namespace: Namespace, key: str) -> None:
        destination = (CHECKPOINTS, target, *namespace[2:])
        await store.copy(namespace, key, destination, key)

    await gather_bounded((copy(ns, key) for ns, key in objects), store.max_concurrency)
    with contextlib.suppress(NotFoundError):  # a session without a summary
        await store.copy((MEMORY, session_id), SUMMARY_KEY, (MEMORY, target), SUMMARY_KEY)
    await manager.memory().copy_history(session_id, target, messages=messages)
    await manager.create_session(session_id=target)
    return target
