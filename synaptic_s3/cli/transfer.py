"""Export and import of whole sessions as JSON (used by ``synaptic-s3 export/import``).

The document::

    {"format": "synaptic-s3.sessions", "version": 1, "exported_at": "...",
     "sessions": [{"session": {"id", "created_at"}, "messages": [...],
                   "summary": "..." | null, "checkpoints": [...]}, ...]}

Messages and checkpoints are in the wire format (the Rust crate's), so an export is
readable by any tool. Import validates the whole file before its first write, then
restores each session under its own id or, with ``new_ids``, under an id derived from
it; the metadata is written last, so an interrupted import can simply be run again
and finishes what it started (same content is never a conflict).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from synaptic_s3.checkpoint import NAMESPACE as CHECKPOINTS
from synaptic_s3.checkpoint import Checkpoint, CheckpointConfig
from synaptic_s3.core.errors import ConflictError, InvalidDataError, InvalidKeyError, NotFoundError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.messages import Message
from synaptic_s3.core.store import encode_value
from synaptic_s3.ids import iso_utc, uuid7_datetime, uuid7_from
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SESSIONS, SessionInfo, SessionManager

FORMAT = "synaptic-s3.sessions"
VERSION = 1


async def export_session(manager: SessionManager, session_id: str) -> dict[str, Any]:
    info = await manager.get_session(session_id)
    if info is None:
        raise NotFoundError("session", session_id)
    memory = manager.memory()
    messages = await memory.load(session_id)
    summary = await memory.get_summary(session_id)
    checkpoints = await manager.checkpointer().list(CheckpointConfig(session_id))
    return {
        "session": info.to_dict(),
        "messages": [m.to_dict() for m in messages],
        "summary": summary,
        "checkpoints": [c.to_dict() for c in checkpoints],
    }


def envelope(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION,
            "exported_at": iso_utc(datetime.now(UTC)), "sessions": sessions}


def parse_export(document: Any) -> list[dict[str, Any]]:
    """The session entries of an export; :class:`InvalidDataError` says what is wrong."""
    if isinstance(document, dict) and "session" in document:  # one bare entry
        document = envelope([document])
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidDataError(f"not a synaptic-s3 export (expected \"format\": \"{FORMAT}\")")
    if document.get("version") != VERSION:
        raise InvalidDataError(f"unsupported export version {document.get('version')!r}")
    sessions = document.get("sessions")
    if not isinstance(sessions, list):
        raise InvalidDataError("\"sessions\" must be a list")
    for index, entry in enumerate(sessions):
        if not isinstance(entry, dict) or not isinstance(entry.get("session"), dict):
            raise InvalidDataError(f"sessions[{index}] has no \"session\" object")
    return sessions


@dataclass(frozen=True, slots=True)
class PreparedSession:
    """One exported session, checked whole: every later write is known to be valid."""

    info: SessionInfo
    messages: list[Message]
    summary: str | None
    checkpoints: list[Checkpoint]


def _list_of(entry: dict[str, Any], field: str, where: str) -> list[Any]:
    value = entry.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidDataError(f"{where}: \"{field}\" must be a list, not "
                               f"{type(value).__name__}")
    return value


def prepare_session(entry: dict[str, Any], where: str) -> PreparedSession:
    """Validate one entry completely (names, wire formats, text that cannot be stored,
    duplicate ids) without writing anything; :class:`InvalidDataError` says where."""
    try:
        info = SessionInfo.model_validate(entry["session"])
    except ValueError as exc:
        raise InvalidDataError(f"{where}: \"session\" is not {{id, created_at}}") from exc
    validate_key(SESSIONS, info.id)
    messages: list[Message] = []
    for index, data in enumerate(_list_of(entry, "messages", where)):
        try:
            messages.append(Message.from_dict(data))
        except InvalidDataError as exc:
            raise InvalidDataError(f"{where}: messages[{index}]: {exc}") from None
    ids = [m.id for m in messages if m.id is not None and not m.is_remove]
    if len(ids) != len(set(ids)):
        raise InvalidDataError(f"{where}: two messages share an id")
    encode_value([m.to_dict() for m in messages], (MEMORY, info.id), "messages")
    summary = entry.get("summary")
    if summary is not None:
        if not isinstance(summary, str):
            raise InvalidDataError(f"{where}: \"summary\" must be a string or null")
        encode_value(summary, (MEMORY, info.id), "summary")
    checkpoints: list[Checkpoint] = []
    for index, data in enumerate(_list_of(entry, "checkpoints", where)):
        try:
            checkpoint = Checkpoint.from_dict(data)
            validate_key((CHECKPOINTS, info.id), checkpoint.id)
            encode_value(checkpoint.to_dict(), (CHECKPOINTS, info.id), checkpoint.id)
        except (InvalidDataError, InvalidKeyError) as exc:
            raise InvalidDataError(f"{where}: checkpoints[{index}]: {exc}") from None
        checkpoints.append(checkpoint)
    return PreparedSession(info, messages, summary, checkpoints)


def prepare_export(entries: list[dict[str, Any]]) -> list[PreparedSession]:
    """Every entry of a file, validated before the first write of the import."""
    prepared = [prepare_session(entry, f"sessions[{index}]")
                for index, entry in enumerate(entries)]
    ids = [p.info.id for p in prepared]
    if len(ids) != len(set(ids)):
        raise InvalidDataError("the file holds the same session id twice")
    return prepared


def imported_id(info: SessionInfo) -> str:
    """The id ``--new-ids`` gives a session: a UUIDv7 derived from the exported id, so a
    re-run of an interrupted import finishes the same new session instead of leaving a
    partial one behind and starting another."""
    created = uuid7_datetime(info.id)
    ms = int(created.timestamp() * 1000) if created else 0
    return str(uuid7_from(ms, f"synaptic-s3 import {info.id}".encode()))


async def import_session(manager: SessionManager, prepared: PreparedSession, *,
                         new_id: bool = False) -> str:
    """Store one validated session; return its id (kept, or derived with ``new_id``).

    Messages, summary and checkpoints are written first and the session's metadata
    last, so until an import has finished the session does not exist (no listing
    shows it) and running the same import again completes it: appends resume after
    the messages already stored, checkpoints and the summary are rewritten with the
    same content. A session already holding OTHER messages is a :class:`ConflictError`.
    """
    if new_id:
        session_id = imported_id(prepared.info)
        created = uuid7_datetime(session_id) or datetime.now(UTC)
        info = SessionInfo(id=session_id, created_at=iso_utc(created))
    else:
        session_id, info = prepared.info.id, prepared.info
    existing = await manager.store.get(SESSIONS, session_id)
    if existing is not None and existing.value != info.to_dict():
        raise ConflictError(f"session {session_id!r} already exists with other metadata "
                            "(use --new-ids to import it as a new session)")
    memory = manager.memory()
    stored = await memory.load(session_id) if await memory.count(session_id) else []
    wanted = [m.to_dict() for m in prepared.messages]
    if [m.to_dict() for m in stored] != wanted[:len(stored)]:
        raise ConflictError(f"session {session_id!r} already holds other messages")
    await _append_in_chunks(manager, session_id, prepared.messages[len(stored):])
    if prepared.summary is not None:
        await memory.set_summary(session_id, prepared.summary)
    for checkpoint in prepared.checkpoints:
        await manager.checkpointer().put(CheckpointConfig(session_id), checkpoint)
    try:  # last: the session exists once everything it owns is stored
        await manager.store.put(SESSIONS, session_id, info.to_dict(), if_absent=True)
    except ConflictError:
        current = await manager.store.get(SESSIONS, session_id)
        if current is None or current.value != info.to_dict():
            raise
    return session_id


async def _append_in_chunks(manager: SessionManager, session_id: str,
                            messages: list[Message]) -> None:
    """Append in chunks of about half a segment, so a long import builds the same
    bounded tail and segments that a live session would (one huge append would make
    one huge tail)."""
    budget = manager.memory().segment_bytes
    chunk_bytes = max(1, budget // 2) if budget is not None else None
    chunk: list[Message] = []
    size = 0
    for message in messages:
        length = len(message.to_json().encode("utf-8", "surrogatepass"))
        if chunk and chunk_bytes is not None and size + length > chunk_bytes:
            await manager.memory().append_many(session_id, chunk)
            chunk, size = [], 0
        chunk.append(message)
        size += length
    if chunk:
        await manager.memory().append_many(session_id, chunk)
