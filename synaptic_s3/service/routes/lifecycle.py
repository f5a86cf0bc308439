"""Lifecycle routes of a session: leases (one run at a time), forks, and pruning
checkpoints. The logic is the library's (:mod:`synaptic_s3.lifecycle`); these routes
only map it onto HTTP.

* ``POST /sessions/{id}/lease`` -> 201 ``{"token", "owner", "expires_at",
  "generation"}``, or 409 ``lease_held`` naming the holder. The token is derived
  from the request (Idempotency-Key, else the event's requestId), so a retried or
  twice-invoked request gets the same lease back instead of conflicting with itself.
* ``PUT /sessions/{id}/lease/{token}`` renews (optional body ``{"ttl_seconds"}``),
  ``DELETE /sessions/{id}/lease/{token}`` releases (204); 409 ``lease_lost`` when
  that token no longer holds the lease (expired and taken, or released).
* ``POST /sessions/{id}/fork`` -> 201 with the new session; its id is derived from
  the request the same way, so a replay returns the same fork.
* ``DELETE /sessions/{id}/checkpoints?keep_last=N`` -> 204.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.request import Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from synaptic_s3.checkpoint import CheckpointConfig
from synaptic_s3.core.errors import LeaseHeldError, LeaseLostError
from synaptic_s3.ids import iso_utc, uuid7_datetime, uuid7_from
from synaptic_s3.lifecycle.leases import MAX_TTL, Lease
from synaptic_s3.service.context import ServiceRequest, current
from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.idempotency import IdempotencyKey, begin, check_key, finish
from synaptic_s3.service.models import SessionInfo
from synaptic_s3.service.replies import (
    BODY_ERRORS,
    KEY_REUSED,
    NOT_FOUND,
    described,
    error_description,
    json_reply,
    no_content,
)
from synaptic_s3.service.routing import ServiceRouter

router = ServiceRouter()

MAX_TTL_SECONDS = int(MAX_TTL.total_seconds())
MAX_KEEP_LAST = 1_000_000


class LeaseRequest(BaseModel):
    """How long to hold the lease, and who holds it (for the 409 others get)."""

    model_config = ConfigDict(extra="forbid")

    ttl_seconds: StrictInt = Field(ge=1, le=MAX_TTL_SECONDS)
    owner: StrictStr | None = Field(default=None, min_length=1, max_length=200)


class LeaseRenewal(BaseModel):
    """A new ttl (default: the one the lease was taken with)."""

    model_config = ConfigDict(extra="forbid")

    ttl_seconds: StrictInt | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)


class LeaseReply(BaseModel):
    """A held lease: keep ``token`` to renew and release it."""

    token: StrictStr
    owner: StrictStr
    expires_at: StrictStr
    generation: StrictInt


class ForkRequest(BaseModel):
    """What to copy: the first ``messages`` messages (all when absent) and the
    checkpoints up to and including ``checkpoint_id`` (all when absent)."""

    model_config = ConfigDict(extra="forbid")

    messages: StrictInt | None = Field(default=None, ge=0)
    checkpoint_id: StrictStr | None = Field(default=None, min_length=1, max_length=200)


LEASE_HELD = {409: error_description("lease_held: another holder has the lease (the message "
                                     "names it and when it expires)")}
LEASE_LOST = {409: error_description("lease_lost: this token no longer holds the lease")}


def _lease_reply(lease: Lease) -> dict[str, Any]:
    return {"token": lease.token, "owner": lease.owner,
            "expires_at": iso_utc(lease.expires_at), "generation": lease.generation}


def _lost(exc: LeaseLostError) -> ApiError:
    return ApiError(409, "lease_lost", str(exc))


def _adopt(req: ServiceRequest, session_id: str, token: str) -> Lease:
    manager = req.require_session(session_id)
    try:
        return req.run(manager.leases().adopt(session_id, token))
    except LeaseLostError as exc:
        raise _lost(exc) from None


@router.operation("POST", "/sessions/<session_id>/lease", "acquireLease", tags=["lifecycle"],
                  summary="Take the session's lease (one run at a time)",
                  description="201 with the lease, or 409 lease_held while another holder's "
                  "lease has not expired. A repeat of the same request (Idempotency-Key, or "
                  "the same event) returns the same lease.",
                  responses=described(201, "The lease", LeaseReply, NOT_FOUND, BODY_ERRORS,
                                      LEASE_HELD, KEY_REUSED))
def acquire_lease(session_id: str, body: Annotated[LeaseRequest, Body()], request: Request,
                  idempotency_key: IdempotencyKey = None) -> Response[Any]:
    req = current(request)
    check_key(idempotency_key)
    minting = begin(req, "acquireLease", f"/sessions/{session_id}/lease", idempotency_key)
    token = hashlib.sha256(minting.seed_bytes(session_id, str(minting.ms))).hexdigest()[:32]
    if minting.replayed:  # answered before: the same lease, never a new acquisition
        return json_reply(201, _lease_reply(_adopt(req, session_id, token)))
    try:
        lease = req.run(req.manager.acquire_lease(
            session_id, ttl=timedelta(seconds=body.ttl_seconds), owner=body.owner,
            token=token))
    except LeaseHeldError as exc:
        raise ApiError(409, "lease_held", str(exc)) from None
    finish(req, minting)
    return json_reply(201, _lease_reply(lease))


@router.operation("PUT", "/sessions/<session_id>/lease/<token>", "renewLease",
                  tags=["lifecycle"], summary="Renew the lease this token holds",
                  responses=described(200, "The renewed lease", LeaseReply, NOT_FOUND,
                                      BODY_ERRORS, LEASE_LOST))
def renew_lease(session_id: str, token: str, request: Request,
                body: Annotated[LeaseRenewal | None, Body()] = None) -> Response[Any]:
    req = current(request)
    lease = _adopt(req, session_id, token)
    ttl = None if body is None or body.ttl_seconds is None else timedelta(
        seconds=body.ttl_seconds)
    try:
        req.run(lease.renew(ttl))
    except LeaseLostError as exc:
        raise _lost(exc) from None
    return json_reply(200, _lease_reply(lease))


@router.operation("DELETE", "/sessions/<session_id>/lease/<token>", "releaseLease",
                  tags=["lifecycle"], summary="Release the lease this token holds",
                  responses=described(204, "Released", None, NOT_FOUND, LEASE_LOST))
def release_lease(session_id: str, token: str, request: Request) -> Response[Any]:
    req = current(request)
    lease = _adopt(req, session_id, token)
    try:
        req.run(lease.release())
    except LeaseLostError as exc:
        raise _lost(exc) from None
    return no_content()


@router.operation("POST", "/sessions/<session_id>/fork", "forkSession", tags=["lifecycle"],
                  summary="Fork a session into a new one",
                  description="A new session with a copy of the source's first `messages` "
                  "messages, its summary and its checkpoints up to `checkpoint_id` (all by "
                  "default); the source is not changed. A repeat of the same request "
                  "returns the same fork.",
                  responses=described(201, "The new session", SessionInfo,
                                      {404: error_description("No such session or "
                                                              "checkpoint")},
                                      BODY_ERRORS, KEY_REUSED))
def fork_session(session_id: str, request: Request,
                 body: Annotated[ForkRequest | None, Body()] = None,
                 idempotency_key: IdempotencyKey = None) -> Response[Any]:
    from synaptic_s3.lifecycle.forks import fork_session as fork
    from synaptic_s3.lifecycle.forks import free_target

    req = current(request)
    check_key(idempotency_key)
    wanted = body or ForkRequest()
    minting = begin(req, "forkSession", f"/sessions/{session_id}/fork", idempotency_key)
    chosen = str(uuid7_from(minting.ms, minting.seed_bytes("fork", session_id)))
    if minting.replayed:  # answered before: never fork again (it may have been deleted)
        new_id, _ = req.run(free_target(req.manager, chosen))
    else:
        new_id = req.run(fork(req.manager, session_id, messages=wanted.messages,
                              checkpoint_id=wanted.checkpoint_id, new_id=chosen))
        finish(req, minting)
    created = uuid7_datetime(new_id)
    assert created is not None  # derived ids are UUIDv7
    info = {"id": new_id, "created_at": iso_utc(created)}
    return json_reply(201, info, {"Location": f"/sessions/{new_id}"})


@router.operation("DELETE", "/sessions/<session_id>/checkpoints", "pruneCheckpoints",
                  tags=["lifecycle"], summary="Keep only the newest keep_last checkpoints",
                  responses=described(204, "Pruned", None, NOT_FOUND, BODY_ERRORS))
def prune_checkpoints(
    session_id: str, request: Request,
    keep_last: Annotated[int, Query(ge=0, le=MAX_KEEP_LAST,
                                    description="how many of the newest to keep")],
) -> Response[Any]:
    req = current(request)
    manager = req.require_session(session_id)
    req.run(manager.checkpointer().prune(CheckpointConfig(session_id), keep_last=keep_last))
    return no_content()
