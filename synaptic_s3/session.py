"""``SessionManager``: create, list, get and delete sessions, all in ONE store.

Session metadata lives at ``("sessions",) / <id>`` (``sessions/<id>.json``); the
manager hands out a :class:`ChatMessageHistory` and a :class:`StoreCheckpointer`
over the same store, so deleting a session removes everything it owns.

New session ids are UUIDv7 and ``created_at`` is exactly the id's millisecond
timestamp, so a listing alone says when every such session was created and in
what order: listing N sessions costs ceil(N/1000) list requests and no reads.
Ids written by other services (any valid key) are read to learn their
``created_at``, with bounded concurrency.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from synaptic_s3.checkpoint import NAMESPACE as CHECKPOINTS
from synaptic_s3.checkpoint import StoreCheckpointer
from synaptic_s3.core.errors import ConflictError, CorruptDataError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.store import Item, Store
from synaptic_s3.ids import iso_utc, uuid7, uuid7_datetime
from synaptic_s3.memory import DEFAULT_SEGMENT_BYTES, ChatMessageHistory
from synaptic_s3.memory import NAMESPACE as MEMORY

SESSIONS = ("sessions",)


class SessionInfo(BaseModel):
    """Session metadata: JSON exactly ``{"id": ..., "created_at": ...}``.

    ``created_at`` is ISO 8601 UTC with milliseconds when written here; any string
    is accepted when read (the Rust crate writes its own format).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: StrictStr
    created_at: StrictStr

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "created_at": self.created_at}


def creation_order(info: SessionInfo) -> tuple[datetime, str, str]:
    """Sort key: creation time (timestamps that do not parse sort first, by text),
    then id to break ties."""
    return (_parse_time(info.created_at), info.created_at, info.id)


def _parse_time(text: str) -> datetime:
    candidate = text.strip().replace(" ", "T", 1)
    if "." in candidate:  # Python accepts at most 6 fractional digits; Rust writes 9
        head, _, tail = candidate.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        candidate = head + "." + tail[:min(digits, 6)] + tail[digits:]
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SessionManager:
    """The entry point: sessions, their memory and their checkpoints over one store."""

    def __init__(self, store: Store, *, segment_bytes: int | None = DEFAULT_SEGMENT_BYTES) -> None:
        self._store = store
        self._memory = ChatMessageHistory(store, segment_bytes=segment_bytes)
        self._checkpointer = StoreCheckpointer(store)

    @property
    def store(self) -> Store:
        """The very store this manager was given."""
        return self._store

    def memory(self) -> ChatMessageHistory:
        """The message history over the same store (one instance, so its cache is shared)."""
        return self._memory

    def checkpointer(self) -> StoreCheckpointer:
        """The checkpointer over the same store."""
        return self._checkpointer

    async def create_session(self, *, session_id: str | None = None) -> str:
        """Create a session and return its id: a new UUIDv7, or ``session_id``.

        ``session_id`` (a UUIDv7 or any valid key) lets a caller that must be
        idempotent choose the id itself, e.g. derived from a request's idempotency key
        (:func:`synaptic_s3.ids.uuid7_from`): creating the same id again with the same
        metadata is success and returns the id, so a repeated request makes one
        session. ``created_at`` is the UUIDv7's timestamp, else the current time (so
        a repeat of a non-UUIDv7 id in a later millisecond conflicts). Raises
        :class:`ConflictError` if the id exists with other metadata.
        """
        if session_id is None:
            session_id = str(uuid7())
        validate_key(SESSIONS, session_id)
        created = uuid7_datetime(session_id) or datetime.now(UTC)
        info = SessionInfo(id=session_id, created_at=iso_utc(created)).to_dict()
        try:
            await self._store.put(SESSIONS, session_id, info, if_absent=True)
        except ConflictError:
            # A retried PUT whose first attempt landed, or a repeated request with the
            # same chosen id, meets its own object: that is success. Anything else is a
            # real collision.
            existing = await self._store.get(SESSIONS, session_id)
            if existing is None or existing.value != info:
                raise
        return session_id

    async def get_session(self, session_id: str) -> SessionInfo | None:
        """The session's metadata, or ``None`` if there is no such session."""
        item = await self._store.get(SESSIONS, session_id)
        return None if item is None else _parse_info(item)

    async def list_sessions(self) -> list[SessionInfo]:
        """Every session (no cap), oldest first, ties broken by id."""
        keys = [key async for key in self._store.iter_keys(SESSIONS)]
        return await self._infos(keys)

    async def list_sessions_page(
        self, *, limit: int = 100, after: str | None = None
    ) -> tuple[list[SessionInfo], str | None]:
        """One page of sessions in key order (creation order for UUIDv7 ids), starting
        after session id ``after``; returns the page and the id to continue after, or
        ``None`` on the last page. For paginated APIs over very many sessions."""
        page = await self._store.list_keys(SESSIONS, after=after, limit=limit)
        return await self._infos(page.keys), page.next_after

    async def _infos(self, keys: list[str]) -> list[SessionInfo]:
        infos: list[SessionInfo] = []
        unknown: list[str] = []
        for key in keys:
            created = uuid7_datetime(key)
            if created is None:
                unknown.append(key)
            else:
                infos.append(SessionInfo(id=key, created_at=iso_utc(created)))
        if unknown:
            items = await self._store.get_many(SESSIONS, unknown)
            infos.extend(_parse_info(item) for item in items)
        infos.sort(key=creation_order)
        return infos

    async def delete_session(self, session_id: str) -> None:
        """Remove the session's messages, summary, checkpoints and, last, its metadata,
        so an interrupted delete is finished by running it again. Idempotent."""
        validate_key(SESSIONS, session_id)
        self._memory.forget(session_id)
        await self._store.delete_namespaces([(MEMORY, session_id), (CHECKPOINTS, session_id)])
        self._memory.forget(session_id)
        await self._store.delete(SESSIONS, session_id)


def _parse_info(item: Item) -> SessionInfo:
    value: Any = item.value
    try:
        info = SessionInfo.model_validate(value)
    except ValidationError as exc:
        raise CorruptDataError(f"not a SessionInfo object: {exc.error_count()} error(s)",
                               namespace=item.namespace, key=item.key) from exc
    return info
