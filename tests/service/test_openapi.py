"""The committed OpenAPI document is exactly what the code generates."""

from __future__ import annotations

import json

from synaptic_s3.service.openapi import DEFAULT_PATH, generate, main

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
}


def test_committed_document_matches_the_code() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == generate(), (
        "docs/openapi.json is stale: run python -m synaptic_s3.service.openapi --write")
    assert main(["--check"]) == 0


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
