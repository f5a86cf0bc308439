"""The benchmark's S3 endpoints: moto and SeaweedFS on loopback, and a fast way to fill them.

Both servers come from :mod:`synaptic_s3.testing`. SeaweedFS already runs as a child
process; moto's ``ThreadedMotoServer`` runs in the process that starts it, so here it
is started in a spawned child process: otherwise the emulator would share the
benchmark's interpreter lock and its CPU time would be billed to the client being
measured. Every server is stopped by the code that started it.

Filling buckets (tens of thousands of objects) is set-up, not measurement, so it
takes the cheapest path each server offers: moto's child process writes straight
into its in-memory backend; SeaweedFS gets plain unsigned HTTP PUTs (it runs
without authentication here), which cost a fraction of a signed botocore call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Protocol

import aiohttp

from synaptic_s3.testing import Endpoint, create_bucket, moto_server, seaweedfs_server

ENDPOINT_KINDS = ("moto", "seaweedfs")
_START_TIMEOUT = 60.0
_SEED_TIMEOUT = 300.0
_SEED_CHUNK = 2000
_HTTP_SEED_CONCURRENCY = 16

SeedObjects = Sequence[tuple[str, bytes]]


class Seeder(Protocol):
    async def put_many(self, bucket: str, objects: SeedObjects) -> None:
        """Store every ``(key, body)`` in ``bucket``."""


@dataclass(frozen=True)
class Target:
    """One running endpoint and how to fill it."""

    kind: str
    endpoint: Endpoint
    seeder: Seeder

    def create_bucket(self, bucket: str) -> str:
        create_bucket(self.endpoint, bucket)
        return bucket


# -- moto, in a child process -------------------------------------------------------------

_Command = tuple[str, list[tuple[str, bytes]]] | None


def _serve_moto(endpoints: Queue[Endpoint], commands: Queue[_Command], acks: Queue[int]) -> None:
    """Child process body: serve until told to stop, writing seed objects on request."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    with moto_server() as endpoint:
        endpoints.put(endpoint)
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        while (command := commands.get()) is not None:
            bucket, objects = command
            for key, body in objects:
                backend.put_object(bucket, key, body)
            acks.put(len(objects))


class _MotoSeeder:
    def __init__(self, commands: Queue[_Command], acks: Queue[int]) -> None:
        self._commands = commands
        self._acks = acks

    def _put_blocking(self, bucket: str, objects: SeedObjects) -> None:
        for start in range(0, len(objects), _SEED_CHUNK):
            chunk = list(objects[start : start + _SEED_CHUNK])
            self._commands.put((bucket, chunk))
            self._acks.get(timeout=_SEED_TIMEOUT)

    async def put_many(self, bucket: str, objects: SeedObjects) -> None:
        await asyncio.to_thread(self._put_blocking, bucket, objects)


def _first_endpoint(endpoints: Queue[Endpoint], process: BaseProcess) -> Endpoint:
    """The endpoint the child reports, failing fast if the child dies first."""
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            return endpoints.get(timeout=0.5)
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"moto server exited with {process.exitcode}") from None
    raise TimeoutError(f"moto server did not start within {_START_TIMEOUT}s")


@contextlib.contextmanager
def moto_process() -> Iterator[Target]:
    """moto's S3 emulator on a free 127.0.0.1 port, in a child process."""
    context = multiprocessing.get_context("spawn")
    endpoints: Queue[Endpoint] = context.Queue()
    commands: Queue[_Command] = context.Queue()
    acks: Queue[int] = context.Queue()
    process = context.Process(target=_serve_moto, args=(endpoints, commands, acks), daemon=True)
    process.start()
    try:
        found = _first_endpoint(endpoints, process)
        yield Target("moto", found, _MotoSeeder(commands, acks))
    finally:
        commands.put(None)
        process.join(timeout=15)
        if process.is_alive():
            process.terminate()
            process.join()


# -- SeaweedFS -------------------------------------------------------------------------------

class _HttpSeeder:
    """Unsigned PUTs with bounded concurrency (the server has no authentication)."""

    def __init__(self, url: str) -> None:
        self._url = url

    async def put_many(self, bucket: str, objects: SeedObjects) -> None:
        semaphore = asyncio.Semaphore(_HTTP_SEED_CONCURRENCY)
        connector = aiohttp.TCPConnector(limit=_HTTP_SEED_CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def put(key: str, body: bytes) -> None:
                async with semaphore, http.put(f"{self._url}/{bucket}/{key}", data=body) as reply:
                    if reply.status != 200:
                        raise RuntimeError(f"seeding {key} failed: {reply.status}")

            await asyncio.gather(*(put(key, body) for key, body in objects))


@contextlib.contextmanager
def seaweedfs_process() -> Iterator[Target]:
    """SeaweedFS (``weed mini``) on free 127.0.0.1 ports, data in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="synaptic-bench-weed-") as directory, \
            seaweedfs_server(directory) as found:
        yield Target("seaweedfs", found, _HttpSeeder(found.url))


@contextlib.contextmanager
def start(kind: str) -> Iterator[Target]:
    """Start the named endpoint (``moto`` or ``seaweedfs``) and stop it on exit."""
    if kind == "moto":
        with moto_process() as target:
            yield target
    elif kind == "seaweedfs":
        with seaweedfs_process() as target:
            yield target
    else:
        raise ValueError(f"unknown endpoint {kind!r} (expected one of {ENDPOINT_KINDS})")


