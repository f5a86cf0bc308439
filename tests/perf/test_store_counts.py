"""Requests per Store capability that the session layer builds on (copy for forks,
iter_entries for retention and the orphan sweeper), counted on the wire."""

from __future__ import annotations

import math

import pytest

from synaptic_s3 import S3Store
from tests.perf.conftest import Seed, WireCounter

pytestmark = pytest.mark.s3


@pytest.mark.parametrize("count", [0, 999, 1000, 1001, 2500])
async def test_iter_entries_is_one_listing_per_thousand_items_and_no_reads(
    store: S3Store, seed: Seed, wire: WireCounter, count: int
) -> None:
    seed((f"memory/s{i % 7}/k{i:05d}.json", b"{}") for i in range(count))

    entries = [entry async for page in store.iter_entries(("memory",)) for entry in page]

    assert len(entries) == count
    assert wire.calls == {"ListObjectsV2": max(1, math.ceil(count / 1000))}


async def test_copy_is_one_server_side_copy(store: S3Store, wire: WireCounter) -> None:
    await store.put(("memory", "a"), "messages", ["x"] * 1000)
    wire.reset()

    await store.copy(("memory", "a"), "messages", ("memory", "b"), "messages")

    assert wire.calls == {"CopyObject": 1}


async def test_copy_if_absent_is_a_read_and_one_conditional_put(
    store: S3Store, wire: WireCounter
) -> None:
    await store.put(("memory", "a"), "messages", ["x"])
    wire.reset()

    await store.copy(("memory", "a"), "messages", ("memory", "b"), "messages", if_absent=True)

    assert wire.calls == {"GetObject": 1, "PutObject": 1}
    assert wire.conditional_puts == 1
