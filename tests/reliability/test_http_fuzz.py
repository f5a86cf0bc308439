"""Fuzz the HTTP API from its committed OpenAPI document (docs/openapi.json) with
schemathesis: every operation, schema-valid requests (positive: on a real session,
so bodies reach the library) and schema-violating ones (negative).

The handler runs in-process over S3 on a moto server, in jwt mode as one user; for
every generated request: no 5xx, no traceback or internals in the reply, errors in
the documented shape (``service_harness.check_reply``), the reply conforms to the
document (schemathesis' checks), and every S3 request it caused (read, write, list,
delete) stays inside that user's key prefix.

One schemathesis check is left out: ``positive_data_acceptance`` (a schema-valid
request must not get a 4xx). The document is looser than the API on purpose in
three places, each answered with a precise 4xx: ids in paths (the API refuses
characters a URL id may not hold, 400 ``invalid_id``), ``cursor`` (opaque: one the
API did not issue is 400 ``invalid_cursor``) and messages (per-role rules such as
"a chat message needs content" are not expressed in the schema: 422).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from synaptic_s3.testing import Endpoint
from tests.reliability.service_harness import Harness, StartResponse, bearer
from tests.service.events import make_event

pytestmark = [pytest.mark.s3]

DOCUMENT = Path(__file__).parents[2] / "docs" / "openapi.json"
USER = "fuzzer|1"
EXAMPLES = 200 if os.environ.get("SYNAPTIC_SOAK") == "1" else 12
"""Examples per operation and mode: 12 in CI, 200 in the opt-in soak run."""


class Dispatcher:
    """The WSGI app schemathesis calls: serves the committed document at /openapi.json
    and hands everything else to the harness a fixture installs."""

    harness: Harness | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/openapi.json":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [DOCUMENT.read_bytes()]
        assert self.harness is not None
        return self.harness.wsgi(environ, start_response)


DISPATCH = Dispatcher()
SCHEMA = schemathesis.openapi.from_wsgi("/openapi.json", DISPATCH)
LABELS = sorted(result.ok().label for result in SCHEMA.get_all_operations())
WITH_INPUT = sorted(
    f"{method.upper()} {path}"
    for path, operations in json.loads(DOCUMENT.read_text())["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
    or any(p["in"] == "query" for p in operation.get("parameters", ()))
)
"""Operations with a body or query parameters: the only ones schemathesis can send
schema-violating input to (any string is a valid path id in the document)."""
CASES = [(label, GenerationMode.POSITIVE) for label in LABELS] + [
    (label, GenerationMode.NEGATIVE) for label in WITH_INPUT]


@pytest.fixture(scope="module")
def harness(moto_endpoint: Endpoint) -> Iterator[Harness]:
    with asyncio.Runner() as runner:
        service = Harness(moto_endpoint, runner, isolation="jwt")
        DISPATCH.harness = service
        try:
            yield service
        finally:
            DISPATCH.harness = None
            service.close()


@pytest.fixture(scope="module")
def session_id(harness: Harness) -> str:
    event = make_event("POST", "/sessions", claims={"sub": USER})
    reply = harness.handle(event)
    assert reply.status == 201
    return str(reply.body["id"])


def test_the_document_covers_every_route() -> None:
    assert len(LABELS) == 18  # 13 + the lifecycle routes of issue 13


@pytest.mark.parametrize(("label", "mode"), [
    pytest.param(label, mode, id=f"{label}-{mode.value}") for label, mode in CASES])
def test_fuzz_operation(label: str, mode: GenerationMode, harness: Harness,
                        session_id: str) -> None:
    operation = SCHEMA.find_operation_by_label(label)
    assert operation is not None
    fixed = None
    if mode is GenerationMode.POSITIVE and "{session_id}" in operation.path:
        fixed = {"session_id": session_id}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

    @seed(len(label) * 1000 + (mode is GenerationMode.NEGATIVE))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: schemathesis.Case) -> None:
        since = len(harness.proxy.exchanges)
        case.call_and_validate(headers=bearer(USER), excluded_checks=[positive_data_acceptance])
        assert harness.strays(USER, since) == []

    check()


def test_no_content_replies_are_documented_without_a_body() -> None:
    document = json.loads(DOCUMENT.read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            reply = operation["responses"].get("204")
            assert reply is None or "content" not in reply, f"{method.upper()} {path}"
