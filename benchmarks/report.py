"""Tables, ratios and target checks from measured rows, as console text and as Markdown."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from benchmarks.measure import Row
from benchmarks.ours import LABEL as OURS

OPERATIONS = (
    "create session",
    "get session",
    "restore N messages",
    "append to warm history",
    "chat turn",
    "chat turn (append_many)",
    "list N sessions",
    "put checkpoint",
    "latest checkpoint",
    "delete session (M objects)",
)
RAW = "raw call"
STRANDS_LOG = "strands S3SessionManager"
STRANDS_SNAPSHOT = "strands snapshot"
LANGGRAPH = "langgraph-checkpoint-s3"
BASELINE = "rust-like baseline"
SYSTEM_ORDER = (OURS, RAW, BASELINE, STRANDS_LOG, STRANDS_SNAPSHOT, LANGGRAPH)
# The summary's ratio columns, in order, with their headers.
SUMMARY_PEERS = ((RAW, "ours / raw call"), (STRANDS_LOG, "ours / Strands message-log"),
                 (STRANDS_SNAPSHOT, "ours / Strands snapshot"),
                 (LANGGRAPH, "ours / langgraph-checkpoint-s3"),
                 (BASELINE, "ours / rust-like baseline"))


def _system_order(system: str) -> tuple[int, str]:
    known = SYSTEM_ORDER.index(system) if system in SYSTEM_ORDER else len(SYSTEM_ORDER)
    return (known, system)


# What the peers' rows of an operation are compared with (ours has two chat-turn variants).
_PEER_OPERATION = {"chat turn (append_many)": "chat turn"}


def _number(value: float) -> str:
    return f"{value:g}" if value < 1e6 else f"{value:,.0f}"


def _bytes(value: float) -> str:
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} B"


def _requests(row: Row) -> str:
    low, high = min(row.requests), max(row.requests)
    return f"{low}" if low == high else f"{low}-{high} (median {_number(row.median_requests)})"


def _calls(row: Row) -> str:
    calls = row.by_operation.items()
    return ", ".join(f"{name} {_number(round(count, 2))}" for name, count in calls)


def _ratio(ours: float, theirs: float) -> str:
    return "-" if theirs == 0 else f"{ours / theirs:.2g}"


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]

    def markdown(self) -> str:
        lines = [f"#### {self.title}", "", "| " + " | ".join(self.header) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in self.rows]
        return "\n".join(lines) + "\n"

    def text(self) -> str:
        widths = [max(len(cells[i]) for cells in [self.header, *self.rows])
                  for i in range(len(self.header))]
        out = [f"== {self.title} =="]
        for cells in [self.header, *self.rows]:
            out.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths,
                                                                           strict=True)))
        return "\n".join(out) + "\n"


def _find(rows: Iterable[Row], endpoint: str, operation: str, system: str,
          size: int | None) -> Row | None:
    for row in rows:
        if (row.endpoint, row.operation, row.system, row.size) == (endpoint, operation, system,
                                                                    size):
            return row
    return None


def operation_tables(rows: list[Row]) -> list[Table]:
    """One table per endpoint and operation: every system at every size, with ratios of
    synaptic-s3 to the row's system at the same size."""
    tables = []
    endpoints = sorted({row.endpoint for row in rows})
    for endpoint in endpoints:
        for operation in OPERATIONS:
            selected = [r for r in rows if r.endpoint == endpoint and r.operation == operation]
            if not selected:
                continue
            peers = [r for r in rows if r.endpoint == endpoint
                     and r.operation == _PEER_OPERATION.get(operation, operation)
                     and r.system not in (OURS, RAW)]
            body = []
            for row in sorted(selected + (peers if operation in _PEER_OPERATION else []),
                              key=lambda r: (r.size or 0, _system_order(r.system))):
                ours = _find(rows, endpoint, operation, OURS, row.size)
                mine = row.system == OURS and row.operation == operation
                body.append([
                    "-" if row.size is None else f"{row.size:,}", row.system, _requests(row),
                    _calls(row), _bytes(row.bytes_moved), f"{row.median_ms:.1f}",
                    f"{row.p95_ms:.1f}", str(row.reps),
                    "-" if mine or ours is None else _ratio(ours.median_requests,
                                                            row.median_requests),
                    "-" if mine or ours is None else _ratio(ours.median_ms, row.median_ms),
                ])
            tables.append(Table(
                f"{endpoint}: {operation}",
                ["N/M", "system", "requests", "S3 calls per op", "bytes moved", "median ms",
                 "p95 ms", "reps", "requests ours/theirs", "latency ours/theirs"],
                body))
    return tables


def scaling_table(rows: list[Row], endpoint: str) -> Table:
    """Requests per operation against N (or M): one line per operation and system."""
    sized = [r for r in rows if r.endpoint == endpoint and r.size is not None]
    sizes = sorted({r.size for r in sized if r.size is not None})
    lines = []
    for operation in OPERATIONS:
        systems = sorted({r.system for r in sized if r.operation == operation},
                         key=_system_order)
        for system in systems:
            cells = [operation, system]
            for size in sizes:
                row = _find(sized, endpoint, operation, system, size)
                cells.append("" if row is None else _number(row.median_requests))
            lines.append(cells)
    return Table(f"{endpoint}: requests per operation against N (messages, sessions) or "
                 "M (checkpoints, objects)",
                 ["operation", "system", *(f"{size:,}" for size in sizes)], lines)


# -- targets ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    operation: str
    target: str
    check: Callable[[Row], bool]


def _no_gets(row: Row) -> bool:
    return not row.by_operation.get("GetObject")


def _sealed_reads(row: Row) -> float:
    """The requests a segmented history adds to a restore: 0 while it is one object;
    past ``segment_bytes``, its listing and the sealed segments' GETs (concurrent)."""
    lists = row.by_operation.get("ListObjectsV2", 0)
    return lists + (row.by_operation.get("GetObject", 1) - 1 if lists else 0)


def _restore_ok(row: Row) -> bool:
    """1 request while the history is one object; past it 1 listing and the
    segments, each at least half of segment_bytes (1 MiB), so at most one GET per
    512 KiB read, plus the tail."""
    if row.median_requests == 1:
        return True
    reads = row.samples[0].tally
    limit = 1 + math.ceil(reads.bytes_in / 524_288)
    return (row.by_operation.get("ListObjectsV2") == 1
            and row.by_operation.get("GetObject", 0) <= limit)


TARGETS = (
    Target("create session", "1", lambda r: r.median_requests == 1),
    Target("get session", "1", lambda r: r.median_requests == 1),
    Target("restore N messages", "1 under segment_bytes (1 MiB); past it 1 listing + 1 GET "
           "per segment (>= 512 KiB each), concurrent", _restore_ok),
    Target("append to warm history", "1", lambda r: r.median_requests == 1),
    Target("chat turn", "restore + 2", lambda r: r.median_requests - _sealed_reads(r) <= 3),
    Target("chat turn (append_many)", "restore + 1",
           lambda r: r.median_requests - _sealed_reads(r) <= 2),
    Target("list N sessions", "ceil(N/1000) listings, no GET",
           lambda r: r.median_requests == math.ceil((r.size or 1) / 1000) and _no_gets(r)),
    Target("latest checkpoint", "<= 2 up to 1,000 in the last hour; <= 5 up to 10,000 "
           "(the thread written with StoreCheckpointer's hint: 2 listings + 2 GETs)",
           lambda r: r.median_requests <= (2 if (r.size or 0) <= 1000 else 5)),
    Target("delete session (M objects)", "~ 2*ceil(M/1000) (+3)",
           lambda r: r.median_requests <= 2 * math.ceil((r.size or 1) / 1000) + 3),
)


def target_table(rows: list[Row]) -> Table:
    lines = []
    for target in TARGETS:
        for endpoint in sorted({r.endpoint for r in rows}):
            mine = sorted((r for r in rows if r.endpoint == endpoint and r.system == OURS
                           and r.operation == target.operation), key=lambda r: r.size or 0)
            if not mine:
                continue
            measured = ", ".join(
                _number(r.median_requests) if r.size is None
                else f"{r.size:,}: {_number(r.median_requests)}" for r in mine)
            failed = [r for r in mine if not target.check(r)]
            verdict = "met" if not failed else "NOT met at " + ", ".join(
                f"{r.size:,}" if r.size is not None else "-" for r in failed)
            lines.append([target.operation, target.target, endpoint, measured, verdict])
    return Table("targets (synaptic-s3 requests per operation; sizes are N or M)",
                 ["operation", "target", "endpoint", "measured", "verdict"], lines)


def _latency_ratio(ours: Row, theirs: Row | None) -> str:
    if theirs is None or theirs.median_ms == 0:
        return ""
    ratio = ours.median_ms / theirs.median_ms
    shown = f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"
    return f"{shown} ({_number(theirs.median_requests)} req)"


def summary_table(rows: list[Row], endpoint: str) -> Table:
    """One line per (operation, size) of synaptic-s3: its median latency and requests,
    then its median latency divided by each peer's at the same operation and size
    (blank where the peer has no such operation), with the peer's requests."""
    lines = []
    for operation in OPERATIONS:
        mine = sorted((r for r in rows if r.endpoint == endpoint and r.system == OURS
                       and r.operation == operation), key=lambda r: r.size or 0)
        peer_operation = _PEER_OPERATION.get(operation, operation)
        for ours in mine:
            cells = [operation, "-" if ours.size is None else f"{ours.size:,}",
                     f"{ours.median_ms:.1f}", _number(ours.median_requests)]
            for system, _ in SUMMARY_PEERS:
                wanted = operation if system == RAW else peer_operation
                cells.append(_latency_ratio(ours, _find(rows, endpoint, wanted, system,
                                                        ours.size)))
            lines.append(cells)
    return Table(f"{endpoint}: synaptic-s3 against the raw call and every peer, same run "
                 "(median latency ratio, ours / theirs; their requests in brackets)",
                 ["operation", "N/M", "ours median ms", "ours requests",
                  *(header for _, header in SUMMARY_PEERS)], lines)


def headline_table(rows: list[Row], endpoint: str) -> Table:
    """Requests per operation, all systems side by side, at the largest size measured."""
    systems = sorted({r.system for r in rows if r.endpoint == endpoint}, key=_system_order)
    lines = []
    for operation in OPERATIONS:
        selected = [r for r in rows if r.endpoint == endpoint and r.operation == operation]
        if not selected:
            continue
        sizes = sorted({r.size for r in selected}, key=lambda s: s or 0)
        for size in sizes:
            cells = [operation, "-" if size is None else f"{size:,}"]
            peer_operation = _PEER_OPERATION.get(operation, operation)
            for system in systems:
                row = _find(rows, endpoint,
                            operation if system in (OURS, RAW) else peer_operation, system, size)
                cells.append("" if row is None else
                             f"{_number(row.median_requests)} ({row.median_ms:.1f} ms)")
            lines.append(cells)
    return Table(f"{endpoint}: requests (median latency) per operation, side by side",
                 ["operation", "N/M", *systems], lines)
