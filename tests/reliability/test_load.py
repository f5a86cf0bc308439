"""A bounded load test on loopback: many writers appending to shared sessions while
readers list and load, against moto server and SeaweedFS.

Every writer is its own "process" (its own S3Store, connection pool and history
cache) and appends its numbered messages to sessions picked by a seeded random
generator; readers keep listing sessions and loading histories, checking each
read (no duplicate, every writer's messages in its own order, every history only
grows). At the end every history holds exactly the messages sent to it, once, in
each writer's order.

A third run does the same on SeaweedFS through a FaultProxy injecting SlowDown,
dropped connections and lost answers into 6% of all requests (seeded).

Sizes: the CI variant (default) runs 16 writers x 30 appends over 50 sessions;
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
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.reliability.helpers import make_store

pytestmark = [pytest.mark.s3, pytest.mark.slow]

SOAK = os.environ.get("SYNAPTIC_SOAK") == "1"
WRITERS = 16
READERS = 4
SESSIONS = 50
APPENDS = int(os.environ.get("SYNAPTIC_SOAK_APPENDS", "200" if SOAK else "30"))
READ_EVERY = 48
"""Each reader lists and loads once per this many appends (and once at the end)."""
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


class Progress:
    """How many appends have landed; readers wait on it (no sleeping, no busy loop)."""

    def __init__(self) -> None:
        self.appends = 0
        self.done = False
        self._changed = asyncio.Condition()

    async def advance(self) -> None:
        async with self._changed:
            self.appends += 1
            self._changed.notify_all()

    async def finish(self) -> None:
        async with self._changed:
            self.done = True
            self._changed.notify_all()

    async def reached(self, appends: int) -> bool:
        """Wait until ``appends`` have landed (True) or the writers are done (False)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.appends >= appends or self.done)
            return not self.done


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
                 sent: dict[str, list[str]], figures: Figures,
                 progress: Progress) -> ChatMessageHistory:
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
        await progress.advance()
    return history


async def reader(manager: SessionManager, sessions: list[str], seed: int,
                 progress: Progress, figures: Figures) -> None:
    """A round of reads every READ_EVERY appends, and one more after the writers."""
    rng = random.Random(seed)
    seen: dict[str, list[str]] = {}
    next_round = 0
    while True:
        writing = await progress.reached(next_round)
        next_round += READ_EVERY
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
        if not writing:
            return


async def run_load(endpoint: Endpoint, prefix: str, seed: int, url: str | None = None
                   ) -> Figures:
    figures = Figures()
    stores = [make_store(endpoint, prefix, url=url) for _ in range(WRITERS + READERS)]
    try:
        for store in stores:
            await count_requests(store, figures)
        setup = SessionManager(stores[0])
        sessions = [await setup.create_session() for _ in range(SESSIONS)]
        sent: dict[str, list[str]] = defaultdict(list)
        progress = Progress()
        readers = [
            asyncio.create_task(reader(SessionManager(stores[WRITERS + r]), sessions,
                                       seed + r, progress, figures))
            for r in range(READERS)
        ]
        started = time.perf_counter()
        try:
            histories = await asyncio.gather(*(
                writer(w, stores[w], sessions, seed, sent, figures, progress)
                for w in range(WRITERS)
            ))
        finally:
            figures.seconds = time.perf_counter() - started
            await progress.finish()
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


FAULT_RATES = {
    "slow_down": (Fault.slow_down(), 0.03),
    "drop": (Fault.drop(), 0.01),
    "lost answer (500)": (Fault.lose_answer("error"), 0.01),
    "lost answer (drop)": (Fault.lose_answer("drop"), 0.01),
}
"""Injected on every kind of request, at these seeded rates (6% of requests)."""


@pytest.mark.parametrize("endpoint", ["seaweedfs"], indirect=True)
async def test_the_same_load_under_faults_loses_and_duplicates_nothing(
    endpoint: Endpoint, prefix: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FaultProxy(endpoint.url, seed=seed) as proxy:
        for fault, rate in FAULT_RATES.values():
            proxy.inject(fault, rate=rate, times=None)
        figures = await asyncio.wait_for(run_load(endpoint, prefix, seed, proxy.url), DEADLINE)
    injected = proxy.count(faulted=True)
    with capsys.disabled():
        print(f"\n{figures.line(endpoint.kind + ' + faults')}; "
              f"faults injected {injected} of {proxy.count()} requests")
    assert figures.appends == WRITERS * APPENDS
    assert injected > 0
    assert figures.http_attempts - figures.http_calls > 0  # botocore did retry
