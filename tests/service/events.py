"""API Gateway HTTP API (v2.0) events for the handler tests, built from the fixture
that ``sam local generate-event apigateway http-api-proxy`` writes (committed as
``fixtures/http-api-proxy.json``): only method, path, query, headers, body and the
authorizer claims are changed, as API Gateway would fill them in."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

FIXTURE = Path(__file__).parent / "fixtures" / "http-api-proxy.json"
_TEMPLATE: dict[str, Any] = json.loads(FIXTURE.read_text())
_counter = itertools.count(1)
_last_epoch_ms = 0


def _next_epoch_ms() -> int:
    """Now in ms, strictly increasing from event to event: API Gateway stamps each
    request, and ids derived from the stamp sort in creation order only if two events
    made one after the other do not share a millisecond."""
    global _last_epoch_ms
    _last_epoch_ms = max(time.time_ns() // 1_000_000, _last_epoch_ms + 1)
    return _last_epoch_ms


class Context:
    """The attributes of a Lambda context that Powertools reads."""

    function_name = "synaptic-s3-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:synaptic-s3-test"

    def __init__(self) -> None:
        self.aws_request_id = f"lambda-{next(_counter)}"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def make_event(
    method: str,
    path: str,
    *,
    query: dict[str, str] | str | None = None,
    body: Any = None,
    raw_body: str | bytes | None = None,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """An HTTP API event for ``method path``; ``body`` is sent as JSON, ``raw_body``
    as given (bytes are sent base64-encoded, as API Gateway does for binary)."""
    event = copy.deepcopy(_TEMPLATE)
    request_id = f"req-{next(_counter)}"
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    event["rawPath"] = raw_path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = raw_path
    event["requestContext"]["requestId"] = request_id
    event["requestContext"]["timeEpoch"] = _next_epoch_ms()
    event["requestContext"]["stage"] = stage
    event["routeKey"] = "$default"
    event.pop("pathParameters", None)
    event.pop("cookies", None)
    if isinstance(query, dict):
        event["rawQueryString"] = urlencode(query)
        event["queryStringParameters"] = dict(query)
    elif isinstance(query, str):
        event["rawQueryString"] = query
        merged: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            merged[key] = f"{merged[key]},{value}" if key in merged else value
        event["queryStringParameters"] = merged
    else:
        event["rawQueryString"] = ""
        event.pop("queryStringParameters", None)
    event["headers"] = {"accept": "application/json", "user-agent": "pytest"}
    if claims is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body is not None:
        raw_body = json.dumps(body)
        event["headers"]["content-type"] = "application/json"
    if raw_body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif isinstance(raw_body, bytes) or base64_body:
        data = raw_body.encode() if isinstance(raw_body, str) else raw_body
        event["body"] = base64.b64encode(data).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = raw_body
        event["isBase64Encoded"] = False
    if headers:
        event["headers"].update({k.lower(): v for k, v in headers.items()})
    return event
