"""``StrandsSessionRepository``: a Strands Agents ``SessionRepository`` over a synaptic Store.

``RepositorySessionManager(session_id=S, session_repository=StrandsSessionRepository(
manager))`` keeps a Strands agent's session (its record, each agent's state and
messages, multi-agent state) under the synaptic session ``S``::

    memory/S/strands/session.json            the Strands Session record
    memory/S/strands/agents/<agent>.json     one SessionAgent per agent
    memory/S/strands/messages/<agent>.json   EVERY message of that agent, one object
    memory/S/strands/multi-agents/<id>.json  a Graph/Swarm orchestrator's state

(agent ids through :func:`~synaptic_s3.integrations.codec.encode_label`; a session id
that is a valid key is kept as is), so ``SessionManager.delete_session(S)`` removes it.

Why one object per agent's messages: resuming an agent is then three GETs (session,
agent, messages) whatever the conversation's length, where Strands' own
``S3SessionManager`` lists the messages and reads them one object each. And every
change is a compare-and-swap (:class:`~synaptic_s3.integrations.documents.Documents`):
two writers on one session never lose a message. Strands numbers messages from each
manager's own in-memory counter, so two writers both create "message 4"; Strands'
S3 manager then keeps only the last one. Here the second is stored as the next free
number and the ``SessionMessage`` object is renumbered in place, so the writer's own
later redaction (``update_message``) still targets its message. A create whose
earlier attempt already landed (a lost answer) finds itself, under its number or,
when that number is another message's, by content and timestamps, and is not stored
twice.

Strands' repository methods are synchronous: they run on the process's background
loop (:func:`~synaptic_s3.integrations.bridge.run_sync`), so an ``S3Store`` given
here is used only through this repository (or other synchronous callers).
Errors are ours and Strands' at once: a missing record raises
:class:`StrandsNotFoundError` (a :class:`~synaptic_s3.core.errors.NotFoundError`
and a ``SessionException``), an existing session :class:`StrandsSessionExistsError`.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from strands.session.session_repository import SessionRepository
from strands.types.exceptions import SessionException
from strands.types.session import Session, SessionAgent, SessionMessage

from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    NotFoundError,
)
from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.retry import Edit
from synaptic_s3.core.store import Store
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.codec import encode_label
from synaptic_s3.integrations.documents import Documents
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager

if TYPE_CHECKING:
    from strands.multiagent import MultiAgentBase

LABEL = "strands"
SESSION_KEY = "session"
AGENTS = "agents"
MESSAGES = "messages"
MULTI_AGENTS = "multi-agents"


class StrandsNotFoundError(NotFoundError, SessionException):
    """The session, agent, message or multi-agent state to update does not exist."""


class StrandsSessionExistsError(ConflictError, SessionException):
    """``create_session`` for a session id that already has a Strands session."""


def _message_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidDataError(f"message_id={value!r} | message id must be an integer")
    return value


def _same_message(stored: dict[str, Any], data: dict[str, Any]) -> bool:
    """The same create, retried after it landed under a new number: equal in everything
    but the number (only asked when the number it wanted is another message's)."""
    return {**stored, "message_id": 0} == {**data, "message_id": 0}


class StrandsSessionRepository(SessionRepository):
    """Strands' ``SessionRepository`` (agents, messages, multi-agent state) over
    ``source``, a :class:`SessionManager` or its store."""

    def __init__(self, source: SessionManager | Store, *, cache_size: int = 256) -> None:
        store = source.store if isinstance(source, SessionManager) else source
        self._docs = Documents(store, cache_size=cache_size)

    @property
    def store(self) -> Store:
        return self._docs.store

    # -- addresses ----------------------------------------------------------------------

    @staticmethod
    def _root(session_id: str) -> Namespace:
        return (MEMORY, encode_label(session_id, keep_valid=True), LABEL)

    def _in(self, session_id: str, kind: str) -> Namespace:
        return (*self._root(session_id), kind)

    # -- sessions -----------------------------------------------------------------------

    async def acreate_session(self, session: Session) -> Session:
        try:
            await self.store.put(self._root(session.session_id), SESSION_KEY, session.to_dict(),
                                 if_absent=True)
        except ConflictError as exc:
            raise StrandsSessionExistsError(f"Session {session.session_id} already exists",
                                            namespace=self._root(session.session_id),
                                            key=SESSION_KEY) from exc
        return session

    async def aread_session(self, session_id: str) -> Session | None:
        item = await self.store.get(self._root(session_id), SESSION_KEY)
        return None if item is None else Session.from_dict(self._record(item.value,
                                                                        self._root(session_id),
                                                                        SESSION_KEY))

    async def adelete_session(self, session_id: str) -> None:
        """Everything Strands keeps for the session (the synaptic session, its messages
        and checkpoints stay: ``SessionManager.delete_session`` removes all)."""
        root = self._root(session_id)
        self._docs.forget_under(root)
        if await self.store.delete_namespace(root) == 0:
            raise StrandsNotFoundError("Session", session_id)
        self._docs.forget_under(root)

    # -- agents -------------------------------------------------------------------------

    async def acreate_agent(self, session_id: str, session_agent: SessionAgent) -> None:
        """Store a new agent; if another writer created it first, theirs stays (the
        manager then reads it back on its next initialisation)."""
        try:
            await self.store.put(self._in(session_id, AGENTS),
                                 encode_label(session_agent.agent_id), session_agent.to_dict(),
                                 if_absent=True)
        except ConflictError:
            return

    async def aread_agent(self, session_id: str, agent_id: str) -> SessionAgent | None:
        namespace, key = self._in(session_id, AGENTS), encode_label(agent_id)
        item = await self._docs.read(namespace, key)
        return None if item is None else SessionAgent.from_dict(
            self._record(item.value, namespace, key))

    async def aupdate_agent(self, session_id: str, session_agent: SessionAgent) -> None:
        namespace, key = self._in(session_id, AGENTS), encode_label(session_agent.agent_id)
        data = session_agent.to_dict()

        def decide(current: Any) -> Edit[str]:
            if current is None:
                raise StrandsNotFoundError("Agent", f"{session_agent.agent_id} in session "
                                                    f"{session_id}")
            created = self._record(current, namespace, key).get("created_at")
            return Edit({**data, "created_at": created}, str(created))

        session_agent.created_at = await self._docs.edit(namespace, key, decide)

    # -- messages -----------------------------------------------------------------------

    def _log(self, value: Any, namespace: Namespace, key: str) -> list[dict[str, Any]]:
        if value is None:
            return []
        messages = self._record(value, namespace, key).get("messages")
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("message_id"), int) for m in messages):
            raise CorruptDataError("expected {messages: [{message_id: int, ...}, ...]}",
                                   namespace=namespace, key=key)
        return messages

    async def acreate_message(self, session_id: str, agent_id: str,
                              session_message: SessionMessage) -> None:
        """Add the message under its number, or under the next free number when another
        writer took that one (``session_message.message_id`` is updated to match)."""
        _message_id(session_message.message_id)
        namespace, key = self._in(session_id, MESSAGES), encode_label(agent_id)
        data = session_message.to_dict()

        def decide(current: Any) -> Edit[int]:
            messages = self._log(current, namespace, key)
            wanted = data["message_id"]
            numbers = [m["message_id"] for m in messages]
            position = bisect.bisect_left(numbers, wanted)
            if position < len(numbers) and numbers[position] == wanted:
                taken = messages[position]
                if taken == data:
                    return Edit(None, wanted)  # a retried create that landed
                for stored in messages:  # ... or landed renumbered
                    if _same_message(stored, data):
                        return Edit(None, stored["message_id"])
                wanted, position = numbers[-1] + 1, len(numbers)
            entry = {**data, "message_id": wanted}
            return Edit({"messages": [*messages[:position], entry, *messages[position:]]},
                        wanted)

        session_message.message_id = await self._docs.edit(namespace, key, decide)

    async def aread_message(self, session_id: str, agent_id: str,
                            message_id: int) -> SessionMessage | None:
        wanted = _message_id(message_id)
        namespace, key = self._in(session_id, MESSAGES), encode_label(agent_id)
        item = await self._docs.read(namespace, key)
        for stored in self._log(None if item is None else item.value, namespace, key):
            if stored["message_id"] == wanted:
                return SessionMessage.from_dict(stored)
        return None

    async def aupdate_message(self, session_id: str, agent_id: str,
                              session_message: SessionMessage) -> None:
        """Replace a stored message (a redaction), keeping its ``created_at``."""
        wanted = _message_id(session_message.message_id)
        namespace, key = self._in(session_id, MESSAGES), encode_label(agent_id)
        data = session_message.to_dict()

        def decide(current: Any) -> Edit[str]:
            messages = list(self._log(current, namespace, key))
            for index, stored in enumerate(messages):
                if stored["message_id"] == wanted:
                    created = stored.get("created_at")
                    messages[index] = {**data, "created_at": created}
                    return Edit({"messages": messages}, str(created))
            raise StrandsNotFoundError("Message", str(wanted))

        session_message.created_at = await self._docs.edit(namespace, key, decide)

    async def alist_messages(self, session_id: str, agent_id: str, limit: int | None = None,
                             offset: int = 0) -> list[SessionMessage]:
        """The agent's messages in number order, from position ``offset``, at most
        ``limit`` of them. One GET."""
        if (limit is not None and limit < 0) or offset < 0:
            raise InvalidDataError("limit and offset must not be negative")
        namespace, key = self._in(session_id, MESSAGES), encode_label(agent_id)
        item = await self._docs.read(namespace, key)
        messages = self._log(None if item is None else item.value, namespace, key)
        chosen = messages[offset:] if limit is None else messages[offset:offset + limit]
        return [SessionMessage.from_dict(stored) for stored in chosen]

    # -- multi-agent --------------------------------------------------------------------

    async def acreate_multi_agent(self, session_id: str, multi_agent: MultiAgentBase) -> None:
        await self.store.put(self._in(session_id, MULTI_AGENTS), encode_label(multi_agent.id),
                             multi_agent.serialize_state())

    async def aread_multi_agent(self, session_id: str,
                                multi_agent_id: str) -> dict[str, Any] | None:
        namespace, key = self._in(session_id, MULTI_AGENTS), encode_label(multi_agent_id)
        item = await self._docs.read(namespace, key)
        return None if item is None else self._record(item.value, namespace, key)

    async def aupdate_multi_agent(self, session_id: str, multi_agent: MultiAgentBase) -> None:
        namespace, key = self._in(session_id, MULTI_AGENTS), encode_label(multi_agent.id)
        state = multi_agent.serialize_state()

        def decide(current: Any) -> Edit[None]:
            if current is None:
                raise StrandsNotFoundError("MultiAgent state",
                                           f"{multi_agent.id} in session {session_id}")
            return Edit(state, None)

        await self._docs.edit(namespace, key, decide)

    @staticmethod
    def _record(value: Any, namespace: Namespace, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise CorruptDataError("expected a JSON object", namespace=namespace, key=key)
        return value

    # -- the synchronous SessionRepository interface ---------------------------------------

    def create_session(self, session: Session, **kwargs: Any) -> Session:
        return run_sync(self.acreate_session(session))

    def read_session(self, session_id: str, **kwargs: Any) -> Session | None:
        return run_sync(self.aread_session(session_id))

    def delete_session(self, session_id: str, **kwargs: Any) -> None:
        run_sync(self.adelete_session(session_id))

    def create_agent(self, session_id: str, session_agent: SessionAgent, **kwargs: Any) -> None:
        run_sync(self.acreate_agent(session_id, session_agent))

    def read_agent(self, session_id: str, agent_id: str, **kwargs: Any) -> SessionAgent | None:
        return run_sync(self.aread_agent(session_id, agent_id))

    def update_agent(self, session_id: str, session_agent: SessionAgent, **kwargs: Any) -> None:
        run_sync(self.aupdate_agent(session_id, session_agent))

    def create_message(self, session_id: str, agent_id: str, session_message: SessionMessage,
                       **kwargs: Any) -> None:
        run_sync(self.acreate_message(session_id, agent_id, session_message))

    def read_message(self, session_id: str, agent_id: str, message_id: int,
                     **kwargs: Any) -> SessionMessage | None:
        return run_sync(self.aread_message(session_id, agent_id, message_id))

    def update_message(self, session_id: str, agent_id: str, session_message: SessionMessage,
                       **kwargs: Any) -> None:
        run_sync(self.aupdate_message(session_id, agent_id, session_message))

    def list_messages(self, session_id: str, agent_id: str, limit: int | None = None,
                      offset: int = 0, **kwargs: Any) -> list[SessionMessage]:
        return run_sync(self.alist_messages(session_id, agent_id, limit, offset))

    def create_multi_agent(self, session_id: str, multi_agent: MultiAgentBase,
                           **kwargs: Any) -> None:
        run_sync(self.acreate_multi_agent(session_id, multi_agent))

    def read_multi_agent(self, session_id: str, multi_agent_id: str,
                         **kwargs: Any) -> dict[str, Any] | None:
        return run_sync(self.aread_multi_agent(session_id, multi_agent_id))

    def update_multi_agent(self, session_id: str, multi_agent: MultiAgentBase,
                           **kwargs: Any) -> None:
        run_sync(self.aupdate_multi_agent(session_id, multi_agent))
