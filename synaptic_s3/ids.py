"""Time-ordered identifiers: UUIDv7 session ids and the Rust crate's checkpoint ids.

Both sort lexically in creation order, which is what lets listings come back in
creation order without reading every object (see ``SessionManager.list_sessions``
and ``StoreCheckpointer.get``).

Python 3.14's :func:`uuid.uuid7` is used where it exists; for 3.11-3.13 the few
lines of RFC 9562 section 6.2 (method 1: a 12-bit counter in ``rand_a`` keeps ids
strictly increasing within one millisecond) are implemented here rather than
adding a dependency to every Lambda package.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import uuid
from datetime import UTC, datetime

_UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_CHECKPOINT_ID_RE = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{4})$")


class _Uuid7Generator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def __call__(self) -> uuid.UUID:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    ms += 1
                    self._counter = int.from_bytes(os.urandom(2)) & 0x1FF
            else:
                # A random start (below half the range) keeps ids unguessable yet leaves
                # room for thousands of ids in the same millisecond.
                self._counter = int.from_bytes(os.urandom(2)) & 0x1FF
            self._last_ms = ms
            counter = self._counter
        rand_b = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
        return uuid.UUID(int=value)


_uuid7 = getattr(uuid, "uuid7", None) or _Uuid7Generator()


def uuid7() -> uuid.UUID:
    """A new UUIDv7: its first 48 bits are the Unix time in milliseconds."""
    generated: uuid.UUID = _uuid7()
    return generated


def uuid7_datetime(value: str) -> datetime | None:
    """The creation time encoded in a canonical lowercase UUIDv7 string, else ``None``."""
    if not _UUID7_RE.match(value):
        return None
    ms = int(value[:8] + value[9:13], 16)
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``: ``2026-11-24T02:15:30.123Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class _CheckpointIdGenerator:
    """``<ns since epoch as 16 hex digits>-<4 hex digit counter>``, as the Rust crate
    writes them; strictly increasing in this process even within one nanosecond tick,
    and, given ``after``, greater than that id too (a parent's id, the newest id seen
    for a thread), whatever this machine's clock says."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ns = 0
        self._counter = 0

    def __call__(self, after: str | None = None) -> str:
        floor = _parse_generated(after) if after is not None else None
        with self._lock:
            ns, counter = time.time_ns(), 0
            last = (self._last_ns, self._counter)
            if floor is not None and floor > last:
                last = floor
            if (ns, counter) <= last:
                ns, counter = last[0], last[1] + 1
                if counter > 0xFFFF:
                    ns, counter = ns + 1, 0
            self._last_ns, self._counter = ns, counter
            return f"{ns:016x}-{counter:04x}"


def _parse_generated(checkpoint_id: str) -> tuple[int, int] | None:
    match = _CHECKPOINT_ID_RE.match(checkpoint_id)
    return (int(match.group(1), 16), int(match.group(2), 16)) if match else None


new_checkpoint_id = _CheckpointIdGenerator()


def checkpoint_id_at(moment_ns: int) -> str:
    """The smallest generated checkpoint id at ``moment_ns``: a ``StartAfter`` bound."""
    return f"{max(moment_ns, 0):016x}-0000"


def checkpoint_id_ns(checkpoint_id: str) -> int | None:
    """The nanosecond timestamp inside a generated checkpoint id, else ``None``."""
    match = _CHECKPOINT_ID_RE.match(checkpoint_id)
    return int(match.group(1), 16) if match else None


def checkpoint_id_position(checkpoint_id: str) -> int | None:
    """A generated checkpoint id as one integer, ``ns << 16 | counter``, else ``None``.

    Generated ids are fixed-width lowercase hex, so their key order is the order of
    these integers: "latest" searches over them (:mod:`synaptic_s3.checkpoint_search`)."""
    parsed = _parse_generated(checkpoint_id)
    return None if parsed is None else parsed[0] << 16 | parsed[1]


def checkpoint_id_at_position(position: int) -> str:
    """The generated id at ``position`` (inverse of :func:`checkpoint_id_position`,
    clamped to the format's range): listing after it yields exactly the generated ids
    at greater positions."""
    position = min(max(position, 0), (1 << 80) - 1)
    return f"{position >> 16:016x}-{position & 0xFFFF:04x}"


_MS_MASK = (1 << 48) - 1


def uuid7_from(ms: int, seed: bytes) -> uuid.UUID:
    """A UUIDv7 whose timestamp is ``ms`` and whose 74 other bits come from
    SHA-256(``seed``): the same (time, seed) always gives the same id.

    Why: a repeated request (a Lambda double invocation, a client retry with an
    ``Idempotency-Key``) must mint the very ids the first attempt minted, so the
    conditional or id-deduplicated write turns the repeat into a no-op. The id still
    sorts by ``ms`` like any UUIDv7; within one millisecond the order is the hash's.
    """
    digest = int.from_bytes(hashlib.sha256(seed).digest()[:10])  # 80 bits, 74 used
    rand_a = digest >> 68 & 0xFFF
    rand_b = digest & ((1 << 62) - 1)
    value = (ms & _MS_MASK) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def checkpoint_id_from(ms: int, seed: bytes) -> str:
    """A checkpoint id in the generated format (``<16 hex ns>-<4 hex>``) at millisecond
    ``ms``, the sub-millisecond nanoseconds and the counter taken from SHA-256(``seed``).

    Why: like :func:`uuid7_from`, a repeat of the same request names the same
    checkpoint (so the second put overwrites identical content), and the id still
    sorts by time, which "latest" relies on.
    """
    digest = int.from_bytes(hashlib.sha256(seed).digest()[:8])
    ns = max(ms, 0) * 1_000_000 + (digest >> 16) % 1_000_000
    return f"{ns:016x}-{digest & 0xFFFF:04x}"
