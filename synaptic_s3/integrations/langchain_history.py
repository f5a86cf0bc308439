"""``SynapticChatMessageHistory``: a LangChain ``BaseChatMessageHistory`` over a session.

For ``RunnableWithMessageHistory`` (and anything else that takes a LangChain chat
history). The messages ARE the session's synaptic message history
(``memory/<session_id>/messages.json``, segmented when long): the same conversation
the HTTP API, the command line and Rust services see, converted by
:mod:`~synaptic_s3.integrations.langchain_messages` with nothing lost. So
``SessionManager.delete_session`` removes it, and every guarantee of
:class:`~synaptic_s3.memory.ChatMessageHistory` holds: a restore is one GET while the
history is short, an append is one conditional PUT, concurrent writers lose nothing.

The async methods run on the caller's event loop. The sync ones (``messages``,
``add_messages``, ``clear``; LangChain calls them from ``invoke``) run the same
coroutines on the process's one background loop
(:func:`~synaptic_s3.integrations.bridge.run_sync`), so they also work from code that
runs inside an event loop (a notebook cell, an async web handler). An ``S3Store`` is
bound to the loop that first used it: give sync and async callers their own instance.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.store import Store
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.langchain_messages import from_wire, to_wire
from synaptic_s3.memory import MESSAGES_KEY, ChatMessageHistory
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager


class SynapticChatMessageHistory(BaseChatMessageHistory):
    """The messages of session ``session_id``, as LangChain messages.

    ``source`` is a :class:`SessionManager` (its history instance and cache are
    shared), a :class:`ChatMessageHistory`, or a store.
    """

    def __init__(self, source: SessionManager | ChatMessageHistory | Store,
                 session_id: str) -> None:
        if isinstance(source, SessionManager):
            self._history = source.memory()
        elif isinstance(source, ChatMessageHistory):
            self._history = source
        else:
            self._history = ChatMessageHistory(source)
        validate_key((MEMORY, session_id), MESSAGES_KEY)
        self.session_id = session_id

    @property
    def history(self) -> ChatMessageHistory:
        """The synaptic history underneath (for summaries, paging, counts)."""
        return self._history

    # -- async: the real work -----------------------------------------------------------

    async def aget_messages(self) -> list[BaseMessage]:
        """Every message of the session, oldest first."""
        return [from_wire(message) for message in await self._history.load(self.session_id)]

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append ``messages`` in one write (all or none land). A message without an id
        is stored with a new UUIDv7 (the object passed in is not changed)."""
        if isinstance(messages, BaseMessage) or not all(
                isinstance(m, BaseMessage) for m in messages):
            raise TypeError("add_messages takes a sequence of LangChain messages")
        await self._history.append_many(self.session_id, [to_wire(m) for m in messages])

    async def aclear(self) -> None:
        """Remove the session's messages (and its summary); the session stays."""
        await self._history.clear(self.session_id)

    # -- sync: the same coroutines on the bridge loop ------------------------------------

    # LangChain declares ``messages`` as an attribute; here reading it does the I/O.
    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        return run_sync(self.aget_messages())

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        run_sync(self.aadd_messages(messages))

    def clear(self) -> None:
        run_sync(self.aclear())
