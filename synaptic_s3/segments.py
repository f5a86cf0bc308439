"""The pure parts of the segmented message log: names, the tail marker, the seal rule.

Nothing here does I/O, so each rule is tested on its own (``tests/unit/test_segments.py``)
and the protocol in :mod:`synaptic_s3.memory` reads as the steps of docs/segments.md.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MARKER = "synaptic_s3_tail"
"""The field the tail's first message carries once something is sealed."""

SEGMENTS = "segments"
"""The sub-namespace of ``("memory", id)`` holding sealed segments."""

_POSITION_DIGITS = 12
_KEY = re.compile(r"^([0-9a-f]{16})-([0-9]{12})-([0-9]{12})$")
_EPOCH = re.compile(r"^[0-9a-f]{16}$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class TailMarker:
    """Where the tail begins: positions ``0..start`` are sealed in ``epoch``'s
    segments, the newest of which begins at ``prev``."""

    epoch: str
    start: int
    prev: int

    def to_json(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "start": self.start, "prev": self.prev}

    @classmethod
    def parse(cls, value: Any) -> TailMarker | None:
        """The marker, or ``None`` when ``value`` is not a well-formed one."""
        if not isinstance(value, dict):
            return None
        epoch, start, prev = value.get("epoch"), value.get("start"), value.get("prev")
        if not (isinstance(epoch, str) and _EPOCH.match(epoch)):
            return None
        if not (_is_int(start) and _is_int(prev)):
            return None
        assert isinstance(start, int)
        assert isinstance(prev, int)
        if not 0 <= prev < start < 10**_POSITION_DIGITS:
            return None
        return cls(epoch, start, prev)

    @property
    def newest_segment(self) -> SegmentName:
        return SegmentName(self.epoch, self.prev, self.start)


@dataclass(frozen=True, slots=True, order=True)
class SegmentName:
    """A sealed segment: messages ``start`` (inclusive) to ``end`` (exclusive)."""

    epoch: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return f"{self.epoch}-{self.start:0{_POSITION_DIGITS}d}-{self.end:0{_POSITION_DIGITS}d}"

    @classmethod
    def parse(cls, key: str) -> SegmentName | None:
        match = _KEY.match(key)
        if match is None:
            return None
        start, end = int(match.group(2)), int(match.group(3))
        return cls(match.group(1), start, end) if start < end else None


def new_epoch() -> str:
    """16 random hex digits: never reused, so no two lives of a history share segments."""
    return secrets.token_hex(8)


def message_size(message: dict[str, Any]) -> int:
    """Bytes of the message's compact JSON (what the budget counts)."""
    return len(json.dumps(message, ensure_ascii=False, separators=(",", ":"))
               .encode("utf-8", "surrogatepass"))


def seal_length(sizes: Sequence[int], new_size: int, budget: int | None) -> int:
    """How many of the tail's oldest messages an append must seal first (0: none).

    Seal only when the tail plus the new messages would pass the budget AND the tail
    holds at least half of it; then seal the shortest prefix of at least half the
    budget -- except that a message larger than the whole budget is never sealed
    together with others: the messages before it are sealed first, and it alone
    next. The prefix depends on the tail's first messages alone, and a tail only
    grows at its end between seals, so every writer sealing at the same position
    seals the same messages (docs/segments.md, "Seals are deterministic").
    """
    if budget is None:
        return 0
    total = sum(sizes)
    half = (budget + 1) // 2
    if total + new_size <= budget or total < half:
        return 0
    running = 0
    for index, size in enumerate(sizes):
        if size > budget:
            return index or 1
        running += size
        if running >= half:
            return index + 1
    return len(sizes)  # unreachable: total >= half


def seal_cuts(sizes: Sequence[int], new_size: int, budget: int | None) -> list[int]:
    """Every seal an append makes, as the tail positions where segments end: usually
    none or one; more when oversized messages must each be sealed on their own so
    that the new tail stays within the budget."""
    cuts: list[int] = []
    offset = 0
    while offset < len(sizes):
        length = seal_length(sizes[offset:], new_size, budget)
        if length == 0:
            break
        offset += length
        cuts.append(offset)
    return cuts
