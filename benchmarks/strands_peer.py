"""Strands Agents' ``S3SessionManager`` (PyPI ``strands-agents``), driven through its
``SessionRepository`` methods: exactly the calls its ``RepositorySessionManager`` makes.

* create = ``read_session`` then ``create_session`` (HEAD + PUT): what
  ``S3SessionManager(session_id=...)`` does for a new id, minus building a boto3
  client, which the benchmark does once so that client set-up is not billed to it;
* restore N = ``read_session`` + ``read_agent`` + ``list_messages``: what the
  constructor plus ``initialize(agent)`` read for an existing session;
* append = ``create_message`` (one object per message, indexed in memory);
* delete = ``delete_session`` (list + ``DeleteObjects``).

Its methods are synchronous (boto3); they run on the event loop's thread, which
has nothing else to do while they run.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
from strands.session.s3_session_manager import S3SessionManager
from strands.types.session import Session, SessionAgent, SessionMessage, SessionType

from benchmarks.clients import sync_config
from benchmarks.content import text
from benchmarks.counting import RequestCounter
from benchmarks.servers import Target

LABEL = "strands S3SessionManager"
AGENT = "default"


def _message(index: int) -> dict[str, Any]:
    role = "user" if index % 2 == 0 else "assistant"
    return {"role": role, "content": [{"text": text(index, "human" if role == "user" else role)}]}


def _body(value: dict[str, Any]) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode()  # as Strands writes


class StrandsPeer:
    label = LABEL

    def __init__(self, target: Target, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.counter = RequestCounter()
        self._next_index: dict[str, int] = {}
        credentials = target.endpoint.credentials
        self._boto = boto3.Session(region_name=target.endpoint.region, **credentials)
        self.repo: S3SessionManager | None = None

    async def open(self) -> None:
        # The constructor creates (or reads) the session it is given; this one is only
        # the repository handle for all the others.
        self.repo = S3SessionManager(
            session_id="benchmark-handle", bucket=self.bucket, boto_session=self._boto,
            boto_client_config=sync_config(), endpoint_url=self.target.endpoint.url)
        self.counter.attach(self.repo.client.meta.events)

    async def close(self) -> None:
        if self.repo is not None:
            self.repo.client.close()

    @property
    def _repo(self) -> S3SessionManager:
        assert self.repo is not None, "open() first"
        return self.repo

    # -- operations -------------------------------------------------------------------

    async def create_session(self) -> str:
        session_id = uuid.uuid4().hex
        if self._repo.read_session(session_id) is None:
            session = Session(session_id=session_id, session_type=SessionType.AGENT)
            self._repo.create_session(session)
        return session_id

    async def get_session(self, session_id: str) -> None:
        assert self._repo.read_session(session_id) is not None

    async def load(self, session_id: str) -> None:
        repo = self._repo
        assert repo.read_session(session_id) is not None
        assert repo.read_agent(session_id, AGENT) is not None
        repo.list_messages(session_id, AGENT)

    async def warm(self, session_id: str) -> None:
        """Nothing to warm: the next index is already known in memory."""

    async def append(self, session_id: str, index: int) -> None:
        position = self._next_index[session_id]
        self._repo.create_message(session_id, AGENT,
                                  SessionMessage.from_message(_message(index), position))
        self._next_index[session_id] = position + 1

    async def chat_turn(self, session_id: str, index: int) -> None:
        """A stateless handler's turn: restore, then append the human and AI messages."""
        await self.load(session_id)
        await self.append(session_id, 2 * index)
        await self.append(session_id, 2 * index + 1)

    async def delete_session(self, session_id: str) -> None:
        self._repo.delete_session(session_id)

    # -- set-up (not measured) ------------------------------------------------------------

    def session_objects(self, session_id: str) -> list[tuple[str, bytes]]:
        """The session and agent objects of a new session."""
        path = self._repo._get_session_path(session_id)
        agent = SessionAgent(agent_id=AGENT, state={}, conversation_manager_state={})
        session = Session(session_id=session_id, session_type=SessionType.AGENT)
        return [(f"{path}session.json", _body(session.to_dict())),
                (f"{self._repo._get_agent_path(session_id, AGENT)}agent.json",
                 _body(agent.to_dict()))]

    def message_objects(self, session_id: str, start: int, stop: int) -> list[tuple[str, bytes]]:
        """Messages ``start`` .. ``stop - 1`` in Strands' layout and encoding."""
        objects = []
        for position in range(start, stop):
            message = SessionMessage.from_message(_message(position), position)
            key = self._repo._get_message_path(session_id, AGENT, position)
            objects.append((key, _body(message.to_dict())))
        return objects

    async def grow_history(self, session_id: str, count: int) -> None:
        """Make the session hold exactly ``count`` messages (set-up: not measured):
        messages appended by earlier measurements are removed, missing ones added."""
        current = self._next_index.get(session_id)
        if current is None:
            await self.target.seeder.put_many(self.bucket, self.session_objects(session_id))
            current = 0
        if current > count:
            keys = [{"Key": self._repo._get_message_path(session_id, AGENT, i)}
                    for i in range(count, current)]
            self._repo.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
        elif current < count:
            await self.target.seeder.put_many(self.bucket,
                                              self.message_objects(session_id, current, count))
        self._next_index[session_id] = count

    async def session_with_objects(self, total: int) -> str:
        """A session owning ``total`` objects: session, agent, ``total - 2`` messages."""
        session_id = uuid.uuid4().hex
        await self.grow_history(session_id, total - 2)
        return session_id
