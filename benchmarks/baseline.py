"""BASELINE, not a real library: what the Rust ``synaptic`` crate's S3 store does, redone in a
few lines of raw aioboto3 on the same bucket layout (``sessions/<id>.json``,
``memory/<id>/messages.json``, ``checkpoints/<thread>/<id>.json``).

* appends read-modify-write the history with no condition (GET + PUT, and a
  concurrent append is silently lost);
* listing sessions lists the keys, then GETs every session object (capped at 10,000);
* the latest checkpoint is the greatest key of a full listing (capped at 10,000);
* deleting a session lists its objects and DELETEs them one by one.

Fan-out (GET per session, DELETE per object) runs 16 requests at a time, the same
bound synaptic-s3 uses, so latency differences come from request counts only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aioboto3

from benchmarks.clients import POOL, aio_config
from benchmarks.content import wire_history, wire_message
from benchmarks.counting import RequestCounter
from benchmarks.servers import Target
from synaptic_s3.ids import uuid7

LABEL = "rust-like baseline"
CAP = 10_000


class RustLikeBaseline:
    label = LABEL

    def __init__(self, target: Target, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.counter = RequestCounter()
        self._context: Any = None
        self.client: Any = None

    async def open(self) -> None:
        self._context = aioboto3.Session().client(
            "s3", config=aio_config(), **self.target.endpoint.boto3_kwargs())
        self.client = await self._context.__aenter__()
        self.counter.attach(self.client.meta.events)

    async def close(self) -> None:
        if self._context is not None:
            await self._context.__aexit__(None, None, None)
            self._context = self.client = None

    # -- raw object helpers -------------------------------------------------------------

    async def _get_json(self, key: str) -> Any:
        try:
            reply = await self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        async with reply["Body"] as body:
            return json.loads(await body.read())

    async def _put_json(self, key: str, value: Any) -> None:
        await self.client.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(value).encode(),
                                     ContentType="application/json")

    async def _keys(self, prefix: str, cap: int | None = None) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [entry["Key"] for entry in page.get("Contents", ())]
            if cap is not None and len(keys) >= cap:
                return keys[:cap]
        return keys

    async def _fan_out(self, calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
        semaphore = asyncio.Semaphore(POOL)

        async def bounded(call: Callable[[], Awaitable[Any]]) -> Any:
            async with semaphore:
                return await call()

        return await asyncio.gather(*(bounded(call) for call in calls))

    # -- sessions and memory --------------------------------------------------------------

    async def create_session(self) -> str:
        session_id = str(uuid7())
        await self._put_json(f"sessions/{session_id}.json",
                             {"id": session_id, "created_at": datetime.now(UTC).isoformat()})
        return session_id

    async def get_session(self, session_id: str) -> None:
        assert await self._get_json(f"sessions/{session_id}.json") is not None

    async def new_history(self, count: int) -> str:
        session_id = await self.create_session()
        await self.reset_history(session_id, count)
        return session_id

    async def reset_history(self, session_id: str, count: int) -> None:
        await self._put_json(f"memory/{session_id}/messages.json", wire_history(count))

    async def load(self, session_id: str) -> None:
        await self._get_json(f"memory/{session_id}/messages.json")

    async def warm(self, session_id: str) -> None:
        """Nothing to warm: every append reads the history again."""

    async def _append(self, session_id: str, message: dict[str, Any]) -> None:
        key = f"memory/{session_id}/messages.json"
        history = await self._get_json(key) or []
        await self._put_json(key, [*history, message])

    async def append(self, session_id: str, index: int) -> None:
        await self._append(session_id, wire_message(index, "human"))

    async def chat_turn(self, session_id: str, index: int) -> None:
        await self.load(session_id)
        await self._append(session_id, wire_message(index, "human"))
        await self._append(session_id, wire_message(index, "assistant"))

    async def list_sessions(self, expected: int) -> None:
        keys = await self._keys("sessions/", cap=CAP)
        infos = await self._fan_out([lambda key=key: self._get_json(key) for key in keys])
        assert len(infos) == min(expected, CAP), (len(infos), expected)

    async def delete_session(self, session_id: str) -> None:
        keys = await self._keys(f"memory/{session_id}/")
        keys += await self._keys(f"checkpoints/{session_id}/")
        await self._fan_out([lambda key=key: self.client.delete_object(Bucket=self.bucket, Key=key)
                             for key in keys])
        await self.client.delete_object(Bucket=self.bucket, Key=f"sessions/{session_id}.json")

    # -- checkpoints ---------------------------------------------------------------------

    async def latest_checkpoint(self, thread_id: str) -> str:
        keys = await self._keys(f"checkpoints/{thread_id}/", cap=CAP)
        latest = max(keys)
        checkpoint = await self._get_json(latest)
        assert checkpoint is not None
        return str(checkpoint["id"])
