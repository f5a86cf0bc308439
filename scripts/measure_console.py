"""How long the console takes to answer its biggest pages over a local S3 server (moto):
the sessions list (100 of 1,000 sessions created over the last 30 days), a page of
200 messages of a 2,000-message session, and a checkpoint diff. Prints the median of
20 requests through the real HTTP server. A measurement, not a test: nothing asserts a time.

    .venv/bin/python scripts/measure_console.py
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import os
import statistics
import time

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, S3Store, SessionManager
from synaptic_s3.console.server import running
from synaptic_s3.ids import uuid7_from
from synaptic_s3.service.store_url import parse_store_url
from synaptic_s3.testing import create_bucket, moto_server

ROUNDS = 20


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    with moto_server() as endpoint:
        create_bucket(endpoint, "measure")
        os.environ["AWS_ACCESS_KEY_ID"] = endpoint.credentials["aws_access_key_id"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = endpoint.credentials["aws_secret_access_key"]

        async def fill() -> tuple[str, str]:
            async with S3Store("measure", **endpoint.boto3_kwargs()) as store:
                manager = SessionManager(store)
                now_ms = time.time_ns() // 1_000_000
                spread = [str(uuid7_from(now_ms - n * 2_592_000, n.to_bytes(4, "big")))
                          for n in range(1000)]  # one every 43 minutes, 30 days back
                await asyncio.gather(*(manager.create_session(session_id=sid)
                                       for sid in spread))
                newest = spread[0]
                await manager.memory().append_many(newest, [
                    Message.ai(f"answer {i} " + "lorem ipsum " * 20, tool_calls=[
                        {"id": f"c{i}", "name": "search", "arguments": {"q": f"q{i}"}}])
                    if i % 2 else Message.tool(f"result {i}", f"c{i - 1}")
                    for i in range(2000)])
                parent = None
                for step in range(5):
                    checkpoint = Checkpoint({"messages": list(range(step * 50)),
                                             "step": step}, parent_id=parent)
                    await manager.checkpointer().put(CheckpointConfig(newest), checkpoint)
                    parent = checkpoint.id
                return newest, parent or ""

        newest, latest = asyncio.run(fill())
        spec = parse_store_url(f"s3://measure/?endpoint_url={endpoint.url}"
                               f"&region={endpoint.region}")
        with running(spec) as server:
            pages = {
                "sessions, newest first (100 of 1,000)": "/console/",
                "sessions, oldest first (100 of 1,000)": "/console/?order=oldest",
                "200 messages of 2,000 (newest page)": f"/console/s/{newest}",
                "200 messages of 2,000 (older page)": f"/console/s/{newest}?end=1000",
                "checkpoint + diff against its parent":
                    f"/console/s/{newest}/checkpoints/{latest}",
            }
            for name, path in pages.items():
                times, size = [], 0
                for _ in range(ROUNDS):
                    connection = http.client.HTTPConnection("127.0.0.1", server.port)
                    started = time.perf_counter()
                    connection.request("GET", path)
                    response = connection.getresponse()
                    body = response.read()
                    times.append((time.perf_counter() - started) * 1000)
                    connection.close()
                    assert response.status == 200, body[-300:]
                    size = len(body)
                print(f"{name:40s} median {statistics.median(times):6.1f} ms  "
                      f"max {max(times):6.1f} ms  {size / 1024:7.1f} KiB")


if __name__ == "__main__":
    main()
