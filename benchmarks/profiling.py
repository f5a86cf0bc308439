"""The library's own cost: each operation against the one raw aioboto3 call it makes.

Both run on the store's very client (same connection pool, same settings), one
after the other, repetition by repetition, so the ratio isolates what synaptic-s3
adds: key checks, JSON encoding and decoding, pydantic models, the cache.

pyinstrument then samples the library doing each operation and splits the time by
where it was spent (library code, pydantic, json, botocore, aiohttp, the event loop
waiting for the server), which says whether JSON, validation or client set-up
dominate.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from benchmarks.content import wire_history
from benchmarks.ours import Ours, session_objects
from benchmarks.servers import Target
from synaptic_s3 import S3Store

CATEGORIES = ("waiting for the server", "socket I/O", "botocore", "aiohttp", "asyncio", "json",
              "pydantic", "synaptic-s3 message models", "synaptic-s3 other", "harness", "other")


@dataclass
class Overhead:
    endpoint: str
    operation: str
    ours_ms: float
    raw_ms: float
    raw_call: str
    profile: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.raw_ms


def category(path: str | None, function: str = "", parent: str = "other") -> str:
    """Where a frame's own time goes. C functions (pyinstrument's ``<built-in>`` frames)
    count for the Python code that called them, except the event loop's poll (waiting
    for the server) and socket calls."""
    p = path or ""
    if p == "<built-in>" or not p:
        if function.startswith(("epoll.", "select.", "poll.")):
            return "waiting for the server"
        if function.startswith("socket."):
            return "socket I/O"
        return parent
    if "/synaptic_s3/core/messages.py" in p or "/synaptic_s3/checkpoint.py" in p:
        return "synaptic-s3 message models"
    if "/synaptic_s3/" in p:
        return "synaptic-s3 other"
    if "/pydantic" in p:
        return "pydantic"
    if p.endswith(("/json/__init__.py", "/json/decoder.py", "/json/encoder.py")):
        return "json"
    if any(part in p for part in ("/botocore/", "/aiobotocore/", "/aioboto3/", "/dateutil/")):
        return "botocore"
    if any(part in p for part in ("/aiohttp/", "/yarl/", "/multidict/")):
        return "aiohttp"
    if p.endswith("selectors.py"):
        return "waiting for the server"
    if "/asyncio/" in p:
        return "asyncio"
    if "/benchmarks/" in p:
        return "harness"
    return "other"


def split_time(root: Frame | None) -> dict[str, float]:
    """Self time of every frame, summed by :func:`category`, as shares of the total."""
    totals = dict.fromkeys(CATEGORIES, 0.0)
    stack = [(root, "other")] if root is not None else []
    while stack:
        frame, parent = stack.pop()
        if frame.is_synthetic:
            continue
        kind = category(frame.file_path, frame.function, parent)
        totals[kind] += frame.total_self_time
        stack.extend((child, kind) for child in frame.children)
    whole = sum(totals.values()) or 1.0
    return {name: value / whole for name, value in totals.items()}


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


class _Pair:
    """An operation of the library and the raw call it boils down to."""

    def __init__(self, name: str, raw_call: str, ours: Callable[[], Awaitable[object]],
                 raw: Callable[[], Awaitable[object]]) -> None:
        self.name, self.raw_call, self.ours, self.raw = name, raw_call, ours, raw


async def _pairs(system: Ours, client: Any, bucket: str, sizes: tuple[int, ...]) -> list[_Pair]:
    manager = system.manager
    session = await manager.create_session()
    session_key = f"sessions/{session}.json"
    session_body = json.dumps({"id": session, "created_at": "x" * 24}).encode()
    pairs = [
        _Pair("create session", "PutObject IfNoneMatch", manager.create_session,
              lambda: client.put_object(Bucket=bucket, Key=f"raw/{time.time_ns()}.json",
                                        Body=session_body, IfNoneMatch="*")),
        _Pair("get session", "GetObject + read", lambda: manager.get_session(session),
              lambda: _read(client, bucket, session_key)),
    ]
    for count in sizes:
        history = await system.new_history(count)
        key = f"memory/{history}/messages.json"
        pairs.append(_Pair(f"restore {count:,} messages", "GetObject + read",
                           lambda h=history: manager.memory().load(h),
                           lambda k=key: _read(client, bucket, k)))
    history = await system.new_history(100)
    await manager.memory().load(history)
    raw_key = f"raw/{history}.json"
    raw_body = json.dumps(wire_history(101), separators=(",", ":")).encode()
    etag = [(await client.put_object(Bucket=bucket, Key=raw_key, Body=raw_body))["ETag"]]

    async def raw_append() -> None:
        reply = await client.put_object(Bucket=bucket, Key=raw_key, Body=raw_body,
                                        IfMatch=etag[0])
        etag[0] = reply["ETag"]

    pairs.append(_Pair("append to warm history (N=100)", "PutObject IfMatch",
                       lambda: system.append(history, 0), raw_append))
    return pairs


async def _read(client: Any, bucket: str, key: str) -> bytes:
    reply = await client.get_object(Bucket=bucket, Key=key)
    async with reply["Body"] as body:
        data: bytes = await body.read()
    return data


async def _list_pair(lister: Ours, client: Any, bucket: str, target: Target) -> _Pair:
    await target.seeder.put_many(bucket, session_objects(1000))

    async def raw_list() -> None:
        await client.list_objects_v2(Bucket=bucket, Prefix="sessions/", Delimiter="/",
                                     MaxKeys=1000)

    return _Pair("list 1,000 sessions", "ListObjectsV2 (1 page)",
                 lister.manager.list_sessions, raw_list)


async def measure_overhead(
    target: Target, reps: int, profile_reps: int, sizes: tuple[int, ...]
) -> list[Overhead]:
    bucket = target.create_bucket("bench-profile")
    system = Ours(target, bucket)
    await system.open()
    opened = [system]
    try:
        client = await system.store.client()
        pairs = await _pairs(system, client, bucket, sizes)
        lister = Ours(target, target.create_bucket("bench-profile-list"))
        await lister.open()
        opened.append(lister)
        pairs.append(await _list_pair(lister, await lister.store.client(), lister.bucket,
                                      target))
        results = []
        for pair in pairs:
            await pair.ours()  # warm-up, both sides
            await pair.raw()
            ours_times, raw_times = [], []
            for _ in range(reps):
                ours_times.append(await _timed(pair.ours))
                raw_times.append(await _timed(pair.raw))
            row = Overhead(target.kind, pair.name, statistics.median(ours_times) * 1000,
                           statistics.median(raw_times) * 1000, pair.raw_call)
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            for _ in range(profile_reps):
                await pair.ours()
            profiler.stop()
            row.profile = split_time(profiler.last_session.root_frame(trim_stem=False)
                                     if profiler.last_session else None)
            results.append(row)
        return results
    finally:
        for each in opened:
            await each.close()


async def client_setup_ms(target: Target, reps: int = 5) -> float:
    """Median time to create an S3Store's client (paid once per store, not per request)."""
    times = []
    for _ in range(reps):
        store = S3Store("bench-profile", **target.endpoint.boto3_kwargs())
        times.append(await _timed(store.client))
        await store.close()
    return statistics.median(times) * 1000
