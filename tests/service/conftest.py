"""Fixtures of the service tests: the handler over S3 on a moto server (SeaweedFS for
a subset), driven with API Gateway HTTP API v2.0 events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from synaptic_s3 import S3Store
from synaptic_s3.service.app import ServiceApp
from synaptic_s3.service.config import ServiceConfig
from synaptic_s3.service.store_url import StoreSpec
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET
from tests.service.events import Context, make_event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    raw: dict[str, Any]

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"]["code"])
        return None


class Api:
    """Calls ``ServiceApp.handle`` with real-shaped events and decodes the reply."""

    def __init__(self, app: ServiceApp, endpoint: Endpoint, prefix: str) -> None:
        self.app = app
        self.endpoint = endpoint
        self.prefix = prefix

    def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        event = make_event(method, path, **kwargs)
        raw = self.app.handle(event, Context())
        assert isinstance(raw, dict)
        assert isinstance(raw["statusCode"], int)
        text = raw.get("body")
        assert "Traceback" not in (text or "")
        body = json.loads(text) if text else None
        if raw["statusCode"] >= 400:
            assert body["error"]["request_id"] == event["requestContext"]["requestId"]
            assert set(body["error"]) == {"code", "message", "request_id"}
        headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        return Reply(raw["statusCode"], headers, body, raw)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Reply:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, **kwargs)

    def new_session(self, **kwargs: Any) -> str:
        reply = self.post("/sessions", **kwargs)
        assert reply.status == 201, reply.body
        return str(reply.body["id"])

    def object_keys(self) -> list[str]:
        """Every object under this test's prefix, straight from S3."""
        client = s3_client(self.endpoint)
        keys: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=self.prefix + "/"
        ):
            keys.extend(entry["Key"] for entry in page.get("Contents", ()))
        return keys


_CLIENTS: dict[str, Any] = {}


def s3_client(endpoint: Endpoint) -> Any:
    """One plain boto3 client per endpoint (creating one costs ~100 ms)."""
    if endpoint.url not in _CLIENTS:
        import boto3

        _CLIENTS[endpoint.url] = boto3.client("s3", **endpoint.boto3_kwargs())
    return _CLIENTS[endpoint.url]


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


def _make_api(endpoint: Endpoint, runner: asyncio.Runner, isolation: str,
              **settings: Any) -> Iterator[Api]:
    prefix = f"svc-{uuid.uuid4().hex[:12]}"
    spec = StoreSpec("s3", bucket=BUCKET, prefix=prefix,
                     options={"endpoint_url": endpoint.url, "region": endpoint.region})
    store = S3Store(BUCKET, prefix=prefix, **endpoint.boto3_kwargs())
    app = ServiceApp(ServiceConfig(store=spec, isolation=isolation, **settings), runner,
                     store=store)
    yield Api(app, endpoint, prefix)
    runner.run(app.close())


@pytest.fixture
def api(moto_endpoint: Endpoint, runner: asyncio.Runner) -> Iterator[Api]:
    yield from _make_api(moto_endpoint, runner, "none")


@pytest.fixture
def jwt_api(moto_endpoint: Endpoint, runner: asyncio.Runner) -> Iterator[Api]:
    yield from _make_api(moto_endpoint, runner, "jwt")


@pytest.fixture(params=["moto", "seaweedfs"])
def any_api(request: pytest.FixtureRequest, runner: asyncio.Runner) -> Iterator[Api]:
    endpoint: Endpoint = request.getfixturevalue(f"{request.param}_endpoint")
    yield from _make_api(endpoint, runner, "none")
