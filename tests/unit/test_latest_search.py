"""The pure latest-checkpoint search (``TailSearch``), without a store.

A sorted key list stands in for S3's listing (ascending, ``StartAfter`` exclusive,
truncated when more than ``limit`` keys follow), so thousands of random histories
run in seconds: every answer is checked against a brute-force maximum, and the
number of listings against the bounds the docs promise."""

from __future__ import annotations

import bisect
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synaptic_s3.checkpoint_hint import HINT_EVERY
from synaptic_s3.checkpoint_search import (
    DESIGN_MARGIN,
    DESIGN_PAGES,
    MAX_PROBES,
    PAGE,
    SPLIT_LIMIT,
    Probe,
    TailSearch,
    coverage,
    probes_needed,
)
from synaptic_s3.core.keys import path_order
from synaptic_s3.core.store import KeyPage

SECOND = 10**9
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NOW = 1_790_000_000 * SECOND  # fixed: the search takes "now" as an argument


class Listing:
    """The keys as S3 lists them: path order, after ``after``, ``limit`` a page."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(set(keys), key=path_order)
        self._orders = [path_order(key) for key in self.keys]
        self.calls: list[tuple[Probe, int]] = []

    def __call__(self, probe: Probe) -> KeyPage:
        start = 0 if probe.after is None else bisect.bisect_right(
            self._orders, path_order(probe.after))
        page = self.keys[start : start + probe.limit]
        self.calls.append((probe, len(page)))
        truncated = len(self.keys) - start > probe.limit
        return KeyPage(page, page[-1] if truncated else None)

    @property
    def greatest(self) -> str | None:
        return self.keys[-1] if self.keys else None


class Search:
    """One search over ``keys``: the listings sent, and whether the hint was read."""

    def __init__(self, keys: list[str], now: int = NOW, hint: str | None = None) -> None:
        self.listing = Listing(keys)
        self.hint_reads = 0
        tail = TailSearch(now)
        while not tail.done:
            if tail.wants_hint:
                self.hint_reads += 1
                tail.offer_hint(hint)
                continue
            probe = tail.next_probe()
            tail.observe(probe, self.listing(probe))
            assert len(self.listing.calls) <= MAX_PROBES + len(keys) // PAGE + 8, "must end"
        self.answer = tail.answer

    @property
    def kinds(self) -> list[str]:
        return [probe.kind for probe, _ in self.listing.calls]


def search(keys: list[str], now: int = NOW) -> tuple[str | None, Listing]:
    """The search when the thread has no hint (a thread written raw or by Rust)."""
    listing = Listing(keys)
    tail = TailSearch(now)
    while not tail.done:
        if tail.wants_hint:
            tail.offer_hint(None)
            continue
        probe = tail.next_probe()
        tail.observe(probe, listing(probe))
        assert len(listing.calls) <= MAX_PROBES + len(keys) // PAGE + 8, "the search must end"
    return tail.answer, listing


def ids(times_ns: list[int]) -> list[str]:
    return [f"{ns:016x}-0000" for ns in times_ns]


def burst(count: int, end: int, duration: int) -> list[int]:
    """``count`` instants evenly spread over ``duration`` ns, the last at ``end``."""
    return [end - duration + (i + 1) * duration // count for i in range(count)]


# -- examples ----------------------------------------------------------------------------

def test_the_first_probe_is_a_page_after_an_hour_ago() -> None:
    probe = TailSearch(NOW).next_probe()
    assert (probe.kind, probe.after, probe.limit) == (
        "window", f"{NOW - HOUR:016x}-0000", PAGE)


def test_an_empty_last_hour_is_followed_by_the_thread_s_start() -> None:
    tail = TailSearch(NOW)
    tail.observe(tail.next_probe(), KeyPage([], None))
    probe = tail.next_probe()
    assert (probe.kind, probe.after, probe.limit) == ("start", None, PAGE)


def test_nothing_from_the_start_means_no_checkpoint() -> None:
    answer, listing = search([])
    assert answer is None
    assert len(listing.calls) == 2


def test_a_page_that_is_not_truncated_answers() -> None:
    keys = ids(burst(1000, NOW - MINUTE, 10 * MINUTE))
    answer, listing = search(keys)
    assert answer == keys[-1]
    assert len(listing.calls) == 1


def test_a_thread_still_being_written_is_probed_a_quarter_page_before_now() -> None:
    keys = ids(burst(3000, NOW, 3000 * SECOND // 10))  # 10 a second, up to now
    answer, listing = search(keys)
    assert answer == keys[-1]
    assert [probe.kind for probe, _ in listing.calls] == ["window", "top"]
    assert listing.calls[1][1] == 250


def test_a_burst_that_ended_long_ago_is_split_with_small_probes() -> None:
    keys = ids(burst(10_000, NOW - 20 * MINUTE, SECOND))
    answer, listing = search(keys)
    assert answer == keys[-1]
    kinds = [probe.kind for probe, _ in listing.calls]
    assert kinds[0] == "window"
    assert "split" in kinds
    assert "top" not in kinds
    assert all(probe.limit == SPLIT_LIMIT for probe, _ in listing.calls if probe.kind == "split")
    assert len(listing.calls) <= 5


def test_keys_in_another_format_are_read_on_page_by_page() -> None:
    keys = [f"step-{i:05d}" for i in range(2500)]
    answer, listing = search(keys)
    assert answer == "step-02499"
    assert [probe.kind for probe, _ in listing.calls] == ["window", "read_on", "read_on"]


def test_a_finished_search_refuses_another_probe() -> None:
    tail = TailSearch(NOW)
    tail.observe(tail.next_probe(), KeyPage(["x"], None))
    assert tail.done
    assert tail.answer == "x"
    with pytest.raises(ValueError, match="over"):
        tail.next_probe()


def test_coverage_doubles_plus_one_probe_s_window() -> None:
    fraction = SPLIT_LIMIT / PAGE
    assert coverage(1) == 1
    for probes in range(2, 8):
        assert coverage(probes) == pytest.approx(2 * coverage(probes - 1) + fraction)


def test_the_design_burst_needs_four_probes_after_its_first_page() -> None:
    assert probes_needed(DESIGN_PAGES * DESIGN_MARGIN) == 4


def test_a_writer_with_a_clock_ahead_is_still_the_latest() -> None:
    keys = ids(burst(1500, NOW - MINUTE, MINUTE)) + ids([NOW + 3 * HOUR])
    answer, _ = search(keys)
    assert answer == keys[-1]


# -- properties: always the greatest key -------------------------------------------------

_AGES = st.sampled_from([0, SECOND, MINUTE, HOUR - SECOND, HOUR + SECOND, DAY, 40 * DAY,
                         400 * DAY, 20 * 366 * DAY, -2 * HOUR])  # negative: a clock ahead


@st.composite
def histories(draw: st.DrawFn) -> list[str]:
    """Bursts at various ages and densities, single keys, gaps, and ids in other formats."""
    keys: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        count = draw(st.sampled_from([1, 2, 999, 1000, 1001, 1500, 3000]))
        duration = draw(st.sampled_from([0, 1000, SECOND, 10 * MINUTE, 2 * HOUR]))
        end = NOW - draw(_AGES) - draw(st.integers(0, 10 * MINUTE))
        if duration == 0:  # one nanosecond, told apart by the counter
            keys += [f"{end:016x}-{i:04x}" for i in range(count)]
        else:
            keys += ids(burst(count, end, max(duration, count)))
    keys += draw(st.lists(st.sampled_from(
        ["step-1", "step-2", "a", "0", "zzz", "18a1b2c3d4e5f6a7-0001x", "ffffffffffffffff-ffff",
         "0000000000000000-0000"]), max_size=3))
    return keys


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_answer_is_always_the_greatest_key(keys: list[str]) -> None:
    answer, listing = search(keys)
    assert answer == listing.greatest


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 80) - 1), max_size=3000), st.integers(0, 1 << 64))
def test_the_answer_is_the_greatest_of_any_generated_ids_whatever_now_is(
    positions: list[int], now: int
) -> None:
    keys = [f"{p >> 16:016x}-{p & 0xFFFF:04x}" for p in positions]
    answer, listing = search(keys, now)
    assert answer == listing.greatest


# -- properties: what it costs ------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(count=st.integers(1, 1000), duration=st.integers(1, 59 * MINUTE),
       age=st.integers(0, 59 * MINUTE), history=st.integers(0, 5000))
def test_at_most_a_page_in_the_last_hour_is_one_listing(
    count: int, duration: int, age: int, history: int
) -> None:
    duration = min(duration, HOUR - age - SECOND)
    old = burst(history, NOW - 2 * HOUR, 30 * DAY)
    keys = ids(old + burst(count, NOW - age, max(duration, count)))
    answer, listing = search(keys)
    assert answer == listing.greatest
    assert len(listing.calls) == 1


@settings(max_examples=300, deadline=None)
@given(count=st.integers(1001, 10_000),
       duration=st.sampled_from([10_000, 10**6, SECOND, MINUTE, 10 * MINUTE, 30 * MINUTE]),
       age=st.sampled_from([0, SECOND, MINUTE, 10 * MINUTE, 25 * MINUTE]),
       history=st.sampled_from([0, 1, 5000]))
def test_a_burst_of_up_to_ten_thousand_in_the_last_hour_is_at_most_five_listings(
    count: int, duration: int, age: int, history: int
) -> None:
    old = burst(history, NOW - 2 * HOUR, 30 * DAY)
    keys = ids(old + burst(count, NOW - age, max(duration, count)))
    answer, listing = search(keys)
    assert answer == listing.greatest
    assert len(listing.calls) <= 5


@pytest.mark.parametrize("gap", [SECOND, 10 * SECOND])
def test_bursts_seconds_apart_are_placed_by_the_newest_keys_rate(gap: int) -> None:
    """The peers benchmark's thread: 100, 900, then 9,000 checkpoints in three bursts
    ``gap`` apart. Its first page spans two bursts; the rate of the page's newest keys,
    not the pause between bursts, places the probes (it took 11-14 listings before)."""
    ms = SECOND // 1000
    keys = ids(burst(100, NOW - 3 * gap, 5 * ms) + burst(900, NOW - 2 * gap, 40 * ms)
               + burst(9000, NOW - gap, 400 * ms))
    answer, listing = search(keys)
    assert answer == listing.greatest
    assert len(listing.calls) <= 6


def test_two_bursts_minutes_apart_cost_more_than_one() -> None:
    """A known weakness (docs/checkpoints.md): the rate of the first burst places the
    probes, the second burst lies far beyond them, so the search reads on."""
    ms = SECOND // 1000
    keys = ids(burst(1000, NOW - 10 * MINUTE, 10 * ms) + burst(5000, NOW - 5 * MINUTE, 10 * ms))
    answer, listing = search(keys)
    assert answer == listing.greatest
    assert len(listing.calls) <= 7


@settings(max_examples=100, deadline=None)
@given(count=st.integers(1001, 6000), rate=st.sampled_from([1, 2, 10, 100]))
def test_a_thread_begun_in_the_last_hour_and_still_written_is_two_listings(
    count: int, rate: int
) -> None:
    keys = ids(burst(count, NOW - SECOND // rate // 2, count * SECOND // rate))
    answer, listing = search(keys)
    assert answer == listing.greatest
    assert len(listing.calls) == 2


@settings(max_examples=20, deadline=None)
@given(rate=st.sampled_from([2, 5, 10]), minutes=st.integers(61, 70))
def test_a_thread_written_steadily_since_before_the_hour_is_two_listings(
    rate: int, minutes: int
) -> None:
    count = rate * minutes * 60
    keys = ids(burst(count, NOW - SECOND // rate // 2, count * SECOND // rate))
    answer, listing = search(keys)
    assert answer == listing.greatest
    assert len(listing.calls) == 2


def test_the_search_is_not_slowed_by_a_real_clock() -> None:
    """The same history, searched at the real time, costs what it costs at NOW."""
    now = time.time_ns()
    keys = ids(burst(3000, now - MINUTE, SECOND))
    answer, listing = search(keys, now)
    assert answer == keys[-1]
    assert len(listing.calls) <= 5


def test_every_test_docs_checkpoints_md_names_exists() -> None:
    root = Path(__file__).resolve().parents[2]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)", (root / "docs/checkpoints.md").read_text())
    assert len(named) >= 8
    for path, name in named:
        assert f"def {name}(" in (root / path).read_text(), f"{path}::{name}"


# -- the writer's hint ----------------------------------------------------------------------

def hint_behind(keys: list[str], behind: int) -> str:
    """The hint a writer leaves ``behind`` checkpoints before the newest."""
    return sorted(keys, key=path_order)[-1 - behind]


def test_a_thread_answered_by_its_first_listing_never_reads_the_hint() -> None:
    keys = ids(burst(1000, NOW - MINUTE, 10 * MINUTE))
    run = Search(keys, hint=hint_behind(keys, 5))
    assert run.answer == keys[-1]
    assert (run.hint_reads, run.kinds) == (0, ["window"])


def test_an_empty_thread_never_reads_the_hint() -> None:
    run = Search([], hint="0000000000000001-0000")
    assert run.answer is None
    assert (run.hint_reads, run.kinds) == (0, ["window", "start"])


@settings(max_examples=200, deadline=None)
@given(count=st.integers(1001, 10_000),
       duration=st.sampled_from([10_000, 10**6, SECOND, MINUTE, 10 * MINUTE, 30 * MINUTE]),
       age=st.sampled_from([0, SECOND, MINUTE, 10 * MINUTE, 25 * MINUTE]),
       history=st.sampled_from([0, 5000]), behind=st.integers(0, HINT_EVERY - 1))
def test_a_burst_with_a_writer_s_hint_is_two_listings(
    count: int, duration: int, age: int, history: int, behind: int
) -> None:
    old = burst(history, NOW - 2 * HOUR, 30 * DAY)
    keys = ids(old + burst(count, NOW - age, max(duration, count)))
    run = Search(keys, hint=hint_behind(keys, behind))
    assert run.answer == run.listing.greatest
    assert run.hint_reads == 1
    assert run.kinds == ["window", "hint"]


@settings(max_examples=100, deadline=None)
@given(first=st.integers(1, 3000), second=st.integers(1, 10_000),
       apart=st.sampled_from([SECOND, MINUTE, 5 * MINUTE, 20 * MINUTE]),
       behind=st.integers(0, HINT_EVERY - 1))
def test_several_bursts_with_a_writer_s_hint_are_two_listings(
    first: int, second: int, apart: int, behind: int
) -> None:
    """The shape the search alone handles worst (two bursts minutes apart, 7 listings)."""
    ms = SECOND // 1000
    keys = ids(burst(first, NOW - 30 * MINUTE - apart, 10 * ms)
               + burst(second, NOW - 30 * MINUTE, 10 * ms))
    if len(keys) <= PAGE:
        return  # one listing answers: no hint needed
    run = Search(keys, hint=hint_behind(keys, behind))
    assert run.answer == run.listing.greatest
    assert run.kinds == ["window", "hint"]


def test_an_old_thread_with_a_hint_is_three_listings() -> None:
    keys = ids(burst(50_000, NOW - 40 * DAY, 30 * DAY))
    run = Search(keys, hint=hint_behind(keys, 40))
    assert run.answer == keys[-1]
    assert run.kinds == ["window", "start", "hint"]


def test_a_hint_naming_a_deleted_newest_checkpoint_costs_one_listing_more() -> None:
    """The hinted id was pruned or its writer's put failed: the listing from just
    below it is empty, which bounds the search instead of answering it."""
    keys = ids(burst(5000, NOW - 5 * MINUTE, MINUTE))
    ahead = f"{NOW - MINUTE:016x}-0000"  # after every key
    run = Search(keys, hint=ahead)
    assert run.answer == keys[-1]
    assert run.kinds[:2] == ["window", "hint"]
    assert run.listing.calls[1][1] == 0
    assert len(run.kinds) <= 6


def test_a_stale_hint_older_than_the_page_read_is_not_used() -> None:
    old = ids(burst(2000, NOW - 2 * HOUR, DAY))
    keys = old + ids(burst(5000, NOW - 5 * MINUTE, MINUTE))
    run = Search(keys, hint=old[-1])  # before the last hour's first page
    assert run.answer == keys[-1]
    assert "hint" not in run.kinds
    assert run.kinds == [probe.kind for probe, _ in search(keys)[1].calls]


def test_a_hint_inside_the_first_page_reads_on_after_it() -> None:
    """1,001 checkpoints, the hint 99 behind: within the first page, so the next
    listing reads on from that page's last key and finds the one left."""
    keys = ids(burst(1001, NOW - 5 * MINUTE, SECOND))
    run = Search(keys, hint=hint_behind(keys, HINT_EVERY - 1))
    assert run.answer == keys[-1]
    assert run.kinds == ["window", "hint"]
    assert run.listing.calls[1][0].after == keys[999]


def test_a_hint_far_behind_is_stale_but_harmless() -> None:
    keys = ids(burst(8000, NOW - 5 * MINUTE, MINUTE))
    run = Search(keys, hint=hint_behind(keys, 3000))  # other writers went on since
    assert run.answer == keys[-1]
    assert run.kinds[:2] == ["window", "hint"]
    assert run.listing.calls[1][1] == PAGE  # truncated: the search goes on from there


@settings(max_examples=300, deadline=None)
@given(keys=histories(), hint=st.one_of(
    st.none(), st.sampled_from(["not-an-id", "0000000000000000-0000", "ffffffffffffffff-ffff"]),
    st.integers(0, (1 << 80) - 1).map(lambda p: f"{p >> 16:016x}-{p & 0xFFFF:04x}")),
    pick=st.integers(0, 10_000))
def test_whatever_the_hint_names_the_answer_is_the_greatest_key(
    keys: list[str], hint: str | None, pick: int
) -> None:
    """Stale, ahead, deleted, malformed or one of the keys: never the answer unless a
    listing returned it."""
    if keys and pick % 3 == 0:
        hint = sorted(keys, key=path_order)[pick % len(keys)]
    run = Search(keys, hint=hint)
    assert run.answer == run.listing.greatest
    assert run.hint_reads <= 1
