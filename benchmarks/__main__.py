"""``python -m benchmarks [--quick]``: run the workload on moto and SeaweedFS, print the tables,
write RESULTS.md and the plots. ``bash benchmarks/run.sh`` sets up the environment first."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import warnings
from pathlib import Path

from benchmarks import plots, report, results
from benchmarks.measure import Row
from benchmarks.profiling import Overhead, client_setup_ms, measure_overhead
from benchmarks.servers import ENDPOINT_KINDS, start
from benchmarks.workload import FULL, QUICK, Plan, Workload, capped, log

HERE = Path(__file__).resolve().parent
NOTES = """\
- The **raw call** is not a peer but the floor: the S3 calls synaptic-s3 made in each
  repetition, recorded on its client and re-issued right after it on a plain
  aiobotocore client with the settings every peer gets (reads of the same objects,
  writes of the same bytes with the same conditions to shadow keys, deletes of an
  identical twin; `benchmarks/raw.py`). The plain client parses listing timestamps
  with botocore's default parser, which synaptic-s3's client replaces with a faster
  one: listing-heavy operations can beat their raw call.
- The **rust-like baseline** is not a library: a few lines of raw aioboto3 that do
  what the Rust `synaptic` crate's S3 store does (unconditional read-modify-write
  appends, a GET per listed session, one DELETE per object, a full listing capped
  at 10,000 keys for the latest checkpoint). It reads the same objects as
  synaptic-s3 for listings and latest-checkpoint lookups.
- **Strands message-log** runs its `S3SessionManager` repository methods (boto3,
  synchronous); its "chat turn" is a stateless handler's turn (restore, then two
  appends); its client is built once, outside the measurements.
- **Strands snapshot** runs `SnapshotSessionManager` over Strands' own `S3Storage`
  (boto3 through `asyncio.to_thread`) on one real `strands.Agent` (never calling a
  model): restore = `restore_snapshot` (one GET, then `load_snapshot`), append = add a
  message and save `snapshot_latest` (its `save_latest_on="message"` hook: one PUT of
  the whole agent), chat turn = restore + two messages + one save (the default
  `"invocation"` strategy), create = the restore-on-init miss + the first save,
  delete = `delete_session` (a listing, then one DELETE per object).
- **langgraph-checkpoint-s3 0.1.3** does not run with current LangGraph: it calls
  `serde.dumps()`, which langgraph-checkpoint removed in 3.0, and current langgraph
  (1.2.x) needs langgraph-checkpoint >= 3. It is measured against
  langgraph-checkpoint 2.1.2; its request pattern (full listing, GET, listing of
  pending writes) does not depend on the serializer. It opens a new S3 client for
  every call, which its latency includes.
- Sizes grow in place, and appends made by earlier measurements are undone before
  the next operation; every chat turn starts from exactly N messages (appends add
  at most a few dozen messages during their own repetitions).
- Moto runs in a child process (not in the benchmark's interpreter); buckets are
  filled through moto's backend or unsigned PUTs, which is set-up, not measured.
"""


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repetitions (about a minute)")
    parser.add_argument("--endpoints", default=",".join(ENDPOINT_KINDS),
                        help="comma-separated: moto, seaweedfs (default: both)")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for RESULTS.md and plots "
                             "(default: benchmarks/, or benchmarks/.quick/ with --quick)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiling phase")
    parser.add_argument("--max-size", type=int, default=None, metavar="N",
                        help="leave out sizes (N, M) above this (a medium run: 1000)")
    parser.add_argument("--render", type=Path, default=None, metavar="RESULTS_JSON",
                        help="only re-render RESULTS.md and plots from a results.json")
    return parser.parse_args(argv)


def _run_endpoint(kind: str, plan: Plan, profile: bool) -> tuple[list[Row], list[Overhead],
                                                                  float | None]:
    quick = plan.name.startswith(QUICK.name)
    with start(kind) as target:
        log(f"--- {kind} at {target.endpoint.url}")
        rows = asyncio.run(Workload(target, plan).run())
        if not profile:
            return rows, [], None
        log(f"--- {kind}: profiling")
        largest = max(plan.sizes_n)
        sizes = (100, 1000) if quick else tuple(n for n in (100, 1000, 10_000) if n <= largest)
        reps = 5 if quick else 40
        overheads = asyncio.run(measure_overhead(target, reps=reps, profile_reps=reps,
                                                 sizes=sizes))
        return rows, overheads, asyncio.run(client_setup_ms(target))


def _publish(out: Path, command: str, plan: str, rows: list[Row], overheads: list[Overhead],
             setup_ms: dict[str, float], elapsed_s: float,
             machine_lines: list[str] | None = None) -> None:
    tables = [report.target_table(rows)]
    tables += [report.headline_table(rows, e) for e in sorted({r.endpoint for r in rows})]
    if overheads:
        tables.append(results.overhead_table(overheads, setup_ms))
    print("\n".join(table.text() for table in tables))
    images = plots.plot_all(rows, out)
    results.write(out / "RESULTS.md", command, plan, rows, overheads, setup_ms, images,
                  elapsed_s, NOTES, machine_lines)
    log(f"wrote {out / 'RESULTS.md'} and {len(images)} plots")


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    if args.render is not None:
        raw = results.load_raw(args.render)
        _publish(args.out or args.render.parent, raw["command"], raw["plan"], raw["rows"],
                 raw["overheads"], raw["setup_ms"], raw["elapsed_s"], raw["machine"])
        return 0
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="langgraph")  # a pending-deprecation notice
    out = args.out or (HERE / ".quick" if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rows: list[Row] = []
    overheads: list[Overhead] = []
    setup_ms: dict[str, float] = {}
    plan = QUICK if args.quick else FULL
    if args.max_size is not None:
        plan = capped(plan, args.max_size)
    for kind in [k.strip() for k in args.endpoints.split(",") if k.strip()]:
        found, overhead, setup = _run_endpoint(kind, plan, not args.no_profile)
        rows += found
        overheads += overhead
        if setup is not None:
            setup_ms[kind] = setup
    command = "bash benchmarks/run.sh" + "".join(f" {arg}" for arg in argv)
    elapsed = time.monotonic() - started
    results.save_raw(out / "results.json", command, plan.name, rows, overheads, setup_ms,
                     elapsed)
    _publish(out, command, plan.name, rows, overheads, setup_ms, elapsed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
