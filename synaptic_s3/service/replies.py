"""Building replies: JSON bodies as the API sends them, error replies (which record
their code on the request as they are built), and the reply descriptions of the
OpenAPI document that every router shares."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from synaptic_s3.service.context import ServiceRequest
from synaptic_s3.service.errors import error_body, outcome_for
from synaptic_s3.service.models import ErrorReply
from synaptic_s3.service.telemetry import log_failure

JSON = "application/json"


def dumps(payload: Any) -> str:
    """The one serialisation of reply bodies (compact, UTF-8 as is)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None
               ) -> Response[Any]:
    return Response(status_code=status, content_type=JSON, body=dumps(payload),
                    headers=headers)


def json_text_reply(status: int, body: str) -> Response[Any]:
    """A reply whose body was serialised already (by a size-bounded page)."""
    return Response(status_code=status, content_type=JSON, body=body)


def no_content() -> Response[Any]:
    return Response(status_code=204, content_type=None, body=None)


def error_reply(request: ServiceRequest, status: int, code: str, message: str,
                headers: dict[str, str] | None = None) -> Response[Any]:
    """``{"error": {...}}``, and the code noted on the request for its log line."""
    request.error_code = code
    return json_reply(status, error_body(code, message, request.request_id), headers or None)


def failure(request: ServiceRequest, exc: BaseException) -> Response[Any]:
    """The reply to any exception (see :func:`synaptic_s3.service.errors.outcome_for`)."""
    outcome = outcome_for(exc)
    log_failure(outcome.log_level, outcome.code, exc)
    return error_reply(request, outcome.status, outcome.code, outcome.message,
                       outcome.headers)


def lambda_reply(response: Response[Any]) -> dict[str, Any]:
    """A reply built outside the resolver, in the API Gateway v2.0 shape it returns."""
    headers = {key: value if isinstance(value, str) else ", ".join(value)
               for key, value in response.headers.items()}
    return {"statusCode": response.status_code, "headers": headers,
            "body": response.body, "isBase64Encoded": False}


# -- reply descriptions for the OpenAPI document -------------------------------------------

_ERROR = {"content": {JSON: {"model": ErrorReply}}}
COMMON_ERRORS: dict[int, Any] = {
    400: {"description": "Malformed id, JSON, cursor or parameter", **_ERROR},
    401: {"description": "ISOLATION_MODE=jwt and no verified subject", **_ERROR},
    422: {"description": "The body or a parameter does not match the schema", **_ERROR},
    500: {"description": "Internal error (no internals; quote request_id)", **_ERROR},
    503: {"description": "Storage unavailable after retries; retry later", **_ERROR},
}
NOT_FOUND = {404: {"description": "No such session", **_ERROR}}
BODY_ERRORS = {
    413: {"description": "Body larger than MAX_BODY_BYTES", **_ERROR},
    415: {"description": "Body is not application/json", **_ERROR},
}
CONFLICT = {409: {"description": "Concurrent writers kept winning; retry", **_ERROR}}
KEY_REUSED = {422: {"description": "The body or a parameter does not match the schema, or "
                    "the Idempotency-Key was used before with another request", **_ERROR}}


def described(status: int, description: str, model: Any | None, *extra: dict[int, Any]
              ) -> dict[int, Any]:
    """The ``responses`` of a route: its success reply, the common errors, ``extra``."""
    ok: dict[str, Any] = {"description": description}
    if model is not None:
        ok["content"] = {JSON: {"model": model}}
    merged: dict[int, Any] = {status: ok, **COMMON_ERRORS}
    for more in extra:
        merged.update(more)
    return dict(sorted(merged.items()))


def error_description(description: str) -> dict[str, Any]:
    """An error reply of the documented shape, for a route's own status codes."""
    return {"description": description, **_ERROR}
