"""Paged replies: signed cursors, and pages that never make a reply too large.

Cursors are opaque to clients and tamper-evident: ``<position>.<mac>``, both urlsafe
base64 without padding, where the MAC is the first 16 bytes of HMAC-SHA256 over the
cursor's kind (which listing, which direction), the caller's isolation scope, the
session id and the position. A cursor cut short, altered, issued for another session,
another caller, another listing or another deployment (another key) fails the check
and is answered 400 ``invalid_cursor`` -- never a silently wrong page. The position
itself is not secret (it names a place the caller may read anyway).

A reply's size is counted as Lambda carries it: the body as a JSON string inside the
invocation's response document (UTF-8; quotes, backslashes and control characters
escaped, as the python3.12+ runtimes serialise it). That is never less than the
body's own size, so a page within ``MAX_REPLY_BYTES`` is within it everywhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence

from synaptic_s3.service.errors import ApiError

MAX_CURSOR_CHARS = 400
_TAIL_BOUND = 2 * MAX_CURSOR_CHARS + 64
"""More than any page's tail (``],"next_cursor":"..."}``) takes: a fast path."""
_VERSION = "c1"
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid() -> ApiError:
    return ApiError(400, "invalid_cursor", "cursor is not one this API issued for this "
                    "listing; pass the cursor of the previous page back unchanged")


class CursorSigner:
    """Issues and checks the cursors of one deployment (one key)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, kind: str, scope: Sequence[str], session_id: str, position: str
             ) -> bytes:
        message = json.dumps([_VERSION, kind, list(scope), session_id, position])
        return hmac.new(self._key, message.encode("utf-8", "surrogatepass"),
                        hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, kind: str, scope: Sequence[str], session_id: str, position: str
               ) -> str:
        raw = position.encode("utf-8", "surrogatepass")
        return f"{_b64(raw)}.{_b64(self._mac(kind, scope, session_id, position))}"

    def decode(self, cursor: str, kind: str, scope: Sequence[str], session_id: str) -> str:
        """The position a cursor names; :class:`ApiError` 400 ``invalid_cursor`` unless
        this signer issued exactly this cursor for this kind, scope and session."""
        if not cursor or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
            raise _invalid()
        head, dot, tail = cursor.partition(".")
        if not dot:
            raise _invalid()
        try:
            raw, mac = _unb64(head), _unb64(tail)
            position = raw.decode("utf-8", "surrogatepass")
        except (binascii.Error, ValueError):
            raise _invalid() from None
        expected = self._mac(kind, scope, session_id, position)
        if not hmac.compare_digest(mac, expected) \
                or self.encode(kind, scope, session_id, position) != cursor:
            raise _invalid()  # the second test: one spelling per cursor
        return position


def default_cursor_key(store_url: str) -> bytes:
    """Without ``CURSOR_SECRET``: a key derived from the store's URL, so that every
    container of a deployment agrees and cursors of another deployment are refused."""
    return hashlib.sha256(b"synaptic-s3 cursors\0" + store_url.encode("utf-8")).digest()


# -- size-bounded pages ----------------------------------------------------------------


def reply_bytes(text: str) -> int:
    """The bytes ``text`` (a reply body) takes in Lambda's response document."""
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogatepass")) - 2


def bounded_body(head: str, items: Sequence[str], tail: Callable[[int], str], limit: int,
                 *, newest: bool = False) -> tuple[int, str]:
    """The most items whose reply fits ``limit``: ``head`` + the items joined by ``,``
    + ``tail(k)`` for ``k`` items kept (the first ``k``, or with ``newest`` the last
    ``k``). Returns ``k`` and the body; ``k`` is 0 when not even one item fits."""
    order = list(reversed(items)) if newest else list(items)
    best = 0
    running = reply_bytes(head)
    for count, item in enumerate(order, start=1):
        running += reply_bytes(item) + (1 if count > 1 else 0)
        if running > limit:
            break  # the tail only adds bytes: no longer page can fit
        if running + _TAIL_BOUND <= limit or running + reply_bytes(tail(count)) <= limit:
            best = count
    kept = order[:best]
    if newest:
        kept.reverse()
    body = head + ",".join(kept) + tail(best)
    return best, body


def too_large(what: str, limit: int) -> ApiError:
    """The reply to an item that cannot be answered alone within ``limit``."""
    return ApiError(422, "reply_too_large",
                    f"{what} is too large to be returned alone within the reply limit "
                    f"MAX_REPLY_BYTES={limit} bytes; read it with the library instead")
