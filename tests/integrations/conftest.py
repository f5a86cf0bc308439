"""Fixtures for the framework integrations: one moto S3 server for the session (real
HTTP on 127.0.0.1, its own bucket), fresh stores per test, and helpers to run a
script in a NEW Python process against the same bucket."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from synaptic_s3 import FileStore, InMemoryStore, S3Store, Store
from synaptic_s3.testing import Endpoint, create_bucket, moto_server

BUCKET = "synaptic-integrations"
HERE = Path(__file__).parent
BACKENDS = ("memory", "file", pytest.param("s3", marks=pytest.mark.s3))


logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``s3`` every test here that reaches the S3 server, however indirectly."""
    for item in items:
        if HERE in Path(str(item.path)).parents and "s3_endpoint" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.s3)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[Endpoint]:
    """moto's S3 server, started once for every integration test."""
    with moto_server() as endpoint:
        create_bucket(endpoint, BUCKET)
        yield endpoint


@pytest.fixture
def s3_prefix() -> str:
    """A key prefix no other test uses: tests share the bucket, never data."""
    return f"it-{uuid.uuid4().hex}"


def open_s3_store(endpoint: Endpoint, prefix: str) -> S3Store:
    return S3Store(BUCKET, prefix=prefix, **endpoint.boto3_kwargs())


@pytest.fixture
async def s3_store(s3_endpoint: Endpoint, s3_prefix: str) -> AsyncIterator[S3Store]:
    """An S3Store on the test loop (for the async APIs)."""
    async with open_s3_store(s3_endpoint, s3_prefix) as store:
        yield store


@pytest.fixture(params=BACKENDS)
async def backend_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Store]:
    """The same test on every kind of store: memory, files, S3 over HTTP."""
    if request.param == "memory":
        yield InMemoryStore()
    elif request.param == "file":
        yield FileStore(tmp_path / "store")
    else:
        endpoint: Endpoint = request.getfixturevalue("s3_endpoint")
        async with open_s3_store(endpoint, f"it-{uuid.uuid4().hex}") as store:
            yield store


def run_script(script: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run ``tests/integrations/<script>`` in a new interpreter; its last stdout line
    is JSON, returned parsed (a non-zero exit fails the test with its stderr)."""
    result = subprocess.run(
        [sys.executable, str(HERE / script), *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def endpoint_env(endpoint: Endpoint) -> dict[str, str]:
    """The environment a child process needs to sign requests to ``endpoint``."""
    return {
        "AWS_ACCESS_KEY_ID": endpoint.credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": endpoint.credentials["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": endpoint.region,
    }
