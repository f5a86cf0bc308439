"""Smoke test of the Lambda artifact (run by infra/smoke.sh).

The artifact built by infra/lambda/Makefile (for this machine's platform) is imported by
an interpreter that sees nothing else (``python -S``: no site-packages), with the
environment template.yaml gives the functions, and its handler answers API Gateway v2
events against a moto S3 server on loopback. A missing requirement, a module left out of
the artifact or an import that needs the developer's venv fails here, not in AWS.

Usage: python infra/smoke.py ARTIFACT_DIR LAMBDA_PYTHON
  (this script runs in the project's .venv for moto; LAMBDA_PYTHON runs the artifact)
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from synaptic_s3.testing import create_bucket, moto_server

BUCKET = "synaptic-smoke"

# Runs inside the isolated interpreter: imports every shipped module, then the calls.
DRIVER = r"""
import importlib, json, pkgutil, sys, uuid
artifact = sys.argv[1]
sys.path.insert(0, artifact)
modules = []
for package in ("synaptic_s3", "handlers"):
    root = importlib.import_module(package)
    modules.append(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(info.name)
        modules.append(info.name)
from handlers.app import handler

class Context:
    function_name = "synaptic-s3-smoke"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:synaptic-s3-smoke"
    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())
    def get_remaining_time_in_millis(self):
        return 10_000

def call(method, path, body=None):
    path, _, query = path.partition("?")
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&") if p),
        "headers": {"content-type": "application/json", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "smoke", "domainName": "smoke.example",
            "domainPrefix": "smoke", "requestId": str(uuid.uuid4()), "routeKey": "$default",
            "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "smoke"},
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = json.dumps(body)
    response = handler(event, Context())
    return response["statusCode"], json.loads(response.get("body") or "null")

results = []
status, created = call("POST", "/sessions")
results.append(("POST /sessions", status))
session = f"/sessions/{created['id']}"
message = {"role": "human", "content": "hello from the artifact"}
results.append(("POST messages", call("POST", session + "/messages", message)[0]))
status, listed = call("GET", session + "/messages")
results.append(("GET messages", status, len(listed["messages"])))
results.append(("GET messages?last=1", call("GET", session + "/messages?last=1")[0]))
results.append(("PUT summary", call("PUT", session + "/summary", {"summary": "s"})[0]))
results.append(("GET summary", call("GET", session + "/summary")[0]))
status, checkpoint = call("POST", session + "/checkpoints", {"state": {"k": [1, 2]}})
results.append(("POST checkpoints", status))
results.append(("GET checkpoints", call("GET", session + "/checkpoints")[0]))
results.append(("GET checkpoints/latest", call("GET", session + "/checkpoints/latest")[0]))
results.append(("GET checkpoint", call("GET", session + "/checkpoints/" + checkpoint["id"])[0]))
results.append(("GET session", call("GET", session)[0]))
results.append(("GET /sessions", call("GET", "/sessions?limit=1")[0]))
results.append(("DELETE messages", call("DELETE", session + "/messages")[0]))
results.append(("GET missing session", call("GET", "/sessions/no-such-session")[0]))
results.append(("DELETE session", call("DELETE", session)[0]))
results.append(("GET deleted session", call("GET", session)[0]))
print(json.dumps({"modules": len(modules), "results": results}))
"""

EXPECTED = [
    ["POST /sessions", 201],
    ["POST messages", 201],
    ["GET messages", 200, 1],
    ["GET messages?last=1", 200],
    ["PUT summary", 200],
    ["GET summary", 200],
    ["POST checkpoints", 201],
    ["GET checkpoints", 200],
    ["GET checkpoints/latest", 200],
    ["GET checkpoint", 200],
    ["GET session", 200],
    ["GET /sessions", 200],
    ["DELETE messages", 204],
    ["GET missing session", 404],
    ["DELETE session", 204],
    ["GET deleted session", 404],
]


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    artifact, lambda_python = Path(sys.argv[1]).resolve(), sys.argv[2]
    with moto_server() as endpoint:
        create_bucket(endpoint, BUCKET)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # What template.yaml sets (AuthMode iam, no KMS key) ...
            "SESSIONS_BUCKET": BUCKET,
            "SESSIONS_PREFIX": "sessions",
            "ISOLATION_MODE": "none",
            "MAX_BODY_BYTES": "1048576",
            "LOG_LEVEL": "WARN",
            "POWERTOOLS_SERVICE_NAME": "synaptic-s3",
            "POWERTOOLS_METRICS_NAMESPACE": "SynapticS3",
            "SSE_MODE": "AES256",
            # ... what Lambda sets, and the local S3 endpoint instead of AWS.
            "AWS_REGION": endpoint.region,
            "AWS_DEFAULT_REGION": endpoint.region,
            "AWS_ACCESS_KEY_ID": endpoint.credentials["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": endpoint.credentials["aws_secret_access_key"],
            "S3_ENDPOINT_URL": endpoint.url,
        }
        completed = subprocess.run(
            [lambda_python, "-S", "-c", DRIVER, str(artifact)],
            env=environment, capture_output=True, text=True, timeout=120, check=False,
        )
    if completed.returncode != 0:
        print(completed.stdout + completed.stderr, file=sys.stderr)
        print("smoke: the artifact failed to import or to answer", file=sys.stderr)
        return 1
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    if report["results"] != EXPECTED:
        print(f"smoke: expected {EXPECTED}\n       got      {report['results']}", file=sys.stderr)
        return 1
    print(f"smoke: {report['modules']} modules imported from the artifact alone; "
          f"{len(EXPECTED)} calls answered as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
