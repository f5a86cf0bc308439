"""Finding a thread's newest checkpoint in a few listings: the pure decisions.

S3 lists keys in ascending order only, at most 1,000 a page, from a ``StartAfter``
key; there is no reverse listing. Generated checkpoint ids are ``<ns>-<counter>`` in
fixed-width hex, so key order is time order, and any instant (any *position*
``ns << 16 | counter``, :func:`~synaptic_s3.ids.checkpoint_id_position`) is a
``StartAfter`` bound: "the keys written after T". :class:`TailSearch` decides which
listing ("probe") to send next and learns from each answer; it does no I/O
(:meth:`synaptic_s3.checkpoint.StoreCheckpointer.latest_id` sends the probes), so it
is tested against a brute-force maximum over random key sets without a store
(``tests/unit/test_latest_search.py``).

A probe comes back in one of three ways: *empty* (nothing sorts after it), *complete*
(not truncated: its last key is the answer) or *truncated* (more follows; the page
tells where the keys are and how fast they were written there).

1. **Windows**, for recency: the keys after an hour ago (one listing for a thread with
   at most 1,000 checkpoints in the last hour); then from the thread's start (one more
   listing answers an empty thread or one with at most 1,000 checkpoints in all); then
   after a day, 30 days, a year, 10 years ago, skipping windows below a key already seen.
2. **Hint**, once a probe is truncated: the caller reads the thread's "latest" hint
   (:attr:`TailSearch.wants_hint`, :mod:`synaptic_s3.checkpoint_hint`). If it names an
   id above ``lo``, the next probe lists a page from just below it (the hinted key
   itself, if it exists, and what follows); if it names an id inside the page just
   read, the next probe reads on after that page. A writer's hint is at most about 100
   keys behind, so this probe usually answers; otherwise it only moves ``lo`` up or
   ``hi`` down, like any probe.
3. **Tail**, once a probe is truncated: ``lo`` is the last key seen (it exists), ``hi``
   the lowest probe found empty (nothing after it), and the last truncated page's write
   rate gives ``unit``, the positions 1,000 keys span there. Counting in pages of
   1,000 keys from ``lo``:

   * *top*: a thread that may still be being written (at most
     :data:`TOP_MAX_PAGES` pages before now, or written steadily since the window
     began) is probed a quarter page before now (or ``hi``): done in this probe,
     reading about 250 keys; if it is empty it cost one small request and lowered ``hi``;
   * *read on*: when at most a page is expected after ``lo``, list after it;
   * *split*: otherwise the range up to now (at most :data:`DESIGN_PAGES` pages: a burst
     of 10,000) is searched with probes of :data:`SPLIT_LIMIT` keys placed so that each
     outcome leaves a range the remaining probes always cover
     (:func:`coverage`), lowest first. A burst of up to 10,750 keys written at a steady
     rate (in one millisecond or over minutes) costs at most 4 probes after its first
     page; a longer one moves the range up and repeats.

Every probe either answers, raises ``lo`` or lowers ``hi``, so the search ends; after
:data:`MAX_PROBES` it reads on page by page.

What the cost assumes, and what it does not: the answer is always the greatest key
(``path_order``), whatever the ids. The bounds above hold for generated ids (and
caller-given ids in the same format that follow the clock). Keys that are not in that
format cost a listing per 1,000 of them once the search meets one; keys dated after
``now`` (a writer whose clock is ahead) only move the search up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from synaptic_s3.core.store import KeyPage
from synaptic_s3.ids import checkpoint_id_at_position, checkpoint_id_position

PAGE = 1000
"""Keys per full listing (S3's maximum)."""
SPLIT_LIMIT = 350
"""Keys a split probe reads: about a third of a page keeps a probe that lands low cheap."""
DESIGN_PAGES = 9
"""The split assumes at most this many pages after ``lo`` (a burst of 10,000)."""
TOP_FRACTION = 4
"""The top probe lands 1/TOP_FRACTION of a page before now."""
MAX_PROBES = 64
"""After this many probes, read on page by page (only keys far off every estimate)."""
_STEADY_GAPS = 10
"""A window's first key within this many average gaps of the window: written steadily."""
_HOUR_NS = 3600 * 10**9
_DAY_NS = 24 * _HOUR_NS
_WINDOWS_NS = (_DAY_NS, 30 * _DAY_NS, 366 * _DAY_NS, 3660 * _DAY_NS)

ProbeKind = Literal["window", "start", "hint", "top", "split", "read_on"]


@dataclass(frozen=True, slots=True)
class Probe:
    """One listing to send: the keys after ``after`` (``None``: from the first key),
    at most ``limit`` of them. ``position`` is where ``after`` lies in the generated-id
    order (``None`` for ``start`` and for reading on after a key of another format)."""

    kind: ProbeKind
    after: str | None
    limit: int
    position: int | None


LEAF_PAGES = 1.0
"""The search reads on from ``lo`` once at most this much of a page is expected there
(a margin for rates that are estimates)."""
DESIGN_MARGIN = 1.05
"""The split's range is the design burst plus this margin for the rate's error."""


def coverage(probes: int, fraction: float | None = None) -> float:
    """How many pages of range ``probes`` probes always search when the last reads a
    whole page and the others ``fraction`` of one: a probe at ``x`` answers if the end
    lies in ``(x, x + fraction)``, else leaves ``(0, x]`` or what lies above its page,
    each searched by one probe fewer. ``C(1) = 1, C(k) = 2 C(k-1) + fraction``."""
    if probes < 1:
        return 0.0
    if fraction is None:
        fraction = SPLIT_LIMIT / PAGE
    return (1 << (probes - 1)) * (LEAF_PAGES + fraction) - fraction


def probes_needed(pages: float) -> int:
    """The fewest probes whose :func:`coverage` reaches ``pages``."""
    probes = 1
    while coverage(probes) < pages - 1e-9:
        probes += 1
    return probes


TOP_MAX_PAGES = coverage(probes_needed(DESIGN_PAGES * DESIGN_MARGIN) - 1) + 1 / TOP_FRACTION
"""Up to this many pages before now, a missed top probe leaves a range the split's
remaining probes cover: trying the top first costs a burst no extra listing."""


_DESIGN_RANGE = DESIGN_PAGES * DESIGN_MARGIN


def _position_of(moment_ns: int) -> int:
    return max(moment_ns, 0) << 16


class TailSearch:
    """The state of one search for the greatest key: call :meth:`next_probe`, send
    it, pass the page to :meth:`observe`, until :attr:`done`; then :attr:`answer`."""

    def __init__(self, now_ns: int) -> None:
        self.now = now_ns
        self.done = False
        self.answer: str | None = None
        self.probes = 0
        self._lo_key: str | None = None
        self._lo: int | None = None
        self._hi: int | None = None
        self._unit: float | None = None
        self._span = 0
        self._gaps = 0
        self._steady = False
        self._tail_started = False
        self._design_top: int | None = None
        self._walking = False
        self._hint: int | None = None
        self._page_start: int | None = None  # the first key of the last truncated page
        self._hint_state: Literal["unasked", "asked", "used"] = "unasked"
        self._windows: list[tuple[ProbeKind, int | None]] = [
            ("window", _position_of(now_ns - _HOUR_NS)), ("start", None),
            *(("window", _position_of(now_ns - window)) for window in _WINDOWS_NS),
        ]

    # -- the writer's hint ---------------------------------------------------------------

    @property
    def wants_hint(self) -> bool:
        """Whether the caller should read the thread's "latest" hint now
        (:mod:`synaptic_s3.checkpoint_hint`) and pass it to :meth:`offer_hint`: once,
        after the first listing that found more than a page. Threads with at most a
        page where the search looked never pay the GET."""
        return not self.done and self._hint_state == "unasked" and self._lo_key is not None

    def offer_hint(self, checkpoint_id: str | None) -> None:
        """The id the hint names (``None``: no usable hint). If it lies above every
        key seen (and below any listing found empty), the next probe lists from just
        below it: the hinted checkpoint itself if it exists, and everything newer."""
        self._hint_state = "asked"
        position = None if checkpoint_id is None else checkpoint_id_position(checkpoint_id)
        self._hint = None if position is None else position

    def _hint_probe(self) -> Probe | None:
        if self._hint_state != "asked" or self._hint is None:
            return None
        self._hint_state = "used"
        below = self._hint - 1
        if self._hi is not None and below >= self._hi:
            return None  # above a listing found empty: the hinted id is gone
        if self._lo is not None and below <= self._lo:
            if self._page_start is not None and self._hint >= self._page_start:
                # Within the page just read: its writer was near the end then, so the
                # keys after that page are likely few; read on (one page).
                return self._read_on(PAGE, kind="hint")
            return None  # older than that page: stale
        return self._probe("hint", below, PAGE)

    # -- deciding -----------------------------------------------------------------------

    def next_probe(self) -> Probe:
        """The listing to send next."""
        if self.done:
            raise ValueError("the search is over")
        if self._walking:
            return self._read_on(PAGE)
        hinted = self._hint_probe()
        if hinted is not None:
            return hinted
        while self._windows:
            kind, position = self._windows[0]
            if kind == "start":
                return Probe("start", None, PAGE, None)
            assert position is not None
            if (self._lo is not None and position <= self._lo) or (
                    self._hi is not None and position >= self._hi):
                self._windows.pop(0)
                continue
            return Probe("window", checkpoint_id_at_position(position), PAGE, position)
        if self._lo is None or self._unit is None or self.probes >= MAX_PROBES:
            self._walking = True  # keys in another format, or far off every estimate
            return self._read_on(PAGE)
        return self._tail_probe(self._lo, self._unit)

    def _tail_probe(self, lo: int, unit: float) -> Probe:
        if self._hi is not None and self._hi - lo <= 1:
            return self._read_on(PAGE)
        now = _position_of(self.now)
        roof = min(now, self._hi) if self._hi is not None else now  # nothing expected above
        first_step, self._tail_started = not self._tail_started, True
        if first_step and roof > lo and (
                self._steady or (roof - lo) / unit <= TOP_MAX_PAGES):
            top = roof - math.ceil(unit / TOP_FRACTION)
            if top > lo:
                return self._probe("top", top, PAGE)
        if self._design_top is None or self._design_top <= lo:
            self._design_top = lo + int(_DESIGN_RANGE * unit)
        ceiling = self._design_top if roof <= lo else min(self._design_top, roof)
        pages = (ceiling - lo) / unit
        if pages <= LEAF_PAGES:
            return self._read_on(PAGE)
        # A probe at ``offset`` leaves (0, offset] when empty and what lies above its
        # page when full; both must fit the probes left. Between the lowest and the
        # highest such offset, the middle keeps a margin for the rate's error.
        fraction = SPLIT_LIMIT / PAGE
        below = coverage(probes_needed(pages) - 1)
        lowest = max(0.0, pages - fraction - below)
        highest = max(lowest, min(below, pages - fraction))
        offset = (lowest + highest) / 2
        position = lo + int(offset * unit)
        if position <= lo:
            return self._read_on(SPLIT_LIMIT, kind="split")
        return self._probe("split", position, SPLIT_LIMIT)

    def _probe(self, kind: ProbeKind, position: int, limit: int) -> Probe:
        return Probe(kind, checkpoint_id_at_position(position), limit, position)

    def _read_on(self, limit: int, kind: ProbeKind = "read_on") -> Probe:
        assert self._lo_key is not None  # every path here follows a truncated page
        return Probe(kind, self._lo_key, limit, self._lo)

    # -- learning -----------------------------------------------------------------------

    def observe(self, probe: Probe, page: KeyPage) -> None:
        """What ``probe`` came back with."""
        self.probes += 1
        if not page.keys:
            if probe.kind == "start":
                self._finish(None)  # nothing at all
            elif probe.after == self._lo_key and probe.after is not None:
                self._finish(probe.after)  # nothing after a key that exists
            else:
                assert probe.position is not None
                self._hi = probe.position if self._hi is None else min(self._hi, probe.position)
                if probe.kind == "window":
                    self._windows.pop(0)
            return
        if page.next_after is None:
            self._finish(page.keys[-1])
            return
        self._learn(page)
        if probe.kind == "window":
            self._steady = self._looks_steady(probe, page)
            self._windows.clear()
        elif probe.kind == "start":
            self._windows.pop(0)

    def _finish(self, answer: str | None) -> None:
        self.done = True
        self.answer = answer

    def _learn(self, page: KeyPage) -> None:
        """A truncated page: its last key exists, more follow; its rate is the guide."""
        positions = [p for key in page.keys if (p := checkpoint_id_position(key)) is not None]
        self._lo_key = page.keys[-1]
        self._lo = checkpoint_id_position(self._lo_key)
        self._page_start = positions[0] if positions else None
        if self._lo is None or len(positions) < 2 or positions[-1] <= positions[0]:
            self._unit = None
            return
        # Pooled over every page seen: a 250-key page alone would tell the rate within
        # about 6%, too coarse to place the next probes when arrivals are irregular.
        self._span += positions[-1] - positions[0]
        self._gaps += len(positions) - 1
        mean = self._span * PAGE / self._gaps
        # A page spanning two bursts has a mean gap set by the pause between them;
        # the rate at the page's end (where the search goes on) is what places the
        # next probes, so the newest keys' rate wins when it is much faster.
        recent = positions[-min(len(positions), 100):]
        if len(recent) >= 2 and recent[-1] > recent[0]:
            local = (recent[-1] - recent[0]) * PAGE / (len(recent) - 1)
            self._unit = min(mean, local) if local * 4 < mean else mean
        else:
            self._unit = mean

    def _looks_steady(self, probe: Probe, page: KeyPage) -> bool:
        """The window's keys start right where it begins: written at this rate for a
        while already, so probably still being written."""
        first = checkpoint_id_position(page.keys[0])
        if first is None or self._unit is None or probe.position is None:
            return False
        return first - probe.position <= _STEADY_GAPS * self._unit / PAGE
