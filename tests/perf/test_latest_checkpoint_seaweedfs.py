"""The latest-checkpoint request counts again on SeaweedFS, a second S3 implementation.

The search relies on ListObjectsV2's ``StartAfter`` and on its truncation flag
(a page with exactly the keys that remain is not truncated); moto and SeaweedFS
implement both independently, so the counts pinned on moto in
``test_request_counts.py`` are checked here on the shapes that need several probes.
Seeding uses unsigned HTTP PUTs (the test server runs without authentication):
set-up, not what is counted."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from synaptic_s3 import CheckpointConfig, S3Store, StoreCheckpointer
from synaptic_s3.checkpoint_hint import HINT_EVERY
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET
from tests.perf.conftest import WireCounter

pytestmark = [pytest.mark.s3, pytest.mark.slow]  # seeding ~15,000 objects takes a minute

SECOND_NS = 10**9
DAY_NS = 24 * 3600 * SECOND_NS


def _burst(count: int, end_ns: int, duration_ns: int) -> list[int]:
    return [end_ns - duration_ns + (i + 1) * duration_ns // count for i in range(count)]


@pytest.fixture
async def weed_store(
    seaweedfs_endpoint: Endpoint, wire: WireCounter
) -> AsyncIterator[S3Store]:
    async with S3Store(BUCKET, prefix=f"perf-{uuid.uuid4().hex[:12]}",
                       **seaweedfs_endpoint.boto3_kwargs()) as opened:
        opened.register_event_handler("before-send.s3", wire)
        yield opened


async def _seed(endpoint: Endpoint, store: S3Store, thread: str, stamps: list[int]) -> None:
    semaphore = asyncio.Semaphore(16)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as http:

        async def put(stamp: int) -> None:
            checkpoint_id = f"{stamp:016x}-0000"
            key = f"{store.prefix}checkpoints/{thread}/{checkpoint_id}.json"
            body = json.dumps({"id": checkpoint_id, "state": {}}).encode()
            async with semaphore, http.put(f"{endpoint.url}/{BUCKET}/{key}", data=body) as reply:
                assert reply.status == 200, await reply.text()

        await asyncio.gather(*(put(stamp) for stamp in stamps))


@pytest.mark.parametrize(("count", "duration"), [
    (1000, 1_000_000),  # exactly a page: not truncated, one listing
    (1001, 1_000_000),
    (10_000, 1_000_000),
])
async def test_latest_of_a_burst_on_seaweedfs(
    seaweedfs_endpoint: Endpoint, weed_store: S3Store, wire: WireCounter,
    count: int, duration: int,
) -> None:
    stamps = _burst(count, time.time_ns() - 300 * SECOND_NS, duration)
    await _seed(seaweedfs_endpoint, weed_store, "burst", stamps)
    wire.reset()

    latest = await StoreCheckpointer(weed_store).get(CheckpointConfig("burst"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    assert wire.calls["GetObject"] == (1 if count <= 1000 else 2)  # and the hint: none here
    assert wire.calls["ListObjectsV2"] <= (1 if count <= 1000 else 5)


async def test_latest_of_a_hinted_burst_on_seaweedfs(
    seaweedfs_endpoint: Endpoint, weed_store: S3Store, wire: WireCounter
) -> None:
    stamps = _burst(3000, time.time_ns() - 300 * SECOND_NS, 60 * SECOND_NS)
    await _seed(seaweedfs_endpoint, weed_store, "burst", stamps)
    await weed_store.put(("memory", "burst"), "latest_checkpoint",
                         {"checkpoint_id": f"{stamps[-HINT_EVERY]:016x}-0000"})
    wire.reset()

    latest = await StoreCheckpointer(weed_store).get(CheckpointConfig("burst"))

    assert latest is not None
    assert latest.id == f"{max(stamps):016x}-0000"
    assert wire.calls == {"ListObjectsV2": 2, "GetObject": 2}


async def test_latest_of_a_long_thread_with_a_recent_burst_on_seaweedfs(
    seaweedfs_endpoint: Endpoint, weed_store: S3Store, wire: WireCounter
) -> None:
    now = time.time_ns()
    recent = _burst(2000, now - 120 * SECOND_NS, 30 * SECOND_NS)
    await _seed(seaweedfs_endpoint, weed_store, "long",
                _burst(2000, now - 7200 * SECOND_NS, 90 * DAY_NS) + recent)
    wire.reset()

    latest = await StoreCheckpointer(weed_store).get(CheckpointConfig("long"))

    assert latest is not None
    assert latest.id == f"{max(recent):016x}-0000"
    assert wire.calls["ListObjectsV2"] <= 5
