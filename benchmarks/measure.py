"""Timing and counting one operation, repetition by repetition.

Each repetition is counted on its own (requests, bytes) and timed with
``perf_counter``; set-up that must run before a repetition (re-seeding a deleted
session, say) runs outside both. Results are kept raw in :class:`Row` so reports
can show medians, 95th percentiles and ratios without re-running anything.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.counting import RequestCounter, Tally
from benchmarks.raw import Recorder, Replayer


@dataclass(frozen=True)
class Sample:
    tally: Tally
    seconds: float


@dataclass
class Row:
    """Every repetition of one operation by one system at one size on one endpoint."""

    endpoint: str
    operation: str
    system: str
    size: int | None
    samples: list[Sample] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "operation": self.operation, "system": self.system,
                "size": self.size,
                "samples": [{"requests": s.tally.requests, "bytes_out": s.tally.bytes_out,
                             "bytes_in": s.tally.bytes_in, "calls": s.tally.by_operation,
                             "seconds": s.seconds} for s in self.samples]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        samples = [Sample(Tally(s["requests"], s["bytes_out"], s["bytes_in"], s["calls"]),
                          s["seconds"]) for s in data["samples"]]
        return cls(data["endpoint"], data["operation"], data["system"], data["size"], samples)

    @property
    def reps(self) -> int:
        return len(self.samples)

    @property
    def requests(self) -> list[int]:
        return [sample.tally.requests for sample in self.samples]

    @property
    def median_requests(self) -> float:
        return statistics.median(self.requests)

    @property
    def by_operation(self) -> dict[str, float]:
        """Requests per S3 operation, averaged over repetitions."""
        totals: dict[str, int] = {}
        for sample in self.samples:
            for name, count in sample.tally.by_operation.items():
                totals[name] = totals.get(name, 0) + count
        return {name: count / self.reps for name, count in sorted(totals.items())}

    @property
    def bytes_moved(self) -> float:
        return statistics.median(s.tally.bytes_out + s.tally.bytes_in for s in self.samples)

    @property
    def median_ms(self) -> float:
        return statistics.median(s.seconds for s in self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        """Nearest-rank 95th percentile; with fewer than 20 repetitions it is the maximum."""
        ordered = sorted(s.seconds for s in self.samples)
        rank = max(0, min(len(ordered) - 1, -(-95 * len(ordered) // 100) - 1))
        return ordered[rank] * 1000


Operation = Callable[[int], Awaitable[object]]
Setup = Callable[[int], Awaitable[object]]


@dataclass
class Paired:
    """The raw call measured alongside synaptic-s3: after each repetition of the
    library's operation (timed alone), the calls it made are replayed raw (timed
    alone) into :attr:`row`. ``reset`` (untimed) runs before the replay when the
    operation changed what it read (a chat turn's appends), so both read the same
    bytes."""

    recorder: Recorder
    replayer: Replayer
    row: Row
    reset: Setup | None = None


async def measure(
    row: Row,
    counter: RequestCounter,
    reps: int,
    operation: Operation,
    *,
    setup: Setup | None = None,
    warmup: bool = True,
    paired: Paired | None = None,
) -> Row:
    """Run ``operation(i)`` for i in range(reps), each counted and timed alone, after one
    uncounted warm-up call (fresh connections are not what is being compared) unless
    the operation is destructive. With ``paired``, the raw call follows every
    repetition (warm-up included), alternating, so both see the same machine load."""
    if warmup:
        if setup is not None:
            await setup(-1)
        await _recorded(operation, -1, paired)
        if paired is not None:
            await _replay(paired, -1, None)
    for index in range(reps):
        if setup is not None:
            await setup(index)
        before = counter.snapshot()
        started = time.perf_counter()
        await _recorded(operation, index, paired)
        elapsed = time.perf_counter() - started
        row.samples.append(Sample(counter.snapshot() - before, elapsed))
        if paired is not None:
            await _replay(paired, index, paired.row)
    return row


async def _recorded(operation: Operation, index: int, paired: Paired | None) -> None:
    if paired is None:
        await operation(index)
        return
    paired.recorder.start()
    try:
        await operation(index)
    finally:
        paired.recorder.stop()


async def _replay(paired: Paired, index: int, row: Row | None) -> None:
    calls = paired.recorder.calls
    if paired.reset is not None:
        await paired.reset(index)
    mapped = await paired.replayer.prepare(calls)
    counter = paired.replayer.counter
    before = counter.snapshot()
    started = time.perf_counter()
    await paired.replayer.replay(mapped)
    elapsed = time.perf_counter() - started
    if row is not None:
        row.samples.append(Sample(counter.snapshot() - before, elapsed))
