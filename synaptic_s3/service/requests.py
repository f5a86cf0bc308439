"""Screening of raw requests before routing: size, encoding, content type, strict JSON.

API Gateway hands the body over as text or base64; here it becomes UTF-8 text (or a
clear 400/413/415), so that nothing malformed reaches the resolver. JSON is parsed
strictly: no duplicate keys, no NaN/Infinity, no numbers beyond float range or
4,300 digits, at most :data:`MAX_JSON_DEPTH` levels of nesting.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any

from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.routing import encode_path

MAX_JSON_DEPTH = 64
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def screen_event(event: Mapping[str, Any], max_body_bytes: int) -> dict[str, Any]:
    """A copy of ``event`` whose body is plain UTF-8 text; :class:`ApiError` otherwise."""
    if not isinstance(event, Mapping) or not isinstance(event.get("requestContext"), Mapping):
        raise ApiError(400, "validation_error", "not an API Gateway HTTP API (v2.0) event")
    screened = dict(event)
    raw_path = event.get("rawPath")
    if isinstance(raw_path, str):  # ids of any characters reach their route
        screened["rawPath"] = encode_path(raw_path)
    body = event.get("body")
    if body is None or body == "":
        screened["body"] = None
        screened["isBase64Encoded"] = False
        return screened
    if not isinstance(body, str):
        raise ApiError(400, "invalid_json", "the body must be text")
    if event.get("isBase64Encoded"):
        if len(body) > (max_body_bytes + 2) // 3 * 4 + 4:
            raise _too_large(max_body_bytes)
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_json", "the body is not valid base64") from None
    else:
        if len(body) > max_body_bytes:  # a str has at least as many bytes as characters
            raise _too_large(max_body_bytes)
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > max_body_bytes:
        raise _too_large(max_body_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_json",
                       f"the body is not valid UTF-8 (byte {exc.start})") from None
    if _method(event) in _BODY_METHODS:
        _check_content_type(event)
        # Powertools reads only a literal "application/json"; the variants accepted
        # above (case, charset, +json) are the same thing to us.
        headers = {k: v for k, v in (event.get("headers") or {}).items()
                   if not (isinstance(k, str) and k.lower() == "content-type")}
        headers["content-type"] = "application/json"
        screened["headers"] = headers
    screened["body"] = text
    screened["isBase64Encoded"] = False
    return screened


def _method(event: Mapping[str, Any]) -> str:
    http = event["requestContext"].get("http")
    method = http.get("method") if isinstance(http, Mapping) else None
    return method.upper() if isinstance(method, str) else ""


def _check_content_type(event: Mapping[str, Any]) -> None:
    headers = event.get("headers")
    value = None
    if isinstance(headers, Mapping):
        for name, header in headers.items():
            if isinstance(name, str) and name.lower() == "content-type":
                value = header
                break
    if value is None:
        return  # like API Gateway and Powertools: a body without a type is read as JSON
    media, _, params = str(value).partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/")
                                            and media.endswith("+json")):
        raise ApiError(415, "unsupported_media_type",
                       f"bodies must be sent as Content-Type: application/json, not {media!r}")
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset" and val.strip().strip('"').lower() not in (
            "utf-8", "utf8"
        ):
            raise ApiError(415, "unsupported_media_type", "bodies must be UTF-8")


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body is larger than {limit} bytes")


# -- strict JSON ------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:80]!r}")
        result[key] = value
    return result


def strict_loads(text: str | bytes) -> Any:
    """Parse a JSON object strictly; every problem is a :class:`json.JSONDecodeError` whose
    message says what is wrong (Powertools turns it into a 400 ``invalid_json``)."""
    doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
    try:
        value = json.loads(doc, object_pairs_hook=_no_duplicates,
                           parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", doc, 0) from None
    except ValueError as exc:  # duplicate keys, NaN, huge numbers
        raise json.JSONDecodeError(str(exc), doc, 0) from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", doc, 0)
    if not isinstance(value, dict):
        # Every body of this API is an object (Powertools would also quietly take the
        # first element of an array for a non-list parameter: never let it).
        raise json.JSONDecodeError(f"the body must be a JSON object, not "
                                   f"{_json_type(value)}", doc, 0)
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node  # type: ignore[assignment]
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False
