"""synaptic-s3 itself, driven through its public API (``SessionManager``,
``ChatMessageHistory``, ``StoreCheckpointer``) on one ``S3Store``."""

from __future__ import annotations

import json
from typing import Any

from benchmarks.content import checkpoint_state, text, wire_history
from benchmarks.counting import RequestCounter
from benchmarks.raw import Recorder
from benchmarks.servers import Target
from synaptic_s3 import (
    Checkpoint,
    CheckpointConfig,
    Message,
    S3Store,
    SessionManager,
    StoreCheckpointer,
)
from synaptic_s3.checkpoint_hint import HINT_EVERY, HINT_KEY, HINT_ROOT, hint_body
from synaptic_s3.ids import iso_utc, new_checkpoint_id, uuid7, uuid7_datetime

LABEL = "synaptic-s3"
SEED_CHUNK = 500  # messages per append while building a history (~130 kB)


class Ours:
    """One store, one manager, one request counter."""

    label = LABEL

    def __init__(self, target: Target, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.counter = RequestCounter()
        self.recorder = Recorder()  # the calls made, for the raw replay
        self.store = S3Store(bucket, **target.endpoint.boto3_kwargs())
        self.manager = SessionManager(self.store)
        self._tails: dict[str, tuple[int, Any]] = {}  # count, tail value

    async def open(self) -> None:
        client = await self.store.client()
        self.counter.attach(client.meta.events)
        self.recorder.attach(client.meta.events)

    async def close(self) -> None:
        await self.store.close()

    # -- sessions and memory --------------------------------------------------------------

    async def create_session(self) -> str:
        return await self.manager.create_session()

    async def get_session(self, session_id: str) -> None:
        assert await self.manager.get_session(session_id) is not None

    async def new_history(self, count: int) -> str:
        """A session holding ``count`` messages in the layout the library itself leaves
        behind when a conversation grows turn by turn: sealed segments of about 1 MiB
        and a tail (written in chunks of :data:`SEED_CHUNK` messages, since one big
        ``append_many`` would keep everything in the tail). Set-up, not measured."""
        session_id = await self.manager.create_session()
        memory = self.manager.memory()
        messages = [Message.from_dict(m) for m in wire_history(count)]
        for start in range(0, count, SEED_CHUNK):
            await memory.append_many(session_id, messages[start:start + SEED_CHUNK])
        tail = await self.store.get(("memory", session_id), "messages")
        assert tail is not None
        self._tails[session_id] = (count, tail.value)
        memory.forget(session_id)
        return session_id

    async def reset_history(self, session_id: str, count: int) -> None:
        """Back to the ``count`` messages of :meth:`new_history`: its tail is put back
        (the segments are untouched, as long as the appends since did not seal any)."""
        stored, tail = self._tails[session_id]
        assert stored == count, (stored, count)
        await self.store.put(("memory", session_id), "messages", tail)
        self.manager.memory().forget(session_id)

    async def load(self, session_id: str) -> None:
        await self.manager.memory().load(session_id)

    async def warm(self, session_id: str) -> None:
        """What a long-lived process has after its first load of the session."""
        await self.load(session_id)

    async def append(self, session_id: str, index: int) -> None:
        await self.manager.memory().append(session_id, Message.human(text(index, "human")))

    async def chat_turn(self, session_id: str, index: int) -> None:
        memory = self.manager.memory()
        await memory.load(session_id)
        await memory.append(session_id, Message.human(text(index, "human")))
        await memory.append(session_id, Message.ai(text(index, "assistant")))

    async def chat_turn_many(self, session_id: str, index: int) -> None:
        memory = self.manager.memory()
        await memory.load(session_id)
        await memory.append_many(session_id, [Message.human(text(index, "human")),
                                              Message.ai(text(index, "assistant"))])

    async def list_sessions(self, expected: int) -> None:
        found = await self.manager.list_sessions()
        assert len(found) == expected, (len(found), expected)

    async def delete_session(self, session_id: str) -> None:
        await self.manager.delete_session(session_id)

    # -- checkpoints ---------------------------------------------------------------------

    async def latest_checkpoint(self, thread_id: str) -> str:
        # A new checkpointer each time: the search from nothing (as the peers do), not
        # the shortcut of one that already saw the thread's newest id (a tenth of the
        # cost; benchmarks/LATEST_CHECKPOINT.md measures both).
        found = await StoreCheckpointer(self.store).get(CheckpointConfig(thread_id))
        assert found is not None
        return found.id

    async def put_checkpoint(self, thread_id: str, step: int) -> None:
        await self.manager.checkpointer().put(CheckpointConfig(thread_id),
                                              Checkpoint(checkpoint_state(step)))


# -- set-up in this layout (shared with the Rust-like baseline, which reads the same keys) ---

def session_objects(count: int) -> list[tuple[str, bytes]]:
    """``count`` session metadata objects with fresh UUIDv7 ids, as ``create_session``
    writes them."""
    objects = []
    for _ in range(count):
        session_id = str(uuid7())
        created = uuid7_datetime(session_id)
        assert created is not None
        body = {"id": session_id, "created_at": iso_utc(created)}
        objects.append((f"sessions/{session_id}.json", _json(body)))
    return objects


def checkpoint_objects(thread_id: str, first_step: int, count: int, *,
                       hint: bool = False) -> list[tuple[str, bytes]]:
    """``count`` checkpoints of ``thread_id`` with freshly generated (time-ordered) ids;
    ``hint``: also the "latest" hint ``StoreCheckpointer.put`` leaves when it wrote them
    (naming the checkpoint of its last 100th put), if one of them was a 100th."""
    objects = []
    hinted: str | None = None
    for step in range(first_step, first_step + count):
        checkpoint = Checkpoint(checkpoint_state(step), id=new_checkpoint_id())
        objects.append((f"checkpoints/{thread_id}/{checkpoint.id}.json",
                        _json(checkpoint.to_dict())))
        if (step + 1) % HINT_EVERY == 0:
            hinted = checkpoint.id
    if hint and hinted is not None:
        objects.append((f"{HINT_ROOT}/{thread_id}/{HINT_KEY}.json", _json(hint_body(hinted))))
    return objects


def session_with_objects(total: int) -> tuple[str, list[tuple[str, bytes]]]:
    """A session owning ``total`` objects: its metadata, a 10-message history and
    ``total - 2`` checkpoints (thread id = session id)."""
    [(key, body)] = session_objects(1)
    session_id = key.removeprefix("sessions/").removesuffix(".json")
    objects = [(key, body), (f"memory/{session_id}/messages.json", _json(wire_history(10)))]
    objects += checkpoint_objects(session_id, 0, total - 2)
    return session_id, objects


def twin_objects(session_id: str,
                 objects: list[tuple[str, bytes]]) -> tuple[str, list[tuple[str, bytes]]]:
    """The same objects for a new session id (keys and bodies), for the raw replay of a
    destructive operation."""
    twin = str(uuid7())
    return twin, [(key.replace(session_id, twin), body.replace(session_id.encode(),
                                                               twin.encode()))
                  for key, body in objects]


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
