"""Sessions newest first, without listing every session.

Object stores list keys in ascending order only (S3's ListObjectsV2 has no
"descending"), so "the newest 100 sessions" cannot be one request. Session ids
made by this library are UUIDv7, whose text starts with the creation time in
milliseconds: the keys created after time T are exactly those after a bound
derived from T. So the newest page probes backwards in windows growing eightfold
(a minute, 8 minutes, an hour ... 32 years, then everything), each probe listing
only the keys between its bound and the previous one, until the window holds
more than a page. A busy store answers the first page with one or two listing
requests (a store gaining 100 sessions a minute: one); a quiet one costs up to
ten small listings; none reads a session object. Later pages probe back the same
way from the time inside their cursor.

The order is descending key order, which is newest first for UUIDv7 ids; ids of
other shapes take their place by text (those starting with a letter after ``f``
sort above every UUIDv7 and appear first).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from synaptic_s3.core.keys import path_order
from synaptic_s3.core.store import Store
from synaptic_s3.ids import uuid7_datetime

WINDOWS_MS = tuple(60_000 * 8**step for step in range(9))
"""1 minute, 8 minutes, ~1 hour, 8.5 hours, 2.8 days, 23 days, 6 months, 4 and 32 years:
each 8 times the last, so the window that first holds a page holds at most about 8
pages' worth of keys (for a steady rate): about one listing request, however busy."""
LIST_PAGE = 1000


def uuid7_floor(ms: int) -> str:
    """A listing bound below every UUIDv7 of millisecond ``ms`` or later, and above
    every UUIDv7 of an earlier millisecond (compared as object paths)."""
    digits = f"{max(ms, 0):012x}"
    return f"{digits[:8]}-{digits[8:]}-"


async def _keys_between(store: Store, namespace: Sequence[str], low: str | None,
                        high: str | None, *, include_high: bool) -> list[str]:
    """Keys after ``low`` (``None``: from the start) and before ``high`` (``None``: to
    the end; ``include_high``: up to and including it), ascending."""
    stop = None if high is None else path_order(high)
    found: list[str] = []
    after = low
    while True:
        page = await store.list_keys(namespace, after=after, limit=LIST_PAGE)
        for key in page.keys:
            order = path_order(key)
            if stop is not None and (order > stop or (order == stop and not include_high)):
                return found
            found.append(key)
        if page.next_after is None or not page.keys:
            return found
        after = page.next_after


async def newest_first(store: Store, namespace: Sequence[str], *, before: str | None,
                       limit: int, now_ms: int | None = None) -> tuple[list[str], bool]:
    """Up to ``limit`` keys of ``namespace`` that sort before ``before`` (every key when
    ``None``), greatest first, and whether smaller keys remain (another page)."""
    if before is None:
        top_ms: int | None = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    else:
        moment = uuid7_datetime(before)
        top_ms = None if moment is None else int(moment.timestamp() * 1000)
    bounds: list[str | None] = []
    if top_ms is not None:
        bounds = [uuid7_floor(top_ms - window) for window in WINDOWS_MS]
    bounds.append(None)
    collected: list[str] = []  # ascending, all after the current bound and before `before`
    high, include_high = before, False
    for bound in bounds:
        if bound is not None and high is not None and path_order(bound) >= path_order(high):
            continue  # this window lies entirely above `before`: nothing new in it
        collected = await _keys_between(store, namespace, bound, high,
                                        include_high=include_high) + collected
        if len(collected) > limit or bound is None:
            break
        high, include_high = bound, True
    page = collected[::-1][:limit]
    return page, len(collected) > limit
