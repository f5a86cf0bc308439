"""Fixtures for the reliability suite: S3 endpoints behind a :class:`FaultProxy`.

Every test gets a fresh key prefix, a store that talks to the endpoint THROUGH the
proxy (the library under test) and one that talks to it directly (the truth, used
to set up state and to read what is really stored).
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aioboto3
import pytest
from botocore.retries import standard

from synaptic_s3 import S3Store
from synaptic_s3.core.store import encode_value
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import FaultProxy
from tests.conftest import BUCKET

ENDPOINTS = ("moto", "seaweedfs")
MAX_ATTEMPTS = 3
"""botocore attempts per request in the fault tests (the library's default is 5):
fewer attempts keep the "fault on every attempt" cases short; the bound is what
is tested, not its value."""

_SESSIONS: dict[tuple[str, str], aioboto3.Session] = {}


def boto_session(endpoint: Endpoint) -> aioboto3.Session:
    """One aioboto3 session per endpoint: its loader caches the S3 service model, so
    the many short-lived stores of this suite do not each parse it again."""
    creds = endpoint.credentials
    cache_key = (creds["aws_access_key_id"], creds["aws_secret_access_key"])
    if cache_key not in _SESSIONS:
        _SESSIONS[cache_key] = aioboto3.Session(**creds)
    return _SESSIONS[cache_key]


def make_store(endpoint: Endpoint, prefix: str, *, url: str | None = None,
               **options: Any) -> S3Store:
    """An S3Store on ``endpoint`` (or on ``url``, a proxy in front of it)."""
    return S3Store(BUCKET, prefix=prefix, endpoint_url=url or endpoint.url,
                   region_name=endpoint.region, session=boto_session(endpoint), **options)


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


def etag(value: Any) -> str:
    """The ETag S3 gives the object S3Store writes for ``value``: the MD5 of its
    canonical JSON body (single-part PUT), quoted."""
    body = encode_value(value, ("x",), "x")
    return f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'


def digest(state: dict[str, Any]) -> dict[str, str]:
    """A snapshot of expected values in the form :func:`snapshot` returns."""
    return {key: etag(value) for key, value in state.items()}


async def snapshot(store: S3Store) -> dict[str, str]:
    """Every object under the store's prefix: key (without prefix) -> ETag. One
    listing: the bodies' MD5s say whether each object holds exactly what it should."""
    client = await store.client()
    found: dict[str, str] = {}
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=store.bucket, Prefix=store.prefix):
        for entry in page.get("Contents", ()):
            found[entry["Key"].removeprefix(store.prefix)] = entry["ETag"]
    return found
