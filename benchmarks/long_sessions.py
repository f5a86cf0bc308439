"""Long sessions: the segmented history against today's single array, in one run.

    .venv/bin/python -m benchmarks.long_sessions [--sizes 1,10,50] [--repeat 7]

For histories of 1, 10 and 50 MB (messages of about 1 KB, like pasted tool output)
on a local SeaweedFS, with ``segment_bytes`` 1 MiB (the default) and ``None`` (one
array for ever), it measures:

* a warm append (this instance knows the tail): median latency, requests and bytes
  uploaded; and a cold one (a new instance);
* ``load`` of the whole history and ``load(last=20)``: median latency and requests,
  each against the raw calls reading the same bytes (GETs + ``json.loads``) in the
  same run, as a ratio.

Latency is wall time on a shared machine: read the ratios, not the milliseconds.
Writes benchmarks/LONG_SESSIONS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.counting import RequestCounter, Tally
from synaptic_s3 import ChatMessageHistory, InMemoryStore, Message, S3Store
from synaptic_s3.core.keys import object_path
from synaptic_s3.testing import create_bucket, seaweedfs_server

SESSION = "0193a6f2-6a1b-7c3d-9e4f-123456789abc"
BUCKET = "long-sessions"
MIB = 1_048_576
CONTENT = ("tool output line\n" * 56)[:950]  # ~1 KB messages


@dataclass
class Measured:
    median_ms: float
    tally: Tally


async def measure(action: Callable[[], Awaitable[Any]], counter: RequestCounter,
                  repeat: int) -> Measured:
    times = []
    tally = Tally()
    for _ in range(repeat):
        before = counter.snapshot()
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
        tally = counter.snapshot() - before
    return Measured(statistics.median(times), tally)


async def build(store: S3Store, megabytes: int, budget: int | None) -> int:
    """Write a history of about ``megabytes`` MB with the library (in memory, fast),
    then copy its objects to S3 as they are."""
    memory = InMemoryStore()
    history = ChatMessageHistory(memory, segment_bytes=budget)
    count = megabytes * MIB // 1000
    batch = 100
    for start in range(0, count, batch):
        await history.append_many(SESSION, [
            Message.human(CONTENT) if (start + n) % 2 == 0 else Message.ai(CONTENT)
            for n in range(min(batch, count - start))])
    client = await store.client()
    for namespace in await memory.list_namespaces(("memory", SESSION)):
        async for key in memory.iter_keys(namespace):
            item = await memory.get(namespace, key)
            assert item is not None
            body = json.dumps(item.value, ensure_ascii=False, separators=(",", ":")).encode()
            await client.put_object(Bucket=BUCKET, Key=store.prefix + object_path(namespace, key),
                                    Body=body)
    return count


async def raw_read(store: S3Store, keys: list[str]) -> int:
    """The raw calls: GET every object (concurrently) and json.loads each body."""
    client = await store.client()

    async def one(key: str) -> int:
        response = await client.get_object(Bucket=BUCKET, Key=key)
        async with response["Body"] as stream:
            return len(json.loads(await stream.read()))

    return sum(await asyncio.gather(*(one(key) for key in keys)))


async def object_keys(store: S3Store) -> tuple[str, list[str]]:
    client = await store.client()
    tail = store.prefix + object_path(("memory", SESSION), "messages")
    listed = await client.list_objects_v2(
        Bucket=BUCKET, Prefix=store.prefix + f"memory/{SESSION}/segments/")
    return tail, sorted(entry["Key"] for entry in listed.get("Contents", ()))


async def run_case(endpoint: Any, megabytes: int, budget: int | None, repeat: int
                   ) -> dict[str, Any]:
    counter = RequestCounter()
    prefix = f"{megabytes}mb-{'none' if budget is None else budget}"
    async with S3Store(BUCKET, prefix=prefix, **endpoint.boto3_kwargs()) as store:
        counter.attach((await store.client()).meta.events)
        count = await build(store, megabytes, budget)
        tail_key, segment_keys = await object_keys(store)
        warm = ChatMessageHistory(store, segment_bytes=budget)
        await warm.count(SESSION)
        append = await measure(lambda: warm.append(SESSION, Message.human(CONTENT)),
                               counter, repeat)

        async def cold_append() -> None:
            await ChatMessageHistory(store, segment_bytes=budget).append(
                SESSION, Message.human(CONTENT))

        cold = await measure(cold_append, counter, repeat)
        reader = ChatMessageHistory(store, segment_bytes=budget)
        tail_key, segment_keys = await object_keys(store)
        full = await measure(lambda: reader.load(SESSION), counter, repeat)
        raw_full = await measure(lambda: raw_read(store, [tail_key, *segment_keys]),
                                 counter, repeat)
        last = await measure(lambda: reader.load(SESSION, last=20), counter, repeat)
        raw_last = await measure(lambda: raw_read(store, [tail_key]), counter, repeat)
    return {
        "size": f"{megabytes} MB ({count:,} messages)",
        "layout": "segmented (1 MiB)" if budget else "single array",
        "segments": len(segment_keys),
        "append": append, "cold": cold, "full": full, "raw_full": raw_full,
        "last": last, "raw_last": raw_last,
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| history | layout | segments | warm append ms | requests | bytes up | "
        "cold append ms | requests | load ms | x raw | requests | last=20 ms | x raw | "
        "requests |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['size']} | {row['layout']} | {row['segments']} "
            f"| {row['append'].median_ms:.1f} | {row['append'].tally.requests} "
            f"| {row['append'].tally.bytes_out:,} "
            f"| {row['cold'].median_ms:.1f} | {row['cold'].tally.requests} "
            f"| {row['full'].median_ms:.0f} "
            f"| {row['full'].median_ms / row['raw_full'].median_ms:.2f} "
            f"| {row['full'].tally.requests} "
            f"| {row['last'].median_ms:.1f} "
            f"| {row['last'].median_ms / row['raw_last'].median_ms:.2f} "
            f"| {row['last'].tally.requests} |")
    return "\n".join(lines)


async def main(sizes: list[int], repeat: int) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as data, seaweedfs_server(Path(data)) as endpoint:
        create_bucket(endpoint, BUCKET)
        for megabytes in sizes:
            for budget in (MIB, None):
                rows.append(await run_case(endpoint, megabytes, budget, repeat))
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    text = (
        "# Long sessions: segmented history vs one array\n\n"
        "`.venv/bin/python -m benchmarks.long_sessions` on a local SeaweedFS, ~1 KB "
        f"messages, medians of {repeat}. \"x raw\" is the library's time over the raw "
        "GETs + `json.loads` of the same objects in the same run. \"bytes up\" is what "
        "one warm append uploads.\n\n" + table(rows) + "\n")
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).with_name("LONG_SESSIONS.md"))
    arguments = parser.parse_args()
    report = asyncio.run(main([int(s) for s in arguments.sizes.split(",")], arguments.repeat))
    arguments.output.write_text(report)
    print(f"wrote {arguments.output}")
