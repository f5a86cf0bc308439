"""The pure rules of the segmented message log: names, the tail marker, the seal rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synaptic_s3.segments import (
    SegmentName,
    TailMarker,
    message_size,
    new_epoch,
    seal_cuts,
    seal_length,
)

EPOCH = "0123456789abcdef"


def test_segment_keys_sort_in_position_order() -> None:
    names = [SegmentName(EPOCH, start, start + 7) for start in (0, 7, 14, 1_000_000, 99)]
    assert sorted(n.key for n in names) == [n.key for n in sorted(names)]


def test_segment_key_round_trips() -> None:
    name = SegmentName(EPOCH, 12, 345)
    assert name.key == f"{EPOCH}-000000000012-000000000345"
    assert SegmentName.parse(name.key) == name


@pytest.mark.parametrize("key", [
    "messages", f"{EPOCH}-000000000005-000000000005", f"{EPOCH}-000000000006-000000000005",
    f"{EPOCH.upper()}-000000000000-000000000005", f"{EPOCH}-0-5", f"x{EPOCH}-000000000000-1",
])
def test_other_keys_are_not_segments(key: str) -> None:
    assert SegmentName.parse(key) is None


def test_marker_round_trips_and_names_the_newest_segment() -> None:
    marker = TailMarker(EPOCH, 30, 20)
    assert TailMarker.parse(marker.to_json()) == marker
    assert marker.newest_segment == SegmentName(EPOCH, 20, 30)


@pytest.mark.parametrize("value", [
    None, "x", {"epoch": EPOCH, "start": 5}, {"epoch": "short", "start": 5, "prev": 0},
    {"epoch": EPOCH, "start": 5, "prev": 5}, {"epoch": EPOCH, "start": 0, "prev": 0},
    {"epoch": EPOCH, "start": True, "prev": 0}, {"epoch": EPOCH, "start": 5, "prev": -1},
    {"epoch": EPOCH, "start": "5", "prev": 0},
])
def test_malformed_markers_are_refused(value: object) -> None:
    assert TailMarker.parse(value) is None


def test_epochs_are_16_hex_digits_and_fresh() -> None:
    epochs = {new_epoch() for _ in range(100)}
    assert len(epochs) == 100
    assert all(len(e) == 16 and int(e, 16) >= 0 for e in epochs)


def test_message_size_is_the_compact_utf8_json() -> None:
    assert message_size({"role": "human", "content": "é"}) == len(
        '{"role":"human","content":"é"}'.encode())


def test_no_seal_without_a_budget() -> None:
    assert seal_length([10**9], 10**9, None) == 0


def test_no_seal_while_tail_and_new_fit() -> None:
    assert seal_length([30, 30], 40, 100) == 0  # exactly the budget


def test_seal_one_byte_past_the_budget() -> None:
    assert seal_length([30, 30], 41, 100) == 2  # shortest prefix of >= 50 bytes


def test_no_seal_while_the_tail_is_under_half_the_budget() -> None:
    assert seal_length([10, 10], 1000, 100) == 0


def test_a_message_larger_than_the_budget_is_sealed_on_its_own() -> None:
    assert seal_length([500], 10, 100) == 1


def test_seal_of_a_budget_of_one_byte_takes_the_first_message() -> None:
    assert seal_length([5, 5], 5, 1) == 1


@given(st.lists(st.integers(1, 60), min_size=1, max_size=30), st.integers(1, 200),
       st.integers(1, 60), st.integers(1, 60))
def test_the_sealed_prefix_does_not_depend_on_what_comes_later(
    sizes: list[int], budget: int, extra: int, new: int
) -> None:
    """Determinism: a writer that read a longer tail (same start) seals the same
    prefix, whenever both decide to seal."""
    first = seal_length(sizes, new, budget)
    later = seal_length([*sizes, extra], new, budget)
    if first and later:
        assert first == later


@given(st.lists(st.integers(1, 60), min_size=1, max_size=30), st.integers(2, 200),
       st.integers(1, 60))
def test_after_a_seal_the_rest_of_the_tail_is_under_half_the_budget(
    sizes: list[int], budget: int, new: int
) -> None:
    sealed = seal_length(sizes, new, budget)
    if sealed and sum(sizes) <= budget:
        assert sum(sizes[sealed:]) <= budget // 2 + 1


def test_messages_before_an_oversized_one_are_sealed_without_it() -> None:
    assert seal_length([75, 75, 75, 1800], 75, 600) == 3


def test_seal_cuts_seal_an_oversized_message_on_its_own_in_the_same_append() -> None:
    assert seal_cuts([75, 75, 75, 1800], 75, 600) == [3, 4]


def test_seal_cuts_are_empty_while_the_tail_fits() -> None:
    assert seal_cuts([75, 75], 75, 600) == []


def test_seal_cuts_make_one_seal_in_the_usual_case() -> None:
    assert seal_cuts([100] * 6, 100, 600) == [3]
