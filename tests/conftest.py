"""Shared fixtures: local S3 endpoints (moto server, SeaweedFS) and a ``store`` fixture
parametrised over every backend, so one conformance suite holds them all to one contract."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from synaptic_s3 import FileStore, InMemoryStore, S3Store, SessionManager, Store
from synaptic_s3.testing import Endpoint, create_bucket, moto_server, seaweedfs_server

BUCKET = "synaptic-tests"
BACKENDS = ("memory", "file", "s3-moto", "s3-seaweedfs")

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[Endpoint]:
    with moto_server() as endpoint:
        create_bucket(endpoint, BUCKET)
        yield endpoint


@pytest.fixture(scope="session")
def seaweedfs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with seaweedfs_server(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        create_bucket(endpoint, BUCKET)
        yield endpoint


StoreFactory = Callable[[], Awaitable[Store]]


@pytest.fixture(params=BACKENDS)
async def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    """Makes independent store instances over the SAME data (one fresh place per test):
    separate FileStores on one root, separate S3Stores (clients) on one prefix. The
    in-memory store is one process-local object, so it hands out that one object."""
    kind: str = request.param
    opened: list[Store] = []
    shared_memory = InMemoryStore()
    prefix = f"test-{uuid.uuid4().hex}"

    async def make() -> Store:
        store: Store
        if kind == "memory":
            store = shared_memory
        elif kind == "file":
            store = FileStore(tmp_path / "store")
        else:
            fixture = "moto_endpoint" if kind == "s3-moto" else "seaweedfs_endpoint"
            endpoint: Endpoint = request.getfixturevalue(fixture)
            store = S3Store(BUCKET, prefix=prefix, **endpoint.boto3_kwargs())
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
    if kind == "s3-moto" and opened:
        _forget_moto_prefix(prefix)


def _forget_moto_prefix(prefix: str) -> None:
    """Drop a finished test's objects from the in-process moto server's bucket. moto
    scans the whole bucket on every listing, so the thousands of objects earlier tests
    leave in a worker's shared bucket would slow every later listing; S3 and SeaweedFS
    list by prefix and need no such help."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    bucket = backend.get_bucket(BUCKET)
    for key in [name for name in bucket.keys if name.startswith(prefix)]:
        backend.delete_object(BUCKET, key)


@pytest.fixture
async def store(store_factory: StoreFactory) -> Store:
    return await store_factory()


@pytest.fixture
def manager(store: Store) -> SessionManager:
    return SessionManager(store)
