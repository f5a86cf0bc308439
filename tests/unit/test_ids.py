"""Time-ordered ids: UUIDv7 sessions and the Rust crate's checkpoint ids."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from synaptic_s3.ids import (
    checkpoint_id_at,
    checkpoint_id_at_position,
    checkpoint_id_from,
    checkpoint_id_ns,
    checkpoint_id_position,
    iso_utc,
    new_checkpoint_id,
    uuid7,
    uuid7_datetime,
    uuid7_from,
)


def test_uuid7_has_version_7_and_the_rfc_variant() -> None:
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7s_are_strictly_increasing_even_within_a_millisecond() -> None:
    ids = [str(uuid7()) for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_uuid7_carries_its_creation_time() -> None:
    created = uuid7_datetime(str(uuid7()))
    assert created is not None
    assert abs(datetime.now(UTC) - created) < timedelta(seconds=5)


def test_other_uuids_carry_no_creation_time() -> None:
    assert uuid7_datetime(str(uuid.uuid4())) is None
    assert uuid7_datetime("not-a-uuid") is None


def test_iso_utc_has_milliseconds_and_z() -> None:
    moment = datetime(2026, 11, 24, 2, 15, 30, 123456, tzinfo=UTC)
    assert iso_utc(moment) == "2026-11-24T02:15:30.123Z"


def test_checkpoint_ids_are_strictly_increasing_and_fixed_width() -> None:
    ids = [new_checkpoint_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {len(i) for i in ids} == {21}


def test_a_checkpoint_id_carries_its_nanoseconds() -> None:
    assert checkpoint_id_ns("18a1b2c3d4e5f6a7-0001") == 0x18A1B2C3D4E5F6A7
    assert checkpoint_id_ns("step-1") is None
    assert checkpoint_id_at(0x18A1B2C3D4E5F6A7) == "18a1b2c3d4e5f6a7-0000"


def test_a_checkpoint_id_position_is_its_nanoseconds_then_its_counter() -> None:
    assert checkpoint_id_position("18a1b2c3d4e5f6a7-0001") == 0x18A1B2C3D4E5F6A7 << 16 | 1
    assert checkpoint_id_position("step-1") is None
    assert checkpoint_id_at_position(0x18A1B2C3D4E5F6A7 << 16 | 1) == "18a1b2c3d4e5f6a7-0001"


def test_positions_outside_the_format_are_clamped() -> None:
    assert checkpoint_id_at_position(-5) == "0000000000000000-0000"
    assert checkpoint_id_at_position(1 << 90) == "ffffffffffffffff-ffff"


def test_position_order_is_key_order() -> None:
    ids = [new_checkpoint_id() for _ in range(1000)]
    positions = [checkpoint_id_position(i) for i in ids]
    assert positions == sorted(positions)  # type: ignore[type-var]


MS = 1_700_000_000_123


def test_uuid7_from_has_version_7_and_the_rfc_variant() -> None:
    value = uuid7_from(MS, b"seed")
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7_from_carries_the_given_millisecond() -> None:
    created = uuid7_datetime(str(uuid7_from(MS, b"seed")))
    assert created == datetime.fromtimestamp(MS / 1000, tz=UTC)


def test_uuid7_from_is_deterministic() -> None:
    assert uuid7_from(MS, b"seed") == uuid7_from(MS, b"seed")


def test_uuid7_from_differs_by_seed() -> None:
    assert uuid7_from(MS, b"one") != uuid7_from(MS, b"two")


def test_uuid7_from_sorts_by_time_whatever_the_seed() -> None:
    ids = [str(uuid7_from(MS + step, bytes([255 - step]))) for step in range(50)]
    assert ids == sorted(ids)


def test_checkpoint_id_from_is_in_the_generated_format_at_that_millisecond() -> None:
    checkpoint_id = checkpoint_id_from(MS, b"seed")
    ns = checkpoint_id_ns(checkpoint_id)
    assert ns is not None
    assert ns // 1_000_000 == MS


def test_checkpoint_id_from_is_deterministic() -> None:
    assert checkpoint_id_from(MS, b"seed") == checkpoint_id_from(MS, b"seed")


def test_checkpoint_id_from_differs_by_seed() -> None:
    assert checkpoint_id_from(MS, b"one") != checkpoint_id_from(MS, b"two")


def test_checkpoint_id_from_sorts_by_time_whatever_the_seed() -> None:
    ids = [checkpoint_id_from(MS + step, bytes([255 - step])) for step in range(50)]
    assert ids == sorted(ids)


def test_a_checkpoint_id_after_a_future_id_sorts_after_it() -> None:
    future = f"{time.time_ns() + 2 * 3600 * 10**9:016x}-0007"
    assert new_checkpoint_id(after=future) > future


def test_a_checkpoint_id_after_a_full_counter_moves_to_the_next_nanosecond() -> None:
    future = f"{time.time_ns() + 30 * 24 * 3600 * 10**9:016x}-ffff"  # past any earlier floor
    minted = new_checkpoint_id(after=future)
    assert minted > future
    assert minted.endswith("-0000")


def test_a_checkpoint_id_after_a_foreign_id_is_just_a_new_id() -> None:
    assert re.match(r"^[0-9a-f]{16}-[0-9a-f]{4}$", new_checkpoint_id(after="not-generated"))
