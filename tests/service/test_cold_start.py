"""What the Lambda init loads and leaves behind (behaviour, not timing: the CPU time
is benchmarks/init.py's job). Each test imports ``handlers.app`` in a fresh process
configured as on Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set: the S3 client is created
during init, without a request)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Never needed to answer a request: the command line, the console, the framework
# integrations, the test helpers, boto3 (aiobotocore is enough), the file store, and
# the lifecycle modules that only some routes open, on first use.
NOT_AT_INIT = [
    "boto3", "aioboto3", "s3transfer",
    "synaptic_s3.cli", "synaptic_s3.console", "synaptic_s3.integrations", "synaptic_s3.testing",
    "synaptic_s3.store.file", "synaptic_s3.lifecycle.forks", "synaptic_s3.lifecycle.retention",
    "synaptic_s3.lifecycle.census", "synaptic_s3.lifecycle.orphans",
    "synaptic_s3.lifecycle.pruning",
]

SCRIPT = r"""
import gc, json, os, sys
sys.path.insert(0, sys.argv[1])
import handlers.app
from synaptic_s3.service.lambda_handler import app
from synaptic_s3.service import models
print(json.dumps({
    "reply_models_built": [name for name in ("SummaryOut", "SessionList", "MessageList",
                                             "MessagePageOut", "CheckpointList", "ErrorReply")
                           if getattr(models, name).__pydantic_complete__],
    "loaded": [m for m in json.loads(sys.argv[2])
               if any(n == m or n.startswith(m + ".") for n in sys.modules)],
    "open_clients": app.store.open_clients,
    "collecting": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "plugins": os.environ.get("PYDANTIC_DISABLE_PLUGINS"),
}))
"""


def _init(**env: str) -> dict[str, object]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "SYNAPTIC_", "PYDANTIC_"))}
    environ.update({
        "AWS_LAMBDA_FUNCTION_NAME": "synaptic-s3-test", "SESSIONS_BUCKET": "cold-start",
        "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
        "AWS_EC2_METADATA_DISABLED": "true", "LOG_LEVEL": "WARNING", **env,
    })
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT), json.dumps(NOT_AT_INIT)],
                          env=environ, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_init_creates_the_client_and_loads_nothing_a_request_does_not_need() -> None:
    result = _init()
    assert result["open_clients"] == 1
    assert result["loaded"] == []


def test_reply_models_are_left_for_the_openapi_document() -> None:
    assert _init()["reply_models_built"] == []


def test_init_leaves_the_collector_running_with_its_objects_frozen() -> None:
    result = _init()
    assert result["collecting"] is True
    assert isinstance(result["frozen"], int)
    assert result["frozen"] > 0


def test_pydantic_plugin_discovery_is_off_by_default() -> None:
    assert _init()["plugins"] == "__all__"


def test_an_explicit_pydantic_plugin_setting_is_kept() -> None:
    assert _init(PYDANTIC_DISABLE_PLUGINS="")["plugins"] == ""
