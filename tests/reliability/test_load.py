"""A bounded load test on loopback: many writers appending to shared sessions while
readers list and load, against moto server and SeaweedFS.

Every writer is its own "process" (its own S3Store, connection pool and history
cache) and appends its numbered messages to sessions picked by a seeded random
generator; readers keep listing sessions and loading histories, checking each
read (no duplicate, every writer's messages in its own order, every history only
grows). At the end every history holds exactly the messages sent to it, once, in
each writer's order.

Sizes: the CI variant (default) runs 16 writers x 40 appends over 50 sessions;
``SYNAPTIC_SOAK=1`` runs the full 16 x 200 (and ``SYNAPTIC_SOAK_APPENDS=n`` any n).
Figures (throughput, CAS conflicts, botocore retries, caller retries) are printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest

from synaptic_s3 import (
    ChatMessageHistory,
    ConflictError,
    Message,
    S3Store,
    SessionManager,
    StorageUnavailableError,
)
from synaptic_s3.testing import Endpoint
from tests.reliability.conftest import make_store

pytestmark = [pytest.mark.s3, pytest.mark.slow]

SOAK = os.environ.get("SYNAPTIC_SOAK") == "1"
WRITERS = 16
READERS = 4
SESSIONS = 50
APPENDS = int(os.environ.get("SYNAPTIC_SOAK_APPENDS", "200" if SOAK else "40"))
CALLER_RETRIES = 5
"""How often a writer repeats an append that raised (same message: idempotent)."""
DEADLINE = 3600.0 if SOAK else 150.0
"""Seconds after which the test fails rather than hang (it stops by itself long before)."""


@dataclass
class Figures:
    appends: int = 0
    seconds: float = 0.0
    conflicts: int = 0
    http_calls: int = 0
    http_attempts: int = 0
    caller_retries: int = 0
    reads: int = 0
    listings: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self, kind: str) -> str:
        rate = self.appends / self.seconds if self.seconds else 0.0
        return (
            f"load[{kind}]: {WRITERS} writers x {APPENDS} appends over {SESSIONS} sessions, "
            f"{READERS} readers: {self.appends} appends in {self.seconds:.1f}s = {rate:.0f}/s; "
            f"CAS conflicts {self.conflicts}; botocore retries "
            f"{self.http_attempts - self.http_calls} of {self.http_calls} requests; "
            f"caller retries {self.caller_retries}; reads {self.reads}, listings {self.listings}"
        )


async def count_requests(store: S3Store, figures: Figures) -> None:
    """Count S3 calls and HTTP attempts (their difference is botocore's retries)."""
    client = await store.client()

    def call(**_: Any) -> None:
        figures.http_calls += 1

    def attempt(**_: Any) -> None:
        figures.http_attempts += 1

    client.meta.events.register("before-call.s3", call)
    client.meta.events.register("before-send.s3", attempt)


def check_history(ids: list[str]) -> None:
    """No duplicates, and every writer's messages in increasing order."""
    assert len(ids) == len(set(ids)), "a message is stored twice"
    last: dict[str, int] = {}
    for message_id in ids:
        writer, _, number = message_id.rpartition("-")
        assert int(number) > last.get(writer, -1), f"{message_id} out of its writer's order"
        last[writer] = int(number)


async def writer(number: int, store: S3Store, sessions: list[str], seed: int,
                 sent: dict[str, list[str]], figures: Figures) -> ChatMessageHistory:
    history = ChatMessageHistory(store)
    rng = random.Random(seed * 1000 + number)
    for i in range(APPENDS):
        session_id = sessions[rng.randrange(len(sessions))]
        message = Message.human(f"writer {number} message {i}", id=f"w{number:02d}-{i:05d}")
        for attempt in range(CALLER_RETRIES + 1):
            try:
                await history.append(session_id, message)
                break
            except (ConflictError, StorageUnavailableError) as exc:
                if attempt == CALLER_RETRIES:
                    raise
                figures.caller_retries += 1
                figures.errors.append(repr(exc))
        sent[session_id].append(message.id or "")
        figures.appends += 1
    return history


async def reader(manager: SessionManager, sessions: list[str], seed: int,
                 stop: asyncio.Event, figures: Figures) -> None:
    rng = random.Random(seed)
    seen: dict[str, list[str]] = {}
    while not stop.is_set():
        listed = [info.id for info in await manager.list_sessions()]
        assert listed == sessions  # creation order, nothing lost, nothing extra
        figures.listings += 1
        for _ in range(5):
            session_id = sessions[rng.randrange(len(sessions))]
            ids = [m.id or "" for m in await manager.memory().load(session_id)]
            check_history(ids)
            previous = seen.get(session_id, [])
            assert ids[: len(previous)] == previous, "a history lost or reordered messages"
            seen[session_id] = ids
            figures.reads += 1


async def run_load(endpoint: Endpoint, prefix: str, seed: int) -> Figures:
    figures = Figures()
    stores = [make_store(endpoint, prefix) for _ in range(WRITERS + READERS)]
    try:
        for store in stores:
            await count_requests(store, figures)
        setup = SessionManager(stores[0])
        sessions = [await setup.create_session() for _ in range(SESSIONS)]
        sent: dict[str, list[str]] = defaultdict(list)
        stop = asyncio.Event()
        readers = [
            asyncio.create_task(reader(SessionManager(stores[WRITERS + r]), sessions,
                                       seed + r, stop, figures))
            for r in range(READERS)
        ]
        started = time.perf_counter()
        try:
            histories = await asyncio.gather(*(
                writer(w, stores[w], sessions, seed, sent, figures) for w in range(WRITERS)
            ))
        finally:
            figures.seconds = time.perf_counter() - started
            stop.set()
            await asyncio.gather(*readers)
        figures.conflicts = sum(history.conflicts for history in histories)

        final = SessionManager(stores[0]).memory()
        total = 0
        for session_id in sessions:
            ids = [m.id or "" for m in await final.load(session_id)]
            check_history(ids)
            assert sorted(ids) == sorted(sent[session_id]), "lost or foreign messages"
            total += len(ids)
        assert total == WRITERS * APPENDS
        return figures
    finally:
        for store in stores:
            await store.close()


async def test_concurrent_writers_and_readers_lose_and_duplicate_nothing(
    endpoint: Endpoint, prefix: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = await asyncio.wait_for(run_load(endpoint, prefix, seed), DEADLINE)
    with capsys.disabled():
        print(f"\n{figures.line(endpoint.kind)}")
    assert figures.appends == WRITERS * APPENDS
    assert figures.reads > 0
    assert figures.listings > 0
