"""Fixtures for request-count tests: one moto server for the whole session, a fresh key
prefix per test, and a counter of the requests each test's store puts on the wire.

Counting uses botocore's ``before-send.s3`` event (one call per HTTP attempt,
retries included) on the store's own client, so what is asserted is exactly what
S3 would bill. Nothing here measures time.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import pytest

from synaptic_s3 import S3Store, SessionManager
from synaptic_s3.testing import Endpoint, create_bucket, moto_server

logging.getLogger("werkzeug").setLevel(logging.ERROR)


class WireCounter:
    """Requests per S3 operation (``{"GetObject": 1, "PutObject": 2}``), plus how many
    PUTs carried a condition, since a 1-request append is only safe if conditional."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.conditional_puts = 0

    def __call__(self, event_name: str, request: Any = None, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        self.calls[operation] += 1
        headers = getattr(request, "headers", {})
        if operation == "PutObject" and ("If-Match" in headers or "If-None-Match" in headers):
            self.conditional_puts += 1
        # before-send handlers must return None: a value would replace the response.

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
        self.conditional_puts = 0


@pytest.fixture(scope="session")
def perf_moto() -> Iterator[Endpoint]:
    """moto's S3 server on loopback, in this process (so :func:`seed` can fill it)."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def wire() -> WireCounter:
    return WireCounter()


@pytest.fixture
async def store(perf_moto: Endpoint, wire: WireCounter) -> AsyncIterator[S3Store]:
    """An S3Store on a bucket of its own (moto lists in time proportional to the whole
    bucket), every request it sends counted by ``wire``."""
    bucket = f"synaptic-perf-{uuid.uuid4().hex[:16]}"
    create_bucket(perf_moto, bucket)
    async with S3Store(bucket, **perf_moto.boto3_kwargs()) as opened:
        opened.register_event_handler("before-send.s3", wire)
        yield opened


@pytest.fixture
def manager(store: S3Store) -> SessionManager:
    return SessionManager(store)


Seed = Callable[[Iterable[tuple[str, bytes]]], int]


@pytest.fixture
def seed(perf_moto: Endpoint, store: S3Store) -> Seed:
    """Write raw objects (keys relative to the store's prefix) straight into moto's
    in-process backend. Set-up only: thousands of signed PUTs through the server
    would take most of a minute, and none of them is what a test counts."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def put_all(objects: Iterable[tuple[str, bytes]]) -> int:
        count = 0
        for key, body in objects:
            backend.put_object(store.bucket, store.prefix + key, body)
            count += 1
        return count

    return put_all
