"""Handler cold start: our Lambda init against the floor any aiobotocore + pydantic
handler pays, as CPU time, in one run.

    .venv/bin/python -m benchmarks.init [--rounds 9] [--out benchmarks/INIT.md]

What runs where: the Lambda artifact itself, built by ``infra/lambda/Makefile`` for this
machine and this Python (the same trimmed packages and bytecode as the deployed one),
imported by ``python -S -B`` (no site-packages: only the artifact is visible; no
``__pycache__`` written, as on Lambda's read-only file system) with the environment
``template.yaml`` gives the functions. Each measurement is a fresh interpreter; the
kinds are interleaved round by round, so load on this shared machine hits them alike:

* ``bare``: the interpreter alone (``pass``);
* ``floor``: what any aiobotocore + pydantic handler pays at init: import pydantic (one
  model) and aiobotocore, create one S3 client;
* ``ours``: ``import handlers.app`` as Lambda does, which (``AWS_LAMBDA_FUNCTION_NAME``
  set) builds the service and creates the store's S3 client during init;
* ``ours, plugin discovery on``: the same with ``PYDANTIC_DISABLE_PLUGINS=""``;
* ``floor, collector paused``: the floor with the garbage collector off during init,
  as handlers/app.py does for ours (what that one trick is worth to anyone);
* ``floor`` and ``ours`` from an artifact built without bytecode (``BYTECODE=0``, what
  the package shipped before): Lambda cannot write ``__pycache__``, so every module is
  compiled on every cold start.

CPU time is the child's user + system time (``os.wait4``), from exec to the end of init
(the child leaves with ``os._exit``, so interpreter teardown is not counted). Medians
over ``--rounds``. ``-X importtime`` runs of ``floor`` and ``ours`` give the breakdown
(median self time per top-level package). Results go to ``--out`` (markdown); docs/service.md
quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = ROOT / "infra" / "lambda" / "Makefile"

# As template.yaml's Globals give them to the functions (the bucket is never contacted:
# init creates the client without sending a request), plus what Lambda itself sets.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "synaptic-s3-init-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
    "AWS_SECRET_ACCESS_KEY": "benchmark-secret",
    "AWS_SESSION_TOKEN": "benchmark-token",
    "SESSIONS_BUCKET": "synaptic-init-bench",
    "SESSIONS_PREFIX": "sessions",
    "ISOLATION_MODE": "none",
    "MAX_BODY_BYTES": "1048576",
    "LOG_LEVEL": "INFO",
    "POWERTOOLS_SERVICE_NAME": "synaptic-s3",
    "POWERTOOLS_METRICS_NAMESPACE": "SynapticS3",
    "SSE_MODE": "AES256",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}

_PRELUDE = """\
import os, sys, time
sys.path.insert(0, {artifact!r})
"""
_REPORT = """\
print(json.dumps({"cpu": time.process_time(), "modules": len(sys.modules), "ok": ok}))
sys.stdout.flush()
os._exit(0)
"""
BARE = """\
import json
ok = True
"""
FLOOR = """\
import asyncio, json
import aiobotocore.session
from pydantic import BaseModel

class Event(BaseModel):
    body: str

runner = asyncio.Runner()
client = runner.run(aiobotocore.session.get_session().create_client("s3").__aenter__())
ok = client.meta.service_model.service_name == "s3"
"""
OURS = """\
import json
import handlers.app
from synaptic_s3.service.lambda_handler import app
ok = app.store.open_clients == 1  # the client was created during init
"""

# The same inits cut into phases, each timed with time.process_time() in the child (CPU,
# unlike -X importtime's wall clock): what each part costs, in the order Lambda pays it.
_PHASE = "marks.append(({name!r}, time.process_time()))\n"
FLOOR_PHASES = "import asyncio, json\n" + \
    "marks = [('interpreter start-up, asyncio', time.process_time())]\n" + \
    "from pydantic import BaseModel\nclass Event(BaseModel):\n    body: str\n" + \
    _PHASE.format(name="pydantic (import, one model)") + \
    "import aiobotocore.session\n" + \
    _PHASE.format(name="aiobotocore, botocore, aiohttp (import)") + \
    "runner = asyncio.Runner()\n" + \
    "client = runner.run(aiobotocore.session.get_session().create_client('s3').__aenter__())\n" + \
    _PHASE.format(name="S3 client creation") + "ok = marks\n"
OURS_PHASES = """\
import asyncio, gc, json
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
gc.disable()
marks = [("interpreter start-up, asyncio", time.process_time())]
from pydantic import BaseModel
""" + _PHASE.format(name="pydantic (import)") + """\
from aiobotocore.config import AioConfig
import aiobotocore.session
""" + _PHASE.format(name="aiobotocore, botocore, aiohttp (import)") + """\
import aws_lambda_powertools.event_handler, aws_lambda_powertools.logging
import aws_lambda_powertools.metrics
""" + _PHASE.format(name="Powertools (event handler, logger, metrics)") + """\
import synaptic_s3.session, synaptic_s3.checkpoint, synaptic_s3.memory
""" + _PHASE.format(name="synaptic_s3 library (models, history, checkpoints)") + """\
import synaptic_s3.store.s3
""" + _PHASE.format(name="synaptic_s3 S3 store") + """\
import synaptic_s3.service.app
""" + _PHASE.format(name="service (routes, request models, resolver)") + """\
del os.environ["AWS_LAMBDA_FUNCTION_NAME"]  # build the app here, create the client below
from synaptic_s3.service import lambda_handler
""" + _PHASE.format(name="service app (config, resolver built)") + """\
lambda_handler.runner.run(lambda_handler.app.warm())
""" + _PHASE.format(name="S3 client creation") + """\
gc.enable()
gc.freeze()
""" + _PHASE.format(name="collector resumed, init objects frozen") + """\
ok = marks if lambda_handler.app.store.open_clients == 1 else False
"""


@dataclass(frozen=True)
class Kind:
    name: str
    code: str
    source_only: bool = False  # run on the artifact built without bytecode
    env: dict[str, str | None] = field(default_factory=dict)


KINDS = [
    Kind("bare", BARE),
    Kind("floor", FLOOR),
    Kind("ours", OURS),
    Kind("ours, plugin discovery on", OURS, env={"PYDANTIC_DISABLE_PLUGINS": ""}),
    Kind("floor, collector paused", "import gc\ngc.disable()\n" + FLOOR),
    Kind("floor, no bytecode", FLOOR, source_only=True),
    Kind("ours, no bytecode", OURS, source_only=True),
]


PYTHON = sys.executable
"""The interpreter that builds the artifact and runs the children (``--python``)."""


def python_version(python: str) -> str:
    """``X.Y.Z`` of an interpreter."""
    done = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def build_artifact(destination: Path, *, bytecode: bool) -> int:
    """The Lambda artifact for this machine and ``PYTHON``'s version; its size in KiB."""
    version = ".".join(python_version(PYTHON).split(".")[:2])
    built = subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", str(MAKEFILE), "artifact",
         f"ARTIFACTS_DIR={destination}", f"LAMBDA_PLATFORM=manylinux2014_{platform.machine()}",
         f"LAMBDA_PYTHON_VERSION={version}", f"PYTHON={PYTHON}",
         f"BYTECODE={1 if bytecode else 0}"],
        cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        raise RuntimeError(f"building the artifact failed:\n{built.stderr[-3000:]}")
    return sum(p.stat().st_size for p in destination.rglob("*") if p.is_file()) // 1024


def child_env(kind: Kind, home: Path) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "LANG": "C.UTF-8", **LAMBDA_ENV}
    for name, value in kind.env.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_child(kind: Kind, artifact: Path, home: Path, *extra: str) -> tuple[float, float, dict]:
    """(CPU ms, wall ms, what the child reported) of one fresh interpreter."""
    code = _PRELUDE.format(artifact=str(artifact)) + kind.code + _REPORT
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([PYTHON, "-S", "-B", *extra, "-c", code],
                                   env=child_env(kind, home), stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{kind.name} failed:\n{stderr[-3000:]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    if not report["ok"]:
        raise RuntimeError(f"{kind.name}: init did not do what it should")
    report["stderr"] = stderr
    return (usage.ru_utime + usage.ru_stime) * 1000, wall, report


def import_breakdown(stderr: str) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Self import time (ms) per top-level package, and the slowest modules (self)."""
    packages: dict[str, float] = defaultdict(float)
    modules: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line.split(":", 1)[1].split("|")
        name = name.strip()
        packages[name.split(".")[0]] += int(self_us) / 1000
        modules.append((name, int(self_us) / 1000))
    modules.sort(key=lambda item: -item[1])
    return dict(packages), modules


def median_breakdown(runs: list[tuple[dict[str, float], list[tuple[str, float]]]]
                     ) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """Per package and per module, the median over several ``-X importtime`` runs."""
    packages = {name: statistics.median(run[0].get(name, 0.0) for run in runs)
                for name in {n for run in runs for n in run[0]}}
    per_module: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for name, ms in run[1]:
            per_module[name].append(ms)
    modules = sorted(((name, statistics.median(values)) for name, values in per_module.items()),
                     key=lambda item: -item[1])
    return packages, modules


def _load() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.init", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("INIT.md"))
    parser.add_argument("--importtime-runs", type=int, default=5,
                        help="-X importtime runs of floor and ours for the breakdown")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter to build for and run (e.g. the runtime's 3.13: "
                             ".venv-infra/sam/bin/python); default: this one")
    parser.add_argument("--no-source", action="store_true",
                        help="skip the kinds on an artifact without bytecode")
    args = parser.parse_args(argv)
    global PYTHON
    found = shutil.which(args.python)
    if found is None:
        parser.error(f"--python {args.python}: not found")
    PYTHON = str(Path(found).absolute())  # the Makefile runs it from other directories
    kinds = [k for k in KINDS if not (args.no_source and k.source_only)]

    work = Path(tempfile.mkdtemp(prefix="synaptic-init-"))
    try:
        home = work / "home"
        home.mkdir()
        artifacts = {False: work / "bytecode"}
        print("building the artifact (bytecode)...", file=sys.stderr)
        sizes = {False: build_artifact(artifacts[False], bytecode=True)}
        if any(k.source_only for k in kinds):
            print("building the artifact (sources only)...", file=sys.stderr)
            artifacts[True] = work / "source"
            sizes[True] = build_artifact(artifacts[True], bytecode=False)
        load_before = _load()
        cpu: dict[str, list[float]] = defaultdict(list)
        wall: dict[str, list[float]] = defaultdict(list)
        modules: dict[str, int] = {}
        for round_no in range(args.rounds):
            shift = round_no % len(kinds)
            for kind in kinds[shift:] + kinds[:shift]:
                ms, wall_ms, report = run_child(kind, artifacts[kind.source_only], home)
                cpu[kind.name].append(ms)
                wall[kind.name].append(wall_ms)
                modules[kind.name] = report["modules"]
            print(f"round {round_no + 1}/{args.rounds}: "
                  + ", ".join(f"{k.name} {cpu[k.name][-1]:.0f}" for k in kinds), file=sys.stderr)
        load_after = _load()
        phases = {name: [run_child(Kind(name, code), artifacts[False], home)[2]["ok"]
                         for _ in range(args.rounds)]
                  for name, code in (("floor", FLOOR_PHASES), ("ours", OURS_PHASES))}
        breakdown = {name: median_breakdown([
            import_breakdown(run_child(kind, artifacts[False], home, "-X", "importtime")[2]
                             ["stderr"]) for _ in range(args.importtime_runs)])
            for name, kind in (("floor", KINDS[1]), ("ours", KINDS[2]))}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    text = render(args, kinds, cpu, wall, modules, sizes, breakdown, load_before, load_after)
    text += render_phases(phases)
    args.out.write_text(text)
    print(text)


def render(args: argparse.Namespace, kinds: list[Kind], cpu: dict[str, list[float]],
           wall: dict[str, list[float]], modules: dict[str, int], sizes: dict[bool, int],
           breakdown: dict[str, tuple[dict[str, float], list[tuple[str, float]]]],
           load_before: str, load_after: str) -> str:
    med = {name: statistics.median(values) for name, values in cpu.items()}
    bare, floor, ours = med["bare"], med["floor"], med["ours"]
    lines = [
        "# Handler cold start (init) vs the aiobotocore + pydantic floor",
        "",
        f"`.venv/bin/python -m benchmarks.init --rounds {args.rounds}"
        + (f" --python {args.python}" if args.python != sys.executable else "") + "` "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}); see the module docstring "
        "for what each kind runs. Python "
        f"{python_version(PYTHON)} on {platform.machine()}, {os.cpu_count()} cores "
        f"shared with other work (load average {load_before} before, {load_after} after). "
        f"Artifact: {sizes[False]:,} KiB unzipped with bytecode"
        + (f", {sizes[True]:,} KiB without" if True in sizes else "") + ".",
        "",
        f"**ours / floor = {ours / floor:.2f}x** CPU time (goal: <= 1.2x); beyond a bare "
        f"interpreter: {(ours - bare) / (floor - bare):.2f}x "
        f"({ours - bare:.0f} ms vs {floor - bare:.0f} ms).",
        "",
        "| kind | CPU ms (median) | min - max | wall ms (median) | vs floor | modules |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in kinds:
        values = cpu[kind.name]
        lines.append(
            f"| {kind.name} | {med[kind.name]:.0f} | {min(values):.0f} - {max(values):.0f} | "
            f"{statistics.median(wall[kind.name]):.0f} | {med[kind.name] / floor:.2f}x | "
            f"{modules[kind.name]} |")
    floor_pk, _ = breakdown["floor"]
    ours_pk, ours_modules = breakdown["ours"]
    names = sorted(set(floor_pk) | set(ours_pk), key=lambda n: -ours_pk.get(n, 0))
    lines += [
        "",
        f"## Import breakdown (`-X importtime`, median of {args.importtime_runs} runs each; "
        "wall ms, self time summed per top-level package; ours runs its whole init inside "
        "the import of `synaptic_s3.service.lambda_handler`, so that module's self time "
        "includes building the service and creating the client, which the floor does "
        "outside any import)",
        "",
        "| package | ours | floor | ours - floor |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in names[:20]:
        o, f = ours_pk.get(name, 0.0), floor_pk.get(name, 0.0)
        lines.append(f"| {name} | {o:.1f} | {f:.1f} | {o - f:+.1f} |")
    lines.append(f"| **all** | {sum(ours_pk.values()):.1f} | {sum(floor_pk.values()):.1f} | "
                 f"{sum(ours_pk.values()) - sum(floor_pk.values()):+.1f} |")
    lines += ["", "Slowest modules of ours (self ms): "
              + ", ".join(f"`{n}` {ms:.1f}" for n, ms in ours_modules[:12]) + ".", ""]
    return "\n".join(lines)


def render_phases(phases: dict[str, list[list[list[Any]]]]) -> str:
    """Median CPU ms of each phase (the difference between consecutive marks)."""
    lines = ["", "## Where the CPU goes (phases timed with `time.process_time()` in the "
             "child, medians; ours as handlers/app.py runs it: collector paused)", ""]
    for name, runs in phases.items():
        labels = [label for label, _ in runs[0]]
        per_phase = [statistics.median(
            (run[i][1] - (run[i - 1][1] if i else 0.0)) * 1000 for run in runs)
            for i in range(len(labels))]
        total = statistics.median(run[-1][1] * 1000 for run in runs)
        lines += [f"**{name}** (total {total:.0f} ms):", "", "| phase | CPU ms |",
                  "| --- | ---: |"]
        lines += [f"| {label} | {ms:.0f} |" for label, ms in zip(labels, per_phase, strict=True)]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
