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
from dataclasses import dataclass
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header

from synaptic_s3.core.errors import ConflictError, StorageError
from synaptic_s3.service.context import ServiceRequest
from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.telemetry import logger

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


@dataclass
class Minting:
    """Where a write's ids come from, and whether it was done before.

    ``replayed``: an earlier request with this Idempotency-Key completed its write;
    the route answers as that request did WITHOUT writing again, so a replay never
    brings back data deleted since (a session, cleared messages)."""

    ms: int
    seed: list[str]
    replayed: bool = False
    record: tuple[str, str, dict[str, Any]] | None = None
    """(key, version, value) of the key's record, for :func:`finish`."""

    def seed_bytes(self, *more: str) -> bytes:
        return seed_bytes(self.seed, *more)


def begin(request: ServiceRequest, operation: str, path: str, header: str | None) -> Minting:
    """The moment (Unix ms) and the seed every id a write mints derives from; with a
    header, the key is recorded (or checked against its record) first."""
    if header is None:
        context = request.event.get("requestContext")
        epoch = context.get("timeEpoch") if isinstance(context, Mapping) else None
        ms = epoch if isinstance(epoch, int) and epoch >= 0 else time.time_ns() // 10**6
        return Minting(ms, [*request.scope, operation, "request", request.request_id])
    check_key(header)
    seed = [*request.scope, operation, "key", header]
    return request.run(_first_seen(request, path, seed))


def finish(request: ServiceRequest, minting: Minting) -> None:
    """Note that the keyed request's write is complete, so that a replay answers without
    writing. Best effort: the write is stored whatever happens here (a lost note only
    lets a later replay write again, idempotently by id)."""
    if minting.record is None or minting.replayed:
        return
    key, version, value = minting.record
    try:
        request.run(request.manager.store.put(IDEMPOTENCY, key, {**value, "done": True},
                                              if_version=version))
    except ConflictError:
        pass  # a concurrent attempt of the same request noted it
    except StorageError as exc:
        logger.warning(f"could not note an Idempotency-Key as done: {exc}")


def _canonical(text: str | None) -> str | None:
    """The body as one spelling: the same JSON re-serialised (spacing, key order) is
    the same request."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fingerprints(request: ServiceRequest, path: str) -> tuple[str, str]:
    """(canonical, legacy): the second is what records written before canonical
    bodies hold (the raw event body), so that keys in flight across a deploy work."""
    canonical = hashlib.sha256(json.dumps([path, _canonical(request.body)]).encode(
        "utf-8", "surrogatepass")).hexdigest()
    raw = request.event.get("body")
    legacy = hashlib.sha256(json.dumps(
        [path, raw if isinstance(raw, str) else None]).encode()).hexdigest()
    return canonical, legacy


async def _first_seen(request: ServiceRequest, path: str, seed: list[str]) -> Minting:
    """When this key was first used for this route, recorded with a fingerprint of
    the request so a key reused for another request is refused, not silently
    turned into a no-op that drops the new data."""
    fingerprint, legacy = _fingerprints(request, path)
    key = hashlib.sha256(json.dumps(seed).encode()).hexdigest()
    now_ms = time.time_ns() // 10**6
    record: dict[str, Any] = {"time_ms": now_ms, "request": fingerprint, "body": "canonical",
                              "done": False}
    store = request.manager.store
    try:
        version = await store.put(IDEMPOTENCY, key, record, if_absent=True)
        return Minting(now_ms, seed, record=(key, version, record))
    except ConflictError:
        existing = await store.get(IDEMPOTENCY, key)
        if existing is None:  # expired between the two calls: this is now the first
            version = await store.put(IDEMPOTENCY, key, record)
            return Minting(now_ms, seed, record=(key, version, record))
    value = existing.value
    first_ms = value.get("time_ms") if isinstance(value, dict) else None
    if not isinstance(value, dict) or not isinstance(first_ms, int) \
            or value.get("request") != (fingerprint if "body" in value else legacy):
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was used before with another request; "
                       "use a new key for a new request")
    return Minting(first_ms, seed, replayed=value.get("done") is True,
                   record=(key, existing.version, value))
