"""Restoring a session over S3 against the raw calls reading the same bytes, in one run.

    .venv/bin/python -m benchmarks.read_path [--sizes 100,1000,10000,50000] [--repeat 9]

For histories of mixed agent messages (human, assistant with a tool call, usage and
response metadata, tool, plain assistant; ~200 characters of text each) stored with
the default layout (1 MiB segments) on a local SeaweedFS started for the run, each
measured as the median wall time of ``--repeat`` runs, interleaved with its
reference so both see the same machine:

* ``load`` by a new ``ChatMessageHistory`` against **raw**: GET the same objects
  (concurrently, one aiobotocore client) and ``json.loads`` each body. Also the
  **floor** of any API that returns pydantic ``Message`` objects: the raw calls plus
  building the objects with no check at all (``object.__new__`` and the field values,
  as :mod:`synaptic_s3.core.decode` does). ``load`` cannot beat the floor; the gap
  between them is what validation costs.
* the HTTP read of one page, ``GET /sessions/{id}/messages?limit=1000`` and
  ``?last=20``, through the Lambda handler's ``ServiceApp.handle``, against the raw
  calls a pass-through server with the same contract needs: GET the objects the page
  spans and, at the same time, the session's metadata (a missing session is 404),
  ``json.loads``, slice, ``json.dumps`` the slice.

Writes benchmarks/READ_PATH.md. Read the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.decode import mixed
from benchmarks.message_floor import floor_objects
from synaptic_s3 import ChatMessageHistory, S3Store
from synaptic_s3.cli.server import LocalContext, build_event
from synaptic_s3.core.keys import object_path
from synaptic_s3.service.app import ServiceApp
from synaptic_s3.service.config import ServiceConfig
from synaptic_s3.service.store_url import StoreSpec
from synaptic_s3.testing import create_bucket, seaweedfs_server

BUCKET = "read-path"
class Case:
    """One session of ``count`` messages, and the raw reads of its objects."""

    def __init__(self, runner: asyncio.Runner, store: S3Store, session_id: str) -> None:
        self.runner = runner
        self.store = store
        self.session_id = session_id
        self.keys: list[str] = []

    async def fill(self, count: int) -> None:
        history = ChatMessageHistory(self.store)
        for low in range(0, count, 1000):
            await history.append_many(
                self.session_id, [mixed(i) for i in range(low, min(count, low + 1000))])
        client = await self.store.client()
        segments = self.store.prefix + f"memory/{self.session_id}/segments/"
        listed = await client.list_objects_v2(Bucket=BUCKET, Prefix=segments)
        self.keys = sorted(entry["Key"] for entry in listed.get("Contents", ()))
        self.keys.append(self.store.prefix + object_path(("memory", self.session_id),
                                                         "messages"))

    async def raw(self, keys: list[str], *, also: str | None = None) -> list[Any]:
        """GET ``keys`` concurrently (and ``also``, whose body is only read) and
        ``json.loads`` each: the messages, in key order."""
        client = await self.store.client()

        async def one(key: str) -> list[Any]:
            response = await client.get_object(Bucket=BUCKET, Key=key)
            async with response["Body"] as stream:
                value: list[Any] = json.loads(await stream.read())
                return value

        async def existence(key: str) -> None:
            response = await client.get_object(Bucket=BUCKET, Key=key)
            async with response["Body"] as stream:
                await stream.read()

        parts = await asyncio.gather(*(one(key) for key in keys),
                                     *([existence(also)] if also else []))
        return [message for part in parts[:len(keys)] for message in part]


def timed_pair(ours: Callable[[], Any], reference: Callable[[], Any], repeat: int
               ) -> tuple[float, float]:
    """Median wall ms of each, run alternately (so both see the same machine)."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeat):
        for action, times in ((ours, mine), (reference, theirs)):
            gc.collect()
            started = time.perf_counter()
            action()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(mine), statistics.median(theirs)


def request(app: ServiceApp, method: str, target: str) -> dict[str, Any]:
    """One request through the Lambda handler, as the local server sends it."""
    event = build_event(method, target, [], b"", "127.0.0.1")
    reply: dict[str, Any] = app.handle(event, LocalContext(event["requestContext"]["requestId"]))
    return reply


def run_size(runner: asyncio.Runner, endpoint: Any, count: int, repeat: int
             ) -> dict[str, Any]:
    prefix = f"n{count}"
    store = S3Store(BUCKET, prefix=prefix, **endpoint.boto3_kwargs())
    spec = StoreSpec("s3", bucket=BUCKET, prefix=prefix,
                     options={"endpoint_url": endpoint.url, "region": endpoint.region})
    app = ServiceApp(ServiceConfig(store=spec, isolation="none"), runner, store=store)
    try:
        created = request(app, "POST", "/sessions")
        session_id = json.loads(created["body"])["id"]
        case = Case(runner, store, session_id)
        runner.run(case.fill(count))
        run = runner.run

        def load() -> None:
            assert len(run(ChatMessageHistory(store).load(session_id))) == count

        def raw() -> None:
            assert len(run(case.raw(case.keys))) == count

        def floor() -> None:
            assert len(floor_objects(run(case.raw(case.keys)))) == count

        load_ms, raw_ms = timed_pair(load, raw, repeat)
        floor_ms, raw2_ms = timed_pair(floor, raw, repeat)
        raw_ms = min(raw_ms, raw2_ms)

        def http(query: str) -> Callable[[], None]:
            def call() -> None:
                reply = request(app, "GET", f"/sessions/{session_id}/messages?{query}")
                assert reply["statusCode"] == 200, reply
            return call

        metadata = store.prefix + object_path(("sessions",), session_id)

        def raw_page(first: int, last: int, keys: list[str]) -> Callable[[], None]:
            def call() -> None:
                values = run(case.raw(keys, also=metadata))
                offset = count - len(values)
                json.dumps({"messages": values[first - offset:last - offset]},
                           ensure_ascii=False, separators=(",", ":"))
            return call

        tail_only = case.keys[-1:]
        page_ms, raw_page_ms = timed_pair(
            http("limit=1000"), raw_page(0, min(1000, count), _keys_for_first(case, count)),
            repeat)
        last_ms, raw_last_ms = timed_pair(http("last=20"),
                                          raw_page(count - 20, count, tail_only), repeat)
    finally:
        runner.run(app.close())
    return {"messages": count, "objects": len(case.keys), "raw_ms": raw_ms,
            "load_ms": load_ms, "floor_ms": floor_ms, "page_ms": page_ms,
            "raw_page_ms": raw_page_ms, "last_ms": last_ms, "raw_last_ms": raw_last_ms}


def _keys_for_first(case: Case, count: int) -> list[str]:
    """The objects holding messages 0..999: the first segments (or the tail alone)."""
    if len(case.keys) == 1:
        return case.keys
    needed: list[str] = []
    for key in case.keys[:-1]:
        needed.append(key)
        end = int(key.rsplit("/", 1)[-1].removesuffix(".json").split("-")[-1])
        if end >= min(1000, count):
            return needed
    return case.keys


def report(rows: list[dict[str, Any]], repeat: int) -> str:
    lines = [
        "# Read path: ours against the raw calls on the same bytes",
        "",
        "`.venv/bin/python -m benchmarks.read_path` on a local SeaweedFS, medians of "
        f"{repeat}, each interleaved with its reference. Mixed messages of ~200 "
        "characters (a quarter with a tool call, usage and response metadata), 1 MiB "
        "segments. raw = GET the same objects + `json.loads`; floor = raw + building the "
        "`Message` objects with no check; HTTP: the handler's reply against GET of the "
        "objects the page spans and the session's metadata (concurrently) + `json.loads` + "
        "slice + `json.dumps`.",
        "",
        "| messages | objects | raw | load | load / raw | floor / raw "
        "| GET ?limit=1000 / raw | GET ?last=20 / raw |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['messages']:,} | {r['objects']} | {r['raw_ms']:.1f} ms "
            f"| {r['load_ms']:.1f} ms | **{r['load_ms'] / r['raw_ms']:.2f}x** "
            f"| {r['floor_ms'] / r['raw_ms']:.2f}x "
            f"| **{r['page_ms'] / r['raw_page_ms']:.2f}x** ({r['page_ms']:.1f} ms) "
            f"| **{r['last_ms'] / r['raw_last_ms']:.2f}x** ({r['last_ms']:.1f} ms) |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).with_name("READ_PATH.md"))
    args = parser.parse_args()
    rows = []
    with (tempfile.TemporaryDirectory() as data, seaweedfs_server(Path(data)) as endpoint,
          asyncio.Runner() as runner):
        create_bucket(endpoint, BUCKET)
        for size in (int(s) for s in args.sizes.split(",") if s):
            rows.append(run_size(runner, endpoint, size, args.repeat))
            print(report(rows[-1:], args.repeat).splitlines()[-1], flush=True)
    text = report(rows, args.repeat)
    args.output.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
