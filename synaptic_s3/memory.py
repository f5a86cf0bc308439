"""``ChatMessageHistory``: a session's messages and running summary, in the shared store.

Messages of session ``id`` are one JSON array at ``("memory", id) / "messages"``
(``memory/<id>/messages.json`` on S3), so restoring a conversation is one read.

Appends are compare-and-swap writes: read the array and its version, write the
longer array only if the version is unchanged, and on a conflict read again and
retry (bounded, with jittered backoff). Many writers, in many processes, never lose
a message. The version and array last seen are cached per session (bounded LRU), so
an append to a history this instance already knows costs one conditional write;
a stale cache costs a conflict and a re-read, never a lost or doubled message.

Appends are idempotent by message id: a message without an ``id`` is given one (a
UUIDv7, set on the object passed in), and a message whose id is already stored is
not stored again. Retrying an append after an error or timeout, with the same
message objects, is therefore always safe.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synaptic_s3.core.errors import ConflictError, CorruptDataError, InvalidDataError
from synaptic_s3.core.messages import Message
from synaptic_s3.core.store import Store
from synaptic_s3.ids import uuid7

NAMESPACE = "memory"
MESSAGES_KEY = "messages"
SUMMARY_KEY = "summary"


@dataclass(frozen=True, slots=True)
class MessagePage:
    """A run of consecutive messages of one history, as read at one moment.

    ``start`` is the position (0 = the oldest message) of ``messages[0]``, or where
    the page would have started when it is empty; ``total`` is how many messages
    the history held when it was read. Positions never change while the history
    is only appended to, so ``start``/``end`` work as resumable cursors.
    """

    messages: list[Message]
    start: int
    total: int

    @property
    def end(self) -> int:
        """The position just after the last message of the page."""
        return self.start + len(self.messages)


def _identity(message: dict[str, Any]) -> tuple[bool, Any]:
    """What makes two stored messages "the same append": the id, kept apart for
    ``remove`` markers, whose id names the message they remove."""
    return (message.get("role") == "remove", message.get("id"))


def _check_count(name: str, value: int, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


class ChatMessageHistory:
    """Append, load and clear the messages of any session; get and set its summary."""

    def __init__(
        self,
        store: Store,
        *,
        max_attempts: int = 64,
        cache_size: int = 256,
        backoff_base: float = 0.005,
        backoff_cap: float = 0.25,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._store = store
        self._max_attempts = max_attempts
        self._cache_size = cache_size
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._cache: OrderedDict[str, tuple[str, list[dict[str, Any]]]] = OrderedDict()
        self.conflicts = 0
        """Conditional writes lost to other writers so far (for metrics and benchmarks)."""

    @property
    def store(self) -> Store:
        return self._store

    # -- cache ---------------------------------------------------------------------------

    def _remember(self, session_id: str, version: str, messages: list[dict[str, Any]]) -> None:
        if self._cache_size <= 0:
            return
        self._cache[session_id] = (version, messages)
        self._cache.move_to_end(session_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def forget(self, session_id: str) -> None:
        """Drop what this instance remembers of a session (after it was deleted)."""
        self._cache.pop(session_id, None)

    # -- reads ---------------------------------------------------------------------------

    async def _read(self, session_id: str) -> tuple[str | None, list[dict[str, Any]]]:
        namespace = (NAMESPACE, session_id)
        item = await self._store.get(namespace, MESSAGES_KEY)
        if item is None:
            self.forget(session_id)
            return None, []
        if not isinstance(item.value, list) or not all(isinstance(m, dict) for m in item.value):
            raise CorruptDataError("messages must be a JSON array of objects",
                                   namespace=namespace, key=MESSAGES_KEY)
        self._remember(session_id, item.version, item.value)
        return item.version, item.value

    async def load(self, session_id: str, *, last: int | None = None) -> list[Message]:
        """Every message of the session, oldest first; ``[]`` when there are none.

        With ``last``, only the newest ``last`` messages (all of them when there are
        fewer), still oldest first."""
        if last is not None:
            _check_count("last", last, minimum=0)
            if last == 0:
                return []
            return (await self.page_before(session_id, limit=last)).messages
        _, raw = await self._read(session_id)
        return self._parse(session_id, raw, 0)

    async def page(self, session_id: str, *, start: int = 0, limit: int = 1000) -> MessagePage:
        """Up to ``limit`` messages from position ``start`` on, oldest first."""
        _check_count("start", start, minimum=0)
        _check_count("limit", limit, minimum=1)
        _, raw = await self._read(session_id)
        begin = min(start, len(raw))
        chunk = raw[begin:begin + limit]
        return MessagePage(self._parse(session_id, chunk, begin), begin, len(raw))

    async def page_before(
        self, session_id: str, *, end: int | None = None, limit: int = 1000
    ) -> MessagePage:
        """The newest ``limit`` messages before position ``end`` (``None``: the end of
        the history), oldest first: reading backwards page by page."""
        if end is not None:
            _check_count("end", end, minimum=0)
        _check_count("limit", limit, minimum=1)
        _, raw = await self._read(session_id)
        stop = len(raw) if end is None else min(end, len(raw))
        begin = max(0, stop - limit)
        return MessagePage(self._parse(session_id, raw[begin:stop], begin), begin, len(raw))

    @staticmethod
    def _parse(session_id: str, raw: Sequence[dict[str, Any]], first: int) -> list[Message]:
        messages = []
        for index, data in enumerate(raw, start=first):
            try:
                messages.append(Message.from_dict(data))
            except InvalidDataError as exc:
                raise CorruptDataError(f"message {index} is invalid: {exc}",
                                       namespace=(NAMESPACE, session_id),
                                       key=MESSAGES_KEY) from exc
        return messages

    # -- writes --------------------------------------------------------------------------

    async def append(self, session_id: str, message: Message) -> None:
        """Add one message at the end of the session's history."""
        await self.append_many(session_id, [message])

    async def append_many(self, session_id: str, messages: Sequence[Message]) -> None:
        """Add messages at the end, in order, in one write (all or none of them land)."""
        if isinstance(messages, Message) or not all(isinstance(m, Message) for m in messages):
            raise TypeError("append_many takes a sequence of Message objects")
        for message in messages:
            if message.id is None:
                message.id = str(uuid7())
        incoming = [message.to_dict() for message in messages]
        namespace = (NAMESPACE, session_id)
        for attempt in range(self._max_attempts):
            cached = self._cache.get(session_id)
            if cached is not None:
                version: str | None = cached[0]
                current = cached[1]
            else:
                version, current = await self._read(session_id)
            seen = {_identity(m) for m in current}
            new: list[dict[str, Any]] = []
            for data in incoming:
                identity = _identity(data)
                if identity not in seen:
                    seen.add(identity)
                    new.append(data)
            if not new:
                return  # every message is already stored: a retried append
            merged = current + new
            try:
                written = await self._store.put(
                    namespace, MESSAGES_KEY, merged,
                    if_version=version, if_absent=version is None,
                )
            except ConflictError:
                self.conflicts += 1
                self.forget(session_id)
                if cached is None or attempt > 0:
                    await self._backoff(attempt)
                continue
            self._remember(session_id, written, merged)
            return
        raise ConflictError(
            f"append kept losing to concurrent writers ({self._max_attempts} attempts)",
            namespace=namespace, key=MESSAGES_KEY,
        )

    async def _backoff(self, attempt: int) -> None:
        """Full jitter (AWS architecture blog): spreads contenders apart."""
        ceiling = min(self._backoff_cap, self._backoff_base * 2 ** min(attempt, 16))
        await asyncio.sleep(random.uniform(0, ceiling))

    async def clear(self, session_id: str) -> None:
        """Remove the session's messages and its summary."""
        namespace = (NAMESPACE, session_id)
        self.forget(session_id)
        # return_exceptions: if one delete fails, the other still finishes before the
        # error is raised, rather than running on after this call has returned.
        outcomes = await asyncio.gather(
            self._store.delete(namespace, MESSAGES_KEY),
            self._store.delete(namespace, SUMMARY_KEY),
            return_exceptions=True,
        )
        self.forget(session_id)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    # -- summary -------------------------------------------------------------------------

    async def get_summary(self, session_id: str) -> str | None:
        """The running summary, or ``None`` if none was ever set (or it was cleared)."""
        namespace = (NAMESPACE, session_id)
        item = await self._store.get(namespace, SUMMARY_KEY)
        if item is None:
            return None
        if not isinstance(item.value, str):
            raise CorruptDataError("the summary must be a JSON string",
                                   namespace=namespace, key=SUMMARY_KEY)
        return item.value

    async def set_summary(self, session_id: str, text: str) -> None:
        """Replace the summary (last writer wins: a summary is rewritten whole)."""
        if not isinstance(text, str):
            raise InvalidDataError(f"a summary is a string, not {type(text).__name__}")
        await self._store.put((NAMESPACE, session_id), SUMMARY_KEY, text)
