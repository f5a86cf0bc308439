"""Every failure the API can report, and the one table mapping library errors to HTTP.

A reply for an error is always ``{"error": {"code", "message", "request_id"}}``;
``code`` is stable and machine-readable, ``message`` is for people and never holds
internals (bucket names, keys, tracebacks) on a 5xx.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    InvalidKeyError,
    NotFoundError,
    StorageError,
    StorageUnavailableError,
)


class ApiError(Exception):
    """An error the service reports as it is (status, code, message)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class Outcome:
    """How an exception is answered, and how loudly it is logged."""

    status: int
    code: str
    message: str
    log_level: str  # "info" for client mistakes, "warning"/"error"/"exception" otherwise
    headers: dict[str, str] | None = None


INTERNAL_MESSAGE = "internal error; quote the request_id when reporting it"

# The error codes, for the docs and the OpenAPI document.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_id": (400, "an id in the path or body breaks the naming rules"),
    "invalid_json": (400, "the body is not valid JSON (or not UTF-8, or nested too deeply)"),
    "invalid_cursor": (400, "the pagination cursor was not issued by this API"),
    "unauthorized": (401, "ISOLATION_MODE=jwt and the request carries no verified subject"),
    "session_not_found": (404, "no session with that id"),
    "checkpoint_not_found": (404, "no such checkpoint (or no checkpoint at all, for latest)"),
    "route_not_found": (404, "no route for this path"),
    "method_not_allowed": (405, "the path exists but not with this method"),
    "invalid_idempotency_key": (400, "the Idempotency-Key header is not 1-200 printable "
                                "ASCII characters"),
    "conflict": (409, "a conditional write kept losing to concurrent writers; retry"),
    "message_conflict": (409, "a message id is already stored with different content; "
                         "nothing was written"),
    "payload_too_large": (413, "the body is larger than MAX_BODY_BYTES"),
    "unsupported_media_type": (415, "bodies must be application/json (UTF-8)"),
    "validation_error": (422, "the body or a parameter does not match the schema"),
    "idempotency_key_reused": (422, "the Idempotency-Key was used before with another "
                               "request"),
    "reply_too_large": (422, "one message or checkpoint alone is larger than "
                        "MAX_REPLY_BYTES; read it with the library"),
    "internal_error": (500, "a bug or a misconfiguration; see the logs for the request_id"),
    "corrupt_data": (500, "a stored object could not be decoded"),
    "storage_unavailable": (503, "the storage backend failed after retries; retry later"),
}


MAX_MESSAGE_CHARS = 1000
"""Messages may quote what the client sent (an id, a key); never at any length."""


def error_body(code: str, message: str, request_id: str) -> dict[str, Any]:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return {"error": {"code": code, "message": message, "request_id": request_id}}


def outcome_for(exc: BaseException) -> Outcome:
    """The one mapping from an exception to an HTTP answer."""
    if isinstance(exc, ApiError):
        level = "info" if exc.status < 500 else "error"
        return Outcome(exc.status, exc.code, exc.message, level, exc.headers)
    if isinstance(exc, InvalidKeyError):
        return Outcome(400, "invalid_id", _key_message(exc), "info")
    if isinstance(exc, NotFoundError):
        code = "checkpoint_not_found" if exc.what == "checkpoint" else "session_not_found"
        return Outcome(404, code, str(exc), "info")
    if isinstance(exc, InvalidDataError):
        return Outcome(422, "validation_error", str(exc), "info")
    if isinstance(exc, ConflictError):
        return Outcome(409, "conflict",
                       "the write kept losing to concurrent writers; retry the request",
                       "warning", {"Retry-After": "1"})
    if isinstance(exc, CorruptDataError):
        return Outcome(500, "corrupt_data", "a stored object of this session could not be "
                       "decoded; quote the request_id when reporting it", "error")
    if isinstance(exc, StorageUnavailableError):
        return Outcome(503, "storage_unavailable",
                       "the storage backend is unavailable; retry later", "error",
                       {"Retry-After": "1"})
    if isinstance(exc, StorageError):  # bucket missing, access denied: a misconfiguration
        return Outcome(500, "internal_error", INTERNAL_MESSAGE, "error")
    return Outcome(500, "internal_error", INTERNAL_MESSAGE, "exception")


def _key_message(exc: InvalidKeyError) -> str:
    """The reason without the internal namespace (which names storage layout)."""
    reason = exc.reason.replace("key ", "id ", 1) if exc.reason.startswith("key ") else exc.reason
    return f"invalid id: {reason}"


def explain_validation_errors(errors: Sequence[Any]) -> tuple[str, str, int]:
    """Turn Powertools/pydantic validation errors into (code, message, status)."""
    lines: list[str] = []
    for error in errors:
        if not isinstance(error, dict):
            lines.append(str(error))
            continue
        kind = error.get("type", "")
        if kind == "json_invalid":
            ctx = error.get("ctx") or {}
            reason = ctx.get("error", "parse error")
            return "invalid_json", f"the body is not valid JSON: {reason}", 400
        loc = [str(part) for part in error.get("loc", ()) if not _is_union_tag(part)]
        msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        where = ".".join(loc)
        lines.append(f"{where}: {msg}" if where else msg)
    return "validation_error", "; ".join(lines[:20]) or "invalid request", 422


def _is_union_tag(part: object) -> bool:
    return part in ("one", "batch", "function-after[_drop_empty(), Message]")
