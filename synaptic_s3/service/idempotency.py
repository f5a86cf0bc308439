"""Idempotent writes: every id a write mints derives from the request, so a repeat
of it writes the same ids and the library's conditional puts make it a no-op.

Why: a Lambda double invocation (the same event twice, at once or after a first
attempt whose answer was lost) or a client retry must write the same ids. The key
is the ``Idempotency-Key`` header, else the event's ``requestId``; the moment is
the event's ``timeEpoch`` for the latter, and for a header the time the key was
first seen (recorded in the store, because a client retry is a new event with a
new ``timeEpoch``). Both are scoped by the caller's isolation scope and the route.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.service.context import ServiceRequest
from synaptic_s3.service.errors import ApiError

MAX_IDEMPOTENCY_KEY = 200
_IDEMPOTENCY_KEY = re.compile(f"[\\x20-\\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")
IDEMPOTENCY = ("idempotency",)
"""Where the first sight of an Idempotency-Key is recorded (under the caller's scope)."""

IdempotencyKey = Annotated[str | None, Header(
    alias="idempotency-key",
    description="Makes a retry of this request act once: the same key (1-200 printable "
    "ASCII characters) with the same body mints the same ids. Without it, a repeat of the "
    "same API Gateway event (same requestId) is recognised instead.")]


def check_key(header: str | None) -> None:
    """Refuse a malformed key on every write route that takes one, even where the
    request mints no id, so a client learns of its mistake before it matters."""
    if header is not None and not _IDEMPOTENCY_KEY.fullmatch(header):
        raise ApiError(400, "invalid_idempotency_key",
                       f"the Idempotency-Key header must be 1-{MAX_IDEMPOTENCY_KEY} "
                       "printable ASCII characters")


def seed_bytes(parts: list[str], *more: str) -> bytes:
    """Unambiguous bytes for a list of strings (any of them may hold any separator)."""
    return json.dumps([*parts, *more]).encode()


def moment(request: ServiceRequest, operation: str, path: str, header: str | None
           ) -> tuple[int, list[str]]:
    """The moment (Unix ms) and the seed every id a write mints derives from."""
    if header is None:
        context = request.event.get("requestContext")
        epoch = context.get("timeEpoch") if isinstance(context, Mapping) else None
        ms = epoch if isinstance(epoch, int) and epoch >= 0 else time.time_ns() // 10**6
        return ms, [*request.scope, operation, "request", request.request_id]
    check_key(header)
    seed = [*request.scope, operation, "key", header]
    return request.run(_first_seen(request, path, seed)), seed


async def _first_seen(request: ServiceRequest, path: str, seed: list[str]) -> int:
    """When this key was first used for this route, recorded with a fingerprint of
    the request so a key reused for another request is refused, not silently
    turned into a no-op that drops the new data."""
    body = request.event.get("body")
    fingerprint = hashlib.sha256(json.dumps(
        [path, body if isinstance(body, str) else None]).encode()).hexdigest()
    key = hashlib.sha256(json.dumps(seed).encode()).hexdigest()
    now_ms = time.time_ns() // 10**6
    record = {"time_ms": now_ms, "request": fingerprint}
    store = request.manager.store
    try:
        await store.put(IDEMPOTENCY, key, record, if_absent=True)
        return now_ms
    except ConflictError:
        existing = await store.get(IDEMPOTENCY, key)
        if existing is None:  # expired between the two calls: this is now the first
            await store.put(IDEMPOTENCY, key, record)
            return now_ms
    value = existing.value
    first_ms = value.get("time_ms") if isinstance(value, dict) else None
    if not isinstance(value, dict) or value.get("request") != fingerprint \
            or not isinstance(first_ms, int):
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was used before with another request; "
                       "use a new key for a new request")
    return first_ms
