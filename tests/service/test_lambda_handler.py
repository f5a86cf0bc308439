"""``handlers.app.handler`` as Lambda runs it: a fresh process configured only by the
environment, fed the committed ``sam local generate-event`` fixture and other events;
warm invocations reuse one event loop, one store and one S3 client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET

pytestmark = pytest.mark.s3

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from tests.service.events import FIXTURE, Context, make_event
import handlers.app as entry
from synaptic_s3.service import lambda_handler

results = {}
store = lambda_handler.app._store
assert store is not None  # opened during init (AWS_LAMBDA_FUNCTION_NAME is set)
assert store.open_clients == 1  # made during init, on the container's loop
client = lambda_handler.runner.run(store.client())
fixture = json.loads(FIXTURE.read_text())  # POST /path/to/resource, base64 body
results["fixture"] = entry.handler(fixture, Context())["statusCode"]
created = json.loads(entry.handler(make_event("POST", "/sessions"), Context())["body"])
sid = created["id"]
timings = []
for i in range(20):
    start = time.perf_counter()
    reply = entry.handler(make_event("POST", f"/sessions/{sid}/messages",
                                     body={"role": "human", "content": str(i)}), Context())
    timings.append((time.perf_counter() - start) * 1000)
    assert reply["statusCode"] == 201, reply
start = time.perf_counter()
listed = entry.handler(make_event("GET", f"/sessions/{sid}/messages"), Context())
read_ms = (time.perf_counter() - start) * 1000
results["messages"] = len(json.loads(listed["body"])["messages"])
results["same_store"] = lambda_handler.app.store is store
results["same_client"] = (lambda_handler.runner.run(store.client()) is client
                          and store.open_clients == 1)
results["append_ms"] = sorted(timings)[len(timings) // 2]
results["read_ms"] = read_ms
print(json.dumps(results))
"""


def test_handler_in_a_fresh_process_with_env_config(moto_endpoint: Endpoint) -> None:
    prefix = f"lambda-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "SESSIONS_BUCKET": BUCKET,
        "SESSIONS_PREFIX": prefix,
        "S3_ENDPOINT_URL": moto_endpoint.url,
        "AWS_REGION": moto_endpoint.region,
        "AWS_ACCESS_KEY_ID": moto_endpoint.credentials["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": moto_endpoint.credentials["aws_secret_access_key"],
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "SynapticS3Test",
        "AWS_LAMBDA_FUNCTION_NAME": "synaptic-s3-test",  # as on Lambda: client made at init
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("SYNAPTIC_STORE_URL", None)
    env.pop("AWS_SESSION_TOKEN", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    results = json.loads(lines[-1])
    assert results["fixture"] == 404  # the sample event's path is no route of this API
    assert results["messages"] == 20
    assert results["same_store"]
    assert results["same_client"]
    assert results["append_ms"] < 500
    # metrics are EMF lines on stdout, one per invocation, with the operation dimension
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    assert emf
    assert all(m["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SynapticS3Test"
                       for m in emf)
    assert any(m.get("operation") == "appendMessages" for m in emf)


def test_missing_configuration_is_500_not_a_crash() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SESSIONS_BUCKET", "SYNAPTIC_STORE_URL")}
    env["LOG_LEVEL"] = "ERROR"
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]);"
              "from tests.service.events import Context, make_event;"
              "import handlers.app as h;"
              "print(json.dumps(h.handler(make_event('GET', '/sessions'), Context())))")
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout.strip().splitlines()[-1])
    assert reply["statusCode"] == 500
    assert "SESSIONS_BUCKET is not set" in done.stdout  # in the error log, not the reply
    assert "SESSIONS_BUCKET" not in reply["body"]
