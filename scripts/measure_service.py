#!/usr/bin/env python3
"""Measure the Lambda handler: cold import, first request, warm latency per operation.

    python scripts/measure_service.py [--server moto|seaweedfs] [--n 200]

Runs ``handlers.app.handler`` in THIS process (as a Lambda container would) against a
local S3 server on loopback, configured only by environment variables. The numbers
in docs/service.md come from here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from synaptic_s3.testing import Endpoint  # noqa: E402


def import_time(extra_env: dict[str, str] | None = None) -> tuple[float, float]:
    """(min wall ms of `import handlers.app` beyond a bare interpreter, min -X importtime
    cumulative ms) over 5 fresh processes: the minimum is the least disturbed by
    whatever else the machine runs."""
    env = {**os.environ, "SESSIONS_BUCKET": "measure", **(extra_env or {}),
           # never look for credentials beyond loopback (no instance metadata service)
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "measure",
           "AWS_SECRET_ACCESS_KEY": "measure"}
    walls, cumulative = [], []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
        bare = time.perf_counter() - start
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import handlers.app"],
                              check=True, env=env, cwd=ROOT, capture_output=True, text=True)
        walls.append((time.perf_counter() - start - bare) * 1000)
        for line in done.stderr.splitlines():
            if line.rstrip().endswith("| handlers.app"):
                cumulative.append(int(line.split("|")[1]) / 1000)
    return min(walls), min(cumulative)


_CPU = "import resource as _r; _u = _r.getrusage(_r.RUSAGE_SELF); " \
    "print('CPU', (_u.ru_utime + _u.ru_stime) * 1000)"
FLOOR = """
import asyncio, aiobotocore.session, pydantic
async def main():
    async with aiobotocore.session.get_session().create_client("s3", region_name="us-east-1"):
        pass
asyncio.run(main())
"""
INIT_VARIANTS = {
    "bare interpreter": ("pass", {}),
    "floor: aiobotocore + pydantic + one S3 client": (FLOOR, {}),
    "handler init as on Lambda (import + store + client)": (
        "import handlers.app", {"AWS_LAMBDA_FUNCTION_NAME": "measure"}),
    "  the same, PYDANTIC_DISABLE_PLUGINS=__all__": (
        "import handlers.app", {"AWS_LAMBDA_FUNCTION_NAME": "measure",
                                "PYDANTIC_DISABLE_PLUGINS": "__all__"}),
}


def init_cpu(repeat: int = 7) -> dict[str, float]:
    """Median CPU time (user + sys, ms, interpreter start included) of each init variant,
    each in fresh processes, interleaved so that a busy moment of the machine hits all."""
    env = {**os.environ, "SESSIONS_BUCKET": "measure", "AWS_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "measure",
           "AWS_SECRET_ACCESS_KEY": "measure", "POWERTOOLS_METRICS_DISABLED": "true"}
    samples: dict[str, list[float]] = {name: [] for name in INIT_VARIANTS}
    for _ in range(repeat):
        for name, (code, extra) in INIT_VARIANTS.items():
            done = subprocess.run([sys.executable, "-c", f"{code}\n{_CPU}"], check=True,
                                  env={**env, **extra}, cwd=ROOT, capture_output=True, text=True)
            line = [x for x in done.stdout.splitlines() if x.startswith("CPU ")][-1]
            samples[name].append(float(line.split()[1]))
    return {name: statistics.median(values) for name, values in samples.items()}


def import_breakdown(top: int = 15) -> list[tuple[str, float, float]]:
    """The costliest imports of ``import handlers.app`` (-X importtime, median of 3 runs):
    (module, self ms, cumulative ms), the largest cumulative first, nested ones included."""
    env = {**os.environ, "SESSIONS_BUCKET": "measure", "AWS_REGION": "us-east-1",
           "AWS_LAMBDA_FUNCTION_NAME": "measure", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ACCESS_KEY_ID": "measure", "AWS_SECRET_ACCESS_KEY": "measure"}
    runs: dict[str, list[tuple[float, float]]] = {}
    for _ in range(3):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import handlers.app"],
                              check=True, env=env, cwd=ROOT, capture_output=True, text=True)
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) != 3 or not parts[0].strip().startswith("import time:") or \
                    not parts[1].strip().isdigit():
                continue
            own = int(parts[0].split(":")[1]) / 1000
            runs.setdefault(parts[2].rstrip(), []).append((own, int(parts[1]) / 1000))
    rows = [(name, statistics.median(o for o, _ in v), statistics.median(c for _, c in v))
            for name, v in runs.items()]
    return sorted(rows, key=lambda row: -row[2])[:top]


def report_init() -> None:
    cpu = init_cpu()
    bare = cpu["bare interpreter"]
    floor = cpu["floor: aiobotocore + pydantic + one S3 client"]
    print("init CPU time (user + sys, median of 7 fresh processes, interpreter included):")
    for name, value in cpu.items():
        print(f"  {name:55s} {value:7.0f} ms  ({value - bare:6.0f} ms beyond bare; "
              f"{(value - bare) / (floor - bare):.2f}x the floor's)")
    print("costliest imports of handlers.app (-X importtime; self / cumulative ms):")
    for name, own, cumulative in import_breakdown():
        print(f"  {name:60s} {own:6.1f} / {cumulative:6.1f}")


@contextlib.contextmanager
def moto_process() -> Iterator[Endpoint]:
    """moto's server in its own process (in-process, it would share our GIL)."""
    from synaptic_s3.testing.servers import free_port

    port = free_port()
    process = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                                "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2.0)
        yield Endpoint(url=f"http://127.0.0.1:{port}", kind="moto")
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["moto", "seaweedfs", "memory"], default="moto",
                        help="memory: no S3 at all, the handler's own overhead")
    parser.add_argument("--n", type=int, default=200, help="requests per operation")
    parser.add_argument("--init-only", action="store_true",
                        help="only the init CPU against the floor, and the import breakdown")
    args = parser.parse_args()
    if args.init_only:
        report_init()
        return 0
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from synaptic_s3.testing import create_bucket, seaweedfs_server

    wall, cumulative = import_time()
    print(f"cold import of handlers.app: {wall:.0f} ms wall beyond a bare interpreter, "
          f"{cumulative:.0f} ms cumulative (-X importtime)")
    wall, _ = import_time({"AWS_LAMBDA_FUNCTION_NAME": "measure", "AWS_REGION": "us-east-1"})
    print(f"cold import as on Lambda (S3 client created during init): {wall:.0f} ms wall")
    server: contextlib.AbstractContextManager[Endpoint | None] = (
        moto_process() if args.server == "moto"
        else seaweedfs_server() if args.server == "seaweedfs" else contextlib.nullcontext())
    with server as endpoint:
        if endpoint is None:
            os.environ.update({"SYNAPTIC_STORE_URL": "memory://", "LOG_LEVEL": "ERROR",
                               "POWERTOOLS_METRICS_DISABLED": "true"})
        else:
            create_bucket(endpoint, "measure")
            os.environ.update({
                "SESSIONS_BUCKET": "measure", "SESSIONS_PREFIX": f"run-{int(time.time())}",
                "S3_ENDPOINT_URL": endpoint.url, "AWS_REGION": endpoint.region,
                "AWS_ACCESS_KEY_ID": endpoint.credentials["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": endpoint.credentials["aws_secret_access_key"],
                "LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true",
                "AWS_EC2_METADATA_DISABLED": "true",
            })
        from tests.service.events import Context, make_event

        start = time.perf_counter()
        import handlers.app as entry

        imported = time.perf_counter()
        first = entry.handler(make_event("POST", "/sessions"), Context())
        done = time.perf_counter()
        print(f"in-process import {1000 * (imported - start):.0f} ms; first request "
              f"{1000 * (done - imported):.0f} ms (with S3: botocore imported, client "
              "created, first connection)")
        sid = json.loads(first["body"])["id"]

        def timed(method: str, path: str, **kwargs: object) -> float:
            event = make_event(method, path, **kwargs)  # built outside the timing
            t0 = time.perf_counter()
            reply = entry.handler(event, Context())
            elapsed = (time.perf_counter() - t0) * 1000
            assert reply["statusCode"] < 300, reply
            return elapsed

        operations = {
            "POST /sessions": lambda i: timed("POST", "/sessions"),
            "GET /sessions/{id}": lambda i: timed("GET", f"/sessions/{sid}"),
            "POST .../messages": lambda i: timed("POST", f"/sessions/{sid}/messages",
                                                 body={"role": "human", "content": f"m{i}"}),
            "GET .../messages?last=20": lambda i: timed("GET", f"/sessions/{sid}/messages",
                                                        query={"last": "20"}),
            "PUT .../summary": lambda i: timed("PUT", f"/sessions/{sid}/summary",
                                               body={"summary": f"s{i}"}),
            "GET /sessions?limit=50": lambda i: timed("GET", "/sessions",
                                                      query={"limit": "50"}),
        }
        print(f"warm latency against {args.server} on loopback, {args.n} requests each "
              "(handler call, median / p95 ms):")
        for name, operation in operations.items():
            samples = sorted(operation(i) for i in range(args.n))
            p95 = samples[int(len(samples) * 0.95) - 1]
            print(f"  {name:28s} {statistics.median(samples):6.1f} / {p95:6.1f}")
        from synaptic_s3.service import lambda_handler

        lambda_handler.runner.run(lambda_handler.app.close())
    return 0


if __name__ == "__main__":
    sys.exit(main())
