"""Export and import of whole sessions as JSON (used by ``synaptic-s3 export/import``).

The document::

    {"format": "synaptic-s3.sessions", "version": 1, "exported_at": "...",
     "sessions": [{"session": {"id", "created_at"}, "messages": [...],
                   "summary": "..." | null, "checkpoints": [...]}, ...]}

Messages and checkpoints are in the wire format (the Rust crate's), so an export is
readable by any tool. Import restores each session under its own id (refusing one
that exists) or, with ``new_ids``, as a new session; appends are idempotent by
message id, so an interrupted import can simply be run again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from synaptic_s3.checkpoint import Checkpoint, CheckpointConfig
from synaptic_s3.core.errors import ConflictError, InvalidDataError, NotFoundError
from synaptic_s3.core.messages import Message
from synaptic_s3.ids import iso_utc
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


async def import_session(manager: SessionManager, entry: dict[str, Any], *,
                         new_id: bool = False) -> str:
    """Store one exported session; return its id (new or kept). Validates everything
    before writing anything."""
    info = SessionInfo.model_validate(entry["session"])
    messages = [Message.from_dict(m) for m in entry.get("messages") or []]
    checkpoints = [Checkpoint.from_dict(c) for c in entry.get("checkpoints") or []]
    summary = entry.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise InvalidDataError("\"summary\" must be a string or null")
    if new_id:
        session_id = await manager.create_session()
    else:
        session_id = info.id
        try:  # the session's metadata object, exactly as exported
            await manager.store.put(SESSIONS, session_id, info.to_dict(), if_absent=True)
        except ConflictError:
            raise ConflictError(f"session {session_id!r} already exists "
                                "(use --new-ids to import it as a new session)") from None
    if messages:
        await manager.memory().append_many(session_id, messages)
    if summary is not None:
        await manager.memory().set_summary(session_id, summary)
    for checkpoint in checkpoints:
        await manager.checkpointer().put(CheckpointConfig(session_id), checkpoint)
    return session_id
