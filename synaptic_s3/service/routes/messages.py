"""``/sessions/{id}/messages``: append, read, clear."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.request import Request

from synaptic_s3.ids import uuid7_from
from synaptic_s3.service.context import current
from synaptic_s3.service.idempotency import IdempotencyKey, check_key, moment, seed_bytes
from synaptic_s3.service.models import AppendMessages, MessageBatch, MessageList
from synaptic_s3.service.replies import (
    BODY_ERRORS,
    CONFLICT,
    KEY_REUSED,
    NOT_FOUND,
    described,
    json_reply,
    no_content,
)
from synaptic_s3.service.routing import ServiceRouter

router = ServiceRouter()

MAX_LAST = 100_000


@router.operation("POST", "/sessions/<session_id>/messages", "appendMessages",
                  tags=["messages"], summary="Append one message or a batch",
                  description="Idempotent by message id: a message whose id is already "
                  "stored is not stored again; messages without an id get one, derived from "
                  "the request (Idempotency-Key, else the event's requestId), so a repeated "
                  "request stores them once.",
                  responses=described(201, "The messages as stored (ids filled in)",
                                      MessageList, NOT_FOUND, CONFLICT, BODY_ERRORS,
                                      KEY_REUSED))
def append_messages(session_id: str, body: Annotated[AppendMessages, Body()],
                    request: Request, idempotency_key: IdempotencyKey = None
                    ) -> Response[Any]:
    req = current(request)
    check_key(idempotency_key)
    messages = body.messages if isinstance(body, MessageBatch) else [body]
    manager = req.require_session(session_id)
    if any(message.id is None for message in messages):
        ms, seed = moment(req, "appendMessages", f"/sessions/{session_id}", idempotency_key)
        for index, message in enumerate(messages):
            if message.id is None:
                message.id = str(uuid7_from(ms, seed_bytes(seed, session_id, str(index))))
    req.run(manager.memory().append_many(session_id, messages))
    return json_reply(201, {"messages": [m.to_dict() for m in messages]})


@router.operation("GET", "/sessions/<session_id>/messages", "listMessages",
                  tags=["messages"], summary="The messages, oldest first",
                  responses=described(200, "The messages", MessageList, NOT_FOUND))
def list_messages(
    session_id: str,
    request: Request,
    last: Annotated[int | None, Query(ge=0, le=MAX_LAST, description="only the newest N "
                                      "(still oldest first)")] = None,
) -> Response[Any]:
    req = current(request)
    messages = req.read_in_session(session_id, lambda m: m.memory().load(session_id))
    if last is not None:
        messages = messages[len(messages) - last:] if last else []
    return json_reply(200, {"messages": [m.to_dict() for m in messages]})


@router.operation("DELETE", "/sessions/<session_id>/messages", "clearMessages",
                  tags=["messages"], summary="Remove the messages and the summary",
                  responses=described(204, "Cleared", None, NOT_FOUND))
def clear_messages(session_id: str, request: Request) -> Response[Any]:
    req = current(request)
    manager = req.require_session(session_id)
    req.run(manager.memory().clear(session_id))
    return no_content()
