"""Strands Agents' ``SnapshotSessionManager`` (PyPI ``strands-agents``) over the
``S3Storage`` Strands ships (``strands.storage.S3Storage``): the whole agent (messages,
state, conversation-manager state, system prompt) as one JSON blob,
``session/<id>/scopes/agent/<agent>/snapshots/snapshot_latest.json``, overwritten on
each save, plus immutable ``immutable_history/snapshot_<uuid7>.json`` checkpoints when a
trigger fires. Strands' docs call it the recommended path for new agents.

Driven through the manager's own methods, on one real ``strands.Agent`` (no model
call is ever made; building the agent, ~0.2 s, is set-up, not measured):

* create = the restore-on-init of a new id (a GET that misses) and the first
  ``snapshot_latest`` write (what the end of the first invocation saves; nothing is
  stored before it);
* restore N = ``restore_snapshot`` (what ``initialize`` does on ``AgentInitializedEvent``):
  one GET, ``Snapshot.from_dict``, ``agent.load_snapshot`` (which deep-copies the messages);
* append = add a message and save ``snapshot_latest`` (what the ``MessageAddedEvent``
  hook does under ``save_latest_on="message"``; under the default ``"invocation"`` an
  append alone is not persisted): one PUT of the whole agent;
* chat turn = a stateless handler's turn under the default strategy: restore, add the
  user and assistant messages, one save at the end of the invocation (GET + PUT);
* delete = ``delete_session``: a listing of the session's keys, one DELETE per key
  (100 at a time), and the listing of stash keys it also makes.

``S3Storage`` builds its boto3 client with no way to pass an endpoint; the subclass
below changes only that factory (same call plus the endpoint URL), as the LangGraph
peer does. Its calls run through ``asyncio.to_thread``, as Strands runs them.
"""

from __future__ import annotations

from typing import Any

import boto3
from strands import Agent
from strands.session.snapshot_session_manager import (
    SnapshotSessionManager,
    _serialize_snapshot,
    _snapshot_key,
)
from strands.storage import S3Storage

from benchmarks.clients import sync_config
from benchmarks.content import text
from benchmarks.counting import RequestCounter
from benchmarks.servers import Target
from synaptic_s3.ids import uuid7

LABEL = "strands snapshot"
AGENT = "default"
_NAMESPACE = "session/"  # what the manager puts before every key of a raw storage


def _message(index: int) -> dict[str, Any]:
    role = "user" if index % 2 == 0 else "assistant"
    return {"role": role, "content": [{"text": text(index, "human" if role == "user" else role)}]}


class _LocalS3Storage(S3Storage):
    """Strands' S3Storage with its client pointed at the local endpoint."""

    def __init__(self, bucket: str, target: Target, counter: RequestCounter) -> None:
        credentials = target.endpoint.credentials
        super().__init__(bucket,
                         boto_session=boto3.Session(region_name=target.endpoint.region,
                                                    **credentials),
                         boto_client_config=sync_config())
        self._target = target
        self._counter = counter

    def _get_client(self) -> Any:
        if self._root is not None:
            return self._root._get_client()
        if self._client is None:
            self._client = self._boto_session.client(
                "s3", config=self._boto_client_config, endpoint_url=self._target.endpoint.url)
            self._counter.attach(self._client.meta.events)
        return self._client


class StrandsSnapshotPeer:
    label = LABEL

    def __init__(self, target: Target, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.counter = RequestCounter()
        self.storage = _LocalS3Storage(bucket, target, self.counter)
        self._agent: Agent | None = None
        self._managers: dict[str, SnapshotSessionManager] = {}

    async def open(self) -> None:
        self._agent = Agent(model="benchmark-no-model-call", callback_handler=None,
                            agent_id=AGENT)
        self.storage._get_client()

    async def close(self) -> None:
        if self.storage._client is not None:
            self.storage._client.close()

    @property
    def agent(self) -> Agent:
        assert self._agent is not None, "open() first"
        return self._agent

    def _manager(self, session_id: str) -> SnapshotSessionManager:
        if session_id not in self._managers:
            self._managers[session_id] = SnapshotSessionManager(
                session_id, storage=self.storage, save_latest_on="message")
        return self._managers[session_id]

    # -- operations -------------------------------------------------------------------

    async def create_session(self) -> str:
        session_id = str(uuid7())
        manager = self._manager(session_id)
        self.agent.messages = []
        assert not await manager.restore_snapshot(self.agent)
        await manager.save_snapshot(self.agent, is_latest=True)
        return session_id

    async def load(self, session_id: str) -> None:
        assert await self._manager(session_id).restore_snapshot(self.agent)

    async def warm(self, session_id: str) -> None:
        """A long-lived agent holds its messages: restore them once."""
        await self.load(session_id)

    async def append(self, session_id: str, index: int) -> None:
        self.agent.messages.append(_message(index))  # type: ignore[arg-type]
        await self._manager(session_id).save_snapshot(self.agent, is_latest=True)

    async def chat_turn(self, session_id: str, index: int) -> None:
        manager = self._manager(session_id)
        assert await manager.restore_snapshot(self.agent)
        self.agent.messages.append(_message(2 * index))  # type: ignore[arg-type]
        self.agent.messages.append(_message(2 * index + 1))  # type: ignore[arg-type]
        await manager.save_snapshot(self.agent, is_latest=True)

    async def delete_session(self, session_id: str) -> None:
        await self._manager(session_id).delete_session()
        self._managers.pop(session_id, None)

    # -- set-up (not measured) ------------------------------------------------------------

    def _latest(self, session_id: str, count: int) -> tuple[str, bytes]:
        self.agent.messages = [_message(i) for i in range(count)]  # type: ignore[misc]
        snapshot = self._manager(session_id)._capture(self.agent)
        key = _NAMESPACE + _snapshot_key(session_id, AGENT, snapshot_id=None)
        return key, _serialize_snapshot(snapshot)

    async def new_history(self, count: int) -> str:
        """A session whose latest snapshot holds ``count`` messages."""
        session_id = str(uuid7())
        await self.reset_history(session_id, count)
        return session_id

    async def reset_history(self, session_id: str, count: int) -> None:
        await self.target.seeder.put_many(self.bucket, [self._latest(session_id, count)])

    async def session_with_objects(self, total: int) -> str:
        """A session owning ``total`` objects: ``snapshot_latest`` (10 messages) and
        ``total - 1`` immutable snapshots, as a snapshot trigger firing on every
        invocation leaves them."""
        session_id = str(uuid7())
        latest_key, body = self._latest(session_id, 10)
        objects = [(latest_key, body)]
        for _ in range(total - 1):
            key = _snapshot_key(session_id, AGENT, snapshot_id=str(uuid7()))
            objects.append((_NAMESPACE + key, body))
        await self.target.seeder.put_many(self.bucket, objects)
        return session_id

