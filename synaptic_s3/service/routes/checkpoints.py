"""``/sessions/{id}/checkpoints``: store, list, latest, by id."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.request import Request

from synaptic_s3.checkpoint import Checkpoint, CheckpointConfig
from synaptic_s3.core.errors import InvalidKeyError, NotFoundError
from synaptic_s3.ids import checkpoint_id_from, checkpoint_id_ns
from synaptic_s3.service.context import current
from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.idempotency import IdempotencyKey, begin, check_key, finish
from synaptic_s3.service.models import CheckpointList
from synaptic_s3.service.pagination import bounded_body, too_large
from synaptic_s3.service.replies import (
    BODY_ERRORS,
    KEY_REUSED,
    NOT_FOUND,
    described,
    dumps,
    error_description,
    json_reply,
    json_text_reply,
)
from synaptic_s3.service.routing import NextCursor, PathId, ServiceRouter, location

router = ServiceRouter()

LATEST = "latest"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
CURSOR_KIND = "checkpoints"


@router.operation("POST", "/sessions/<session_id>/checkpoints", "putCheckpoint",
                  tags=["checkpoints"], summary="Store a checkpoint (id generated if omitted)",
                  description="An omitted id is derived from the request (Idempotency-Key, "
                  "else the event's requestId), so a repeated request stores one checkpoint.",
                  responses=described(201, "The checkpoint as stored", Checkpoint, NOT_FOUND,
                                      BODY_ERRORS, KEY_REUSED))
def put_checkpoint(session_id: PathId, body: Annotated[Checkpoint, Body()], request: Request,
                   idempotency_key: IdempotencyKey = None) -> Response[Any]:
    req = current(request)
    check_key(idempotency_key)
    if "state" not in req.body_fields():
        raise ApiError(422, "validation_error", "body.state: Field required (null is a "
                       "state; leaving it out is a mistake)")
    if body.id == LATEST:
        raise InvalidKeyError(f"checkpoint id '{LATEST}' is reserved: "
                              f"/checkpoints/{LATEST} names the newest checkpoint")
    manager = req.require_session(session_id)
    minting = None
    if idempotency_key is not None or "id" not in body.model_fields_set:
        minting = begin(req, "putCheckpoint", f"/sessions/{session_id}/checkpoints",
                        idempotency_key)
        if "id" not in body.model_fields_set:
            body = body.model_copy(update={"id": _minted_id(body, minting.ms,
                                                            minting.seed_bytes(session_id))})
    if minting is None or not minting.replayed:
        req.run(manager.checkpointer().put(CheckpointConfig(session_id), body))
        if minting is not None:
            finish(req, minting)
    return json_reply(201, body.to_dict(),
                      {"Location": location("sessions", session_id, "checkpoints", body.id)})


def _minted_id(body: Checkpoint, ms: int, seed: bytes) -> str:
    """The id of a checkpoint posted without one: derived from the request (a repeat
    names the same checkpoint) and after its ``parent_id`` (so it is the latest even
    when the parent came from a writer whose clock is ahead of the request's)."""
    minted = checkpoint_id_from(ms, seed)
    parent_ns = checkpoint_id_ns(body.parent_id) if body.parent_id else None
    if parent_ns is not None and minted <= str(body.parent_id):
        minted = checkpoint_id_from(parent_ns // 1_000_000 + 1, seed)
    return minted


@router.operation("GET", "/sessions/<session_id>/checkpoints", "listCheckpoints",
                  tags=["checkpoints"], summary="The checkpoints, oldest first, one page "
                  "at a time",
                  description="Up to `limit` checkpoints after `cursor` (a `next_cursor`), "
                  "with `next_cursor` (null on the last page). A page also ends before the "
                  "reply would exceed MAX_REPLY_BYTES.",
                  responses=described(200, "One page of checkpoints", CheckpointList,
                                      NOT_FOUND, {422: error_description(
                                          "A parameter is invalid, or one checkpoint alone "
                                          "is larger than MAX_REPLY_BYTES (reply_too_large)"
                                      )}))
def list_checkpoints(
    session_id: PathId,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="checkpoints per page")
                     ] = DEFAULT_PAGE,
    cursor: NextCursor = None,
) -> Response[Any]:
    req = current(request)
    after = req.position(cursor, CURSOR_KIND, session_id) if cursor is not None else None
    page = req.read_in_session(session_id, lambda m: m.checkpointer().list_page(
        CheckpointConfig(session_id), limit=limit, after=after))
    found = page.checkpoints
    items = [dumps(checkpoint.to_dict()) for checkpoint in found]

    def tail(kept: int) -> str:
        next_after = found[kept - 1].id if kept < len(found) else page.next_after
        next_cursor = req.cursor(CURSOR_KIND, session_id, next_after) if next_after else None
        return f'],"next_cursor":{dumps(next_cursor)}}}'

    kept, body = bounded_body('{"checkpoints":[', items, tail, req.max_reply_bytes)
    if found and not kept:
        raise too_large(f"checkpoint {found[0].id!r}", req.max_reply_bytes)
    return json_text_reply(200, body)


# Registered before /<checkpoint_id>: the literal route wins.
@router.operation("GET", "/sessions/<session_id>/checkpoints/latest", "getLatestCheckpoint",
                  tags=["checkpoints"], summary="The newest checkpoint (404 when none)",
                  responses=described(200, "The checkpoint", Checkpoint,
                                      {404: error_description("No such session, or no "
                                                              "checkpoint yet")}))
def get_latest_checkpoint(session_id: PathId, request: Request) -> Response[Any]:
    req = current(request)
    latest = req.read_in_session(
        session_id, lambda m: m.checkpointer().get(CheckpointConfig(session_id)))
    if latest is None:
        raise NotFoundError("checkpoint", LATEST)
    return json_reply(200, latest.to_dict())


@router.operation("GET", "/sessions/<session_id>/checkpoints/<checkpoint_id>",
                  "getCheckpoint", tags=["checkpoints"], summary="One checkpoint by id",
                  responses=described(200, "The checkpoint", Checkpoint,
                                      {404: error_description("No such session or "
                                                              "checkpoint")}))
def get_checkpoint(session_id: PathId, checkpoint_id: PathId, request: Request
                   ) -> Response[Any]:
    req = current(request)
    found = req.read_in_session(session_id, lambda m: m.checkpointer().get(
        CheckpointConfig(session_id, checkpoint_id)))
    if found is None:
        raise NotFoundError("checkpoint", checkpoint_id)
    return json_reply(200, found.to_dict())
