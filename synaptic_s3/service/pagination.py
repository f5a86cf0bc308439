"""Opaque cursors for ``GET /sessions``: urlsafe base64 of a versioned session id.

Clients must treat a cursor as opaque; anything this module did not produce is
rejected with 400 ``invalid_cursor`` (never passed on to the store).
"""

from __future__ import annotations

import base64
import binascii

from synaptic_s3.core.errors import InvalidKeyError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.service.errors import ApiError
from synaptic_s3.session import SESSIONS

_VERSION = "s1:"
MAX_CURSOR_CHARS = 400


def encode_cursor(after_session_id: str) -> str:
    raw = (_VERSION + after_session_id).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The session id to continue after; :class:`ApiError` 400 for anything else."""
    invalid = ApiError(400, "invalid_cursor",
                       "cursor is not one this API issued; pass next_cursor back unchanged")
    if not cursor or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid from None
    if not text.startswith(_VERSION):
        raise invalid
    session_id = text[len(_VERSION):]
    try:
        validate_key(SESSIONS, session_id)
    except InvalidKeyError:
        raise invalid from None
    if encode_cursor(session_id) != cursor:  # one canonical spelling per cursor
        raise invalid
    return session_id
