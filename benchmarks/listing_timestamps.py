"""How much a 1,000-key listing costs with botocore's timestamp parser and with ours.

Run: ``.venv/bin/python -m benchmarks.listing_timestamps [--runs 15] [--keys 1000]``

SeaweedFS runs in its own process (its CPU is not billed to the client). Measured,
as medians over ``--runs`` (after two warm-ups), wall time and this process's CPU time:

* ``raw``: the bare HTTP call (unsigned aiohttp GET of the same ListObjectsV2 page,
  body read, nothing parsed): the floor;
* ``botocore parser``: ``S3Store.list_keys`` with a session the caller made (botocore's
  default ``dateutil`` timestamp parser, as before this change);
* ``fast parser, cold``: the store's own session (:mod:`synaptic_s3.store.s3_timestamps`),
  with the parser's cache emptied before every run;
* ``fast parser, warm``: the same, cache kept (timestamps repeat to the second).

Nothing here is asserted: the numbers go in the report; the correctness of the parser
is pinned in ``tests/backends/test_s3_timestamps.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import aioboto3
import aiohttp

from benchmarks.servers import start
from synaptic_s3 import S3Store
from synaptic_s3.store.s3_timestamps import parse_timestamp

BUCKET = "listing-bench"


async def _measure(run: Callable[[], Awaitable[object]], runs: int,
                   before: Callable[[], None] = lambda: None) -> tuple[float, float]:
    walls, cpus = [], []
    for index in range(runs + 2):
        before()
        wall, cpu = time.perf_counter(), time.process_time()
        await run()
        if index >= 2:
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


async def main(runs: int, keys: int) -> None:
    with start("seaweedfs") as target:
        target.create_bucket(BUCKET)
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        await target.seeder.put_many(
            BUCKET, [(f"{prefix}/ns/k{i:05d}.json", b"{}") for i in range(keys)])
        endpoint = target.endpoint
        plain_session = aioboto3.Session(**endpoint.credentials)
        async with (
            aiohttp.ClientSession() as http,
            S3Store(BUCKET, prefix=prefix, endpoint_url=endpoint.url,
                    region_name=endpoint.region, session=plain_session) as slow,
            S3Store(BUCKET, prefix=prefix, **endpoint.boto3_kwargs()) as fast,
        ):
            url = (f"{endpoint.url}/{BUCKET}?list-type=2&delimiter=/&max-keys=1000"
                   f"&prefix={prefix}/ns/")

            async def raw() -> None:
                async with http.get(url) as reply:
                    await reply.read()

            async def listing_with(store: S3Store) -> None:
                page = await store.list_keys(("ns",), limit=keys)
                assert len(page.keys) == keys

            rows = [
                ("raw HTTP GET", await _measure(raw, runs)),
                ("botocore parser", await _measure(lambda: listing_with(slow), runs)),
                ("fast parser, cold cache", await _measure(
                    lambda: listing_with(fast), runs, parse_timestamp.cache_clear)),
                ("fast parser, warm cache", await _measure(lambda: listing_with(fast), runs)),
            ]
    floor = rows[0][1][0]
    print(f"{keys}-key ListObjectsV2 page, SeaweedFS, medians of {runs} runs")
    print(f"{'':26} {'wall ms':>9} {'CPU ms':>8} {'x raw':>7}")
    for name, (wall, cpu) in rows:
        print(f"{name:26} {wall:9.1f} {cpu:8.1f} {wall / floor:7.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keys", type=int, default=1000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.keys))
