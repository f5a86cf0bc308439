"""The library's own cost: each operation against the raw replay of its own S3 calls.

Both run on the store's very client (same connection pool, same settings, the
store's timestamp parser), one after the other, repetition by repetition; the raw
side is :mod:`benchmarks.raw`'s replay of the calls the library made in that
repetition, so the ratio isolates what synaptic-s3 adds: key checks, JSON encoding
and decoding, models, the cache. (The summary's "raw call" column replays the same
calls on a plain client instead, so it also counts the store's client settings.)

pyinstrument then samples the library doing each operation and splits the time by
where it was spent (library code, pydantic, json, botocore, aiohttp, the event loop
waiting for the server), which says whether JSON, validation or client set-up
dominate."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pyinstrument import Profiler
from pyinstrument.frame import Frame

from benchmarks.measure import Paired, Row, measure
from benchmarks.ours import Ours, session_objects
from benchmarks.raw import Replayer, describe
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


class _Pair:
    """An operation of the library, replayed raw after each repetition."""

    def __init__(self, name: str, ours: Callable[[int], Awaitable[object]]) -> None:
        self.name, self.ours = name, ours


async def _pairs(system: Ours, sizes: tuple[int, ...]) -> list[_Pair]:
    manager = system.manager
    session = await manager.create_session()
    pairs = [_Pair("create session", lambda _: manager.create_session()),
             _Pair("get session", lambda _: manager.get_session(session))]
    for count in sizes:
        history = await system.new_history(count)
        pairs.append(_Pair(f"restore {count:,} messages",
                           lambda _, h=history: manager.memory().load(h)))
    history = await system.new_history(100)
    await manager.memory().load(history)
    pairs.append(_Pair("append to warm history (N=100)", lambda i: system.append(history, i)))
    return pairs


async def _list_pair(lister: Ours, target: Target) -> _Pair:
    await target.seeder.put_many(lister.bucket, session_objects(1000))
    return _Pair("list 1,000 sessions", lambda _: lister.manager.list_sessions())


async def _overhead(target: Target, system: Ours, pair: _Pair, reps: int,
                    profile_reps: int) -> Overhead:
    """Ours and the replay of its own calls on the same client, alternating (the raw
    call of :mod:`benchmarks.raw`, minus the plain client: this isolates library code)."""
    replayer = Replayer(target, client=await system.store.client())
    await replayer.open()
    ours = Row(target.kind, pair.name, system.label, None)
    raw = Row(target.kind, pair.name, replayer.label, None)
    await measure(ours, system.counter, reps, pair.ours,
                  paired=Paired(system.recorder, replayer, raw))
    row = Overhead(target.kind, pair.name, ours.median_ms, raw.median_ms,
                   describe(system.recorder.calls))
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    for index in range(profile_reps):
        await pair.ours(index)
    profiler.stop()
    row.profile = split_time(profiler.last_session.root_frame(trim_stem=False)
                             if profiler.last_session else None)
    return row


async def measure_overhead(
    target: Target, reps: int, profile_reps: int, sizes: tuple[int, ...]
) -> list[Overhead]:
    system = Ours(target, target.create_bucket("bench-profile"))
    lister = Ours(target, target.create_bucket("bench-profile-list"))
    opened = [system, lister]
    for each in opened:
        await each.open()
    try:
        work = [(system, pair) for pair in await _pairs(system, sizes)]
        work.append((lister, await _list_pair(lister, target)))
        return [await _overhead(target, owner, pair, reps, profile_reps)
                for owner, pair in work]
    finally:
        for each in opened:
            await each.close()


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def client_setup_ms(target: Target, reps: int = 5) -> float:
    """Median time to create an S3Store's client (paid once per store, not per request)."""
    times = []
    for _ in range(reps):
        store = S3Store("bench-profile", **target.endpoint.boto3_kwargs())
        times.append(await _timed(store.client))
        await store.close()
    return statistics.median(times) * 1000
