"""A small structural diff of two JSON values, for "what did this checkpoint change".

Objects are compared key by key and arrays position by position (graph states
mostly grow at the end: a list of messages gains items, so index-wise comparison
says "added /messages/3" instead of a confusing reordering). Paths are JSON
Pointers (RFC 6901): unambiguous whatever the keys contain (``/``, ``~``, dots,
spaces), which matters because state keys are untrusted text.

Values compare by JSON type as well as value: ``1``, ``1.0`` and ``true`` differ
in JSON even though Python says ``1 == True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["added", "removed", "changed"]

MAX_DEPTH = 64
"""Deeper than this, a subtree is compared as one value (no unbounded recursion)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: ``before`` is meaningless for ``added``, ``after`` for ``removed``."""

    op: Op
    path: str
    before: Any = None
    after: Any = None


def pointer_token(key: str | int) -> str:
    """One JSON Pointer reference token (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: same type (bool, number, string...) and same value.
    Iterative, so a deeply nested state cannot exhaust the stack."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if _kind(x) != _kind(y):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            pending.extend((x[key], y[key]) for key in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def diff(before: Any, after: Any, *, limit: int = 1000) -> tuple[list[Change], bool]:
    """The changes that turn ``before`` into ``after``, in document order, and whether
    more than ``limit`` were found (the list is then cut: a huge state must not make a
    huge page)."""
    changes: list[Change] = []
    _walk(before, after, "", changes, limit + 1, 0)
    return changes[:limit], len(changes) > limit


def _walk(a: Any, b: Any, path: str, out: list[Change], cap: int, depth: int) -> None:
    """Append the changes under ``path``, stopping once ``out`` holds ``cap``."""
    if depth < MAX_DEPTH and isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            if len(out) >= cap:
                return
            child = f"{path}/{pointer_token(key)}"
            if key in b:
                _walk(a[key], b[key], child, out, cap, depth + 1)
            else:
                out.append(Change("removed", child, before=a[key]))
        for key in b:
            if len(out) >= cap:
                return
            if key not in a:
                out.append(Change("added", f"{path}/{pointer_token(key)}", after=b[key]))
        return
    if depth < MAX_DEPTH and isinstance(a, list) and isinstance(b, list):
        for index in range(max(len(a), len(b))):
            if len(out) >= cap:
                return
            child = f"{path}/{index}"
            if index >= len(b):
                out.append(Change("removed", child, before=a[index]))
            elif index >= len(a):
                out.append(Change("added", child, after=b[index]))
            else:
                _walk(a[index], b[index], child, out, cap, depth + 1)
        return
    if len(out) < cap and not json_equal(a, b):
        out.append(Change("changed", path, before=a, after=b))
