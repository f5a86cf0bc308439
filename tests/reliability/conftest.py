"""Fixtures for the reliability suite: S3 endpoints behind a :class:`FaultProxy`.

Every test gets a fresh key prefix, a store that talks to the endpoint THROUGH the
proxy (the library under test) and one that talks to it directly (the truth, used
to set up state and to read what is really stored). Helpers the test modules import
live in :mod:`tests.reliability.helpers`; this module holds fixtures only.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.retries import standard

from synaptic_s3 import S3Store
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import FaultProxy
from tests.reliability.helpers import ENDPOINTS, MAX_ATTEMPTS, make_store


@pytest.fixture(params=ENDPOINTS)
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    return request.getfixturevalue(f"{request.param}_endpoint")  # type: ignore[no-any-return]


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """A per-test seed derived from the test's id: reproducible, different per test."""
    return zlib.crc32(request.node.nodeid.encode())


@pytest.fixture
async def proxy(endpoint: Endpoint, seed: int) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(endpoint.url, seed=seed) as running:
        yield running


@pytest.fixture
def prefix() -> str:
    return f"rel-{uuid.uuid4().hex}"


@pytest.fixture
async def direct(endpoint: Endpoint, prefix: str) -> AsyncIterator[S3Store]:
    """The store without faults: sets up state and reads what is really stored."""
    async with make_store(endpoint, prefix) as store:
        yield store


@pytest.fixture
async def faulty(
    endpoint: Endpoint, prefix: str, proxy: FaultProxy, quick_backoff: None
) -> AsyncIterator[S3Store]:
    """The store under test: same prefix, every request through the proxy."""
    async with make_store(endpoint, prefix, url=proxy.url,
                          max_attempts=MAX_ATTEMPTS) as store:
        yield store


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard backoff, scaled down 100x (jitter and exponential growth
    kept): the fault tests check what retries achieve, not how long they wait. (The
    load test keeps the real backoff.)"""
    original = standard.ExponentialBackoff.delay_amount

    def scaled(self: standard.ExponentialBackoff, context: Any) -> float:
        return float(original(self, context)) / 100

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", scaled)
