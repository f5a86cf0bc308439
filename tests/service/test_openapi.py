"""The committed OpenAPI document is exactly what the code generates."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from synaptic_s3.service.openapi import DEFAULT_PATH, generate, main

ROOT = Path(__file__).resolve().parents[2]

EXPECTED_OPERATIONS = {
    ("post", "/sessions"): "createSession",
    ("get", "/sessions"): "listSessions",
    ("get", "/sessions/{session_id}"): "getSession",
    ("delete", "/sessions/{session_id}"): "deleteSession",
    ("post", "/sessions/{session_id}/messages"): "appendMessages",
    ("get", "/sessions/{session_id}/messages"): "listMessages",
    ("delete", "/sessions/{session_id}/messages"): "clearMessages",
    ("get", "/sessions/{session_id}/summary"): "getSummary",
    ("put", "/sessions/{session_id}/summary"): "putSummary",
    ("post", "/sessions/{session_id}/checkpoints"): "putCheckpoint",
    ("get", "/sessions/{session_id}/checkpoints"): "listCheckpoints",
    ("get", "/sessions/{session_id}/checkpoints/latest"): "getLatestCheckpoint",
    ("get", "/sessions/{session_id}/checkpoints/{checkpoint_id}"): "getCheckpoint",
    ("delete", "/sessions/{session_id}/checkpoints"): "pruneCheckpoints",
    ("post", "/sessions/{session_id}/lease"): "acquireLease",
    ("put", "/sessions/{session_id}/lease/{token}"): "renewLease",
    ("delete", "/sessions/{session_id}/lease/{token}"): "releaseLease",
    ("post", "/sessions/{session_id}/fork"): "forkSession",
}


def _pinned_powertools() -> str:
    for line in (ROOT / "handlers" / "requirements.txt").read_text().splitlines():
        if line.startswith("aws-lambda-powertools=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("handlers/requirements.txt pins no aws-lambda-powertools")


def test_committed_document_matches_the_code() -> None:
    committed = DEFAULT_PATH.read_text(encoding="utf-8")
    generated = generate()
    if version("aws-lambda-powertools") == _pinned_powertools():
        assert committed == generated, (
            "docs/openapi.json is stale: run python -m synaptic_s3.service.openapi --write")
        assert main(["--check"]) == 0
        return
    # Another Powertools release may lay the document out differently: the API itself
    # (paths, operations, parameters, bodies, replies, schemas) must still be the same.
    old, new = json.loads(committed), json.loads(generated)
    assert _api_of(old) == _api_of(new), "docs/openapi.json is stale: regenerate it"


def _api_of(document: dict[str, Any]) -> Any:
    operations = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            operations[(method, path)] = (
                operation["operationId"],
                sorted(p["name"] for p in operation.get("parameters", ())),
                json.dumps(operation.get("requestBody"), sort_keys=True),
                sorted(operation["responses"]),
            )
    return operations, sorted(document["components"]["schemas"])


def test_document_describes_every_route_and_the_error_shape() -> None:
    document = json.loads(generate())
    operations = {(method, path): op["operationId"]
                  for path, item in document["paths"].items() for method, op in item.items()}
    assert operations == EXPECTED_OPERATIONS
    error = document["components"]["schemas"]["ErrorDetail"]
    assert set(error["properties"]) == {"code", "message", "request_id"}
    for (method, path), _ in EXPECTED_OPERATIONS.items():
        responses = document["paths"][path][method]["responses"]
        assert {"400", "422", "500"} <= set(responses)
        if path != "/sessions":
            assert "404" in responses
    append = document["paths"]["/sessions/{session_id}/messages"]["post"]
    assert len(append["requestBody"]["content"]["application/json"]["schema"]["oneOf"]) == 2
