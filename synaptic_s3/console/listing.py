"""Sessions newest first, without listing every session.

Object stores list keys in ascending order only (S3's ListObjectsV2 has no
"descending"), so "the newest 100 sessions" cannot be one request. Session ids
made by this library are UUIDv7, whose text starts with the creation time in
milliseconds: the keys created after time T are exactly those after a bound
derived from T. So the newest page probes backwards in growing windows, each
probe listing only the keys between its bound and the previous one, until the
window holds more than a page. The first window is a minute; each next one is
sized from the rate seen so far to hold about a page (times 1.25), at least
1.25 and at most 8 times the last: a steady store lists about a page and a
quarter of keys in two or three requests, a store gaining 100 sessions a minute
one request, and a quiet store at most a dozen small listings; none reads a
session object. Later pages probe back the same way from the time inside their
cursor. (A burst of thousands of sessions in the same minute is listed whole:
S3 cannot list backwards.)

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

FIRST_WINDOW_MS = 60_000
LAST_WINDOW_MS = 60 * 366 * 24 * 3_600_000
"""Past 60 years back, the last probe lists from the very first key."""
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
    collected: list[str] = []  # ascending, all after the current bound and before `before`
    high, include_high = before, False
    window = FIRST_WINDOW_MS
    while True:
        bound = (None if top_ms is None or window > LAST_WINDOW_MS
                 else uuid7_floor(top_ms - window))
        if bound is None or high is None or path_order(bound) < path_order(high):
            collected = await _keys_between(store, namespace, bound, high,
                                            include_high=include_high) + collected
            high, include_high = bound, True
        if len(collected) > limit or bound is None:
            break
        wanted = window * (limit + 1) / len(collected) * 1.25 if collected else 8 * window
        window = int(min(8 * window, max(1.25 * window, wanted)))
    page = collected[::-1][:limit]
    return page, len(collected) > limit
