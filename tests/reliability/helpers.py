"""Helpers the reliability modules share (the fixtures stay in ``conftest.py``): how
to build a store on an endpoint or behind a proxy, and how to read what the bucket
really holds (ETags, which say whether each object is exactly what it should be)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable
from typing import Any

import aioboto3

from synaptic_s3 import S3Store
from synaptic_s3.core.store import encode_value
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault, FaultProxy
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


async def kill_at_request(proxy: FaultProxy, call: Awaitable[Any], k: int, *,
                          apply: bool) -> bool:
    """Run ``call``, killing it exactly when it sends request k+1: the proxy holds that
    request (applied upstream first when ``apply``, its answer then dying with the
    caller) and every later one, and the call is cancelled there, as a Lambda frozen or
    killed mid-request. Returns whether it was killed (False: it finished within k)."""
    proxy.clear()
    proxy.inject(Fault.hold(apply=apply), nth=k + 1, times=None)
    running = asyncio.ensure_future(call)
    held = asyncio.create_task(proxy.wait_held())
    done, _ = await asyncio.wait({running, held}, return_when=asyncio.FIRST_COMPLETED)
    killed = running not in done
    for task in (running, held):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    proxy.release_held()
    proxy.clear()
    await proxy.idle()
    return killed
