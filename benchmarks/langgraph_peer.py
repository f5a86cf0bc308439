"""langgraph-checkpoint-s3's ``AsyncS3CheckpointSaver`` (PyPI ``langgraph-checkpoint-s3``,
which installs against the current ``langgraph-checkpoint``), for checkpoint puts and
latest-checkpoint lookups.

The saver opens a new S3 client for every call from ``session.client("s3")``, with
no way to pass an endpoint or a client config; the subclass below changes only
that factory (same call, plus the endpoint, the shared client settings and the
request counter), so the saver keeps its own behaviour, a client per call included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3
from langgraph.checkpoint.base import empty_checkpoint
from langgraph_checkpoint_s3 import AsyncS3CheckpointSaver
from langgraph_checkpoint_s3.utils import get_checkpoint_key, serialize_checkpoint_data

from benchmarks.clients import aio_config
from benchmarks.content import checkpoint_state
from benchmarks.counting import RequestCounter
from benchmarks.servers import Target

LABEL = "langgraph-checkpoint-s3"
PREFIX = "checkpoints/"


class _LocalSaver(AsyncS3CheckpointSaver):
    def __init__(self, bucket: str, target: Target, counter: RequestCounter) -> None:
        super().__init__(bucket, prefix=PREFIX,
                         session=aioboto3.Session(**target.endpoint.credentials))
        self._target = target
        self._counter = counter

    @asynccontextmanager
    async def _get_s3_client(self) -> AsyncIterator[Any]:
        endpoint = self._target.endpoint
        async with self.session.client("s3", endpoint_url=endpoint.url,
                                       region_name=endpoint.region,
                                       config=aio_config()) as client:
            self._counter.attach(client.meta.events)
            yield client


def _checkpoint(step: int) -> tuple[Any, dict[str, Any]]:
    checkpoint = empty_checkpoint()  # a fresh, time-ordered uuid6 id
    checkpoint["channel_values"] = checkpoint_state(step)
    metadata = {"source": "loop", "step": step, "parents": {}}
    return checkpoint, metadata


class LangGraphPeer:
    label = LABEL

    def __init__(self, target: Target, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.counter = RequestCounter()
        self.saver: _LocalSaver | None = None

    async def open(self) -> None:
        self.saver = _LocalSaver(self.bucket, self.target, self.counter)

    async def close(self) -> None:
        """Nothing to close: the saver holds no client between calls."""

    @property
    def _saver(self) -> _LocalSaver:
        assert self.saver is not None, "open() first"
        return self.saver

    async def latest_checkpoint(self, thread_id: str) -> str:
        found = await self._saver.aget_tuple({"configurable": {"thread_id": thread_id}})
        assert found is not None
        return str(found.checkpoint["id"])

    async def put_checkpoint(self, thread_id: str, step: int) -> None:
        checkpoint, metadata = _checkpoint(step)
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        await self._saver.aput(config, checkpoint, metadata, {})

    def checkpoint_objects(self, thread_id: str, first_step: int,
                           count: int) -> list[tuple[str, bytes]]:
        """``count`` checkpoints in the saver's own layout and encoding (set-up)."""
        objects = []
        for step in range(first_step, first_step + count):
            checkpoint, metadata = _checkpoint(step)
            key = get_checkpoint_key(PREFIX, thread_id, "", checkpoint["id"])
            body = serialize_checkpoint_data(checkpoint, metadata, self._saver.serde)
            objects.append((key, body.encode()))
        return objects
