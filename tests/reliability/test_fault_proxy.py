"""The FaultProxy itself: it targets exactly the requests it is told to, is
reproducible for a seed, and records what it saw (the other tests rely on it)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from synaptic_s3 import S3Store, StorageUnavailableError
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault, FaultProxy, classify
from tests.reliability.helpers import make_store

pytestmark = [pytest.mark.s3]


@pytest.fixture
def endpoint(seaweedfs_endpoint: Endpoint) -> Endpoint:
    return seaweedfs_endpoint


def test_requests_are_classified_as_s3_operations() -> None:
    assert classify("PUT", "/b/p/k.json") == "PutObject"
    assert classify("GET", "/b/p/k.json") == "GetObject"
    assert classify("DELETE", "/b/p/k.json") == "DeleteObject"
    assert classify("POST", "/b?delete") == "DeleteObjects"
    assert classify("GET", "/b?list-type=2&prefix=p%2F") == "ListObjectsV2"
    assert classify("HEAD", "/b") == "HeadBucket"


async def test_the_kth_request_of_an_operation_is_the_one_faulted(
    faulty: S3Store, proxy: FaultProxy
) -> None:
    proxy.inject(Fault.error(500), operation="PutObject", nth=3)
    for i in range(4):
        await faulty.put(("ns",), f"k{i}", i)
    puts = [(e.key.rsplit("/", 1)[1], e.fault) for e in proxy.exchanges]
    assert puts == [("k0.json", None), ("k1.json", None), ("k2.json", "500 InternalError"),
                    ("k2.json", None), ("k3.json", None)]


async def test_times_bounds_how_often_a_rule_fires(faulty: S3Store, proxy: FaultProxy) -> None:
    rule = proxy.inject(Fault.slow_down(), operation="GetObject", times=2)
    assert await faulty.get(("ns",), "missing") is None
    assert rule.applied == 2
    assert [e.status for e in proxy.exchanges] == [503, 503, 404]


async def test_a_seeded_rate_is_reproducible(endpoint: Endpoint, prefix: str) -> None:
    async def run(seed: int) -> list[str | None]:
        async with FaultProxy(endpoint.url, seed=seed) as proxy, \
                make_store(endpoint, prefix, url=proxy.url, max_attempts=1) as store:
            proxy.inject(Fault.error(500), rate=0.3, times=None)
            for i in range(20):
                with contextlib.suppress(StorageUnavailableError):
                    await store.get(("ns",), f"k{i}")
            return [e.fault for e in proxy.exchanges]

    first, again, other = await run(7), await run(7), await run(8)
    assert first == again
    assert first != other
    assert 0 < sum(f is not None for f in first) < 20


async def test_a_lost_answer_is_applied_upstream(
    faulty: S3Store, direct: S3Store, proxy: FaultProxy
) -> None:
    proxy.inject(Fault.lose_answer("drop"), operation="PutObject", times=None)
    with pytest.raises(StorageUnavailableError):
        await faulty.put(("ns",), "k", "applied")
    item = await direct.get(("ns",), "k")
    assert item is not None
    assert item.value == "applied"
    assert all(e.forwarded and e.status is None for e in proxy.exchanges)


async def test_a_held_request_is_signalled_and_never_applied(
    faulty: S3Store, direct: S3Store, proxy: FaultProxy
) -> None:
    proxy.inject(Fault.hold(), operation="PutObject")
    writing = asyncio.create_task(faulty.put(("ns",), "k", 1))
    held = await proxy.wait_held()
    assert held.operation == "PutObject"
    assert not held.forwarded
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    proxy.release_held()
    await proxy.idle()
    assert await direct.get(("ns",), "k") is None
