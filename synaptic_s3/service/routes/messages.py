"""``/sessions/{id}/messages``: append, read (paged, forwards or backwards), clear."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.request import Request

from synaptic_s3.core.messages import Message
from synaptic_s3.ids import uuid7_from
from synaptic_s3.memory import JsonPage
from synaptic_s3.service.context import ServiceRequest, current
from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.idempotency import IdempotencyKey, begin, check_key, finish
from synaptic_s3.service.models import AppendMessages, MessageBatch, MessageList, MessagePageOut
from synaptic_s3.service.pagination import MAX_CURSOR_CHARS, bounded_body, too_large
from synaptic_s3.service.replies import (
    BODY_ERRORS,
    CONFLICT,
    KEY_REUSED,
    NOT_FOUND,
    described,
    dumps,
    error_description,
    json_reply,
    json_text_reply,
    no_content,
)
from synaptic_s3.service.routing import PathId, ServiceRouter

router = ServiceRouter()

MAX_PAGE = 1000
FORWARD = "messages"
BACKWARD = "messages-before"


@router.operation("POST", "/sessions/<session_id>/messages", "appendMessages",
                  tags=["messages"], summary="Append one message or a batch",
                  description="Idempotent by message id: a message whose id is already "
                  "stored with the same content is not stored again, with other content it "
                  "is 409 message_conflict (nothing written); one id twice in a request is "
                  "422. Messages without an id get one, derived from the request "
                  "(Idempotency-Key, else the event's requestId), so a repeated request "
                  "stores them once; a repeat with the same key after the messages were "
                  "cleared answers as the first request did and stores nothing.",
                  responses=described(201, "The messages as stored (ids filled in)",
                                      MessageList, NOT_FOUND, CONFLICT, BODY_ERRORS,
                                      KEY_REUSED, {409: error_description(
                                          "Concurrent writers kept winning (conflict; "
                                          "retry), or a message id is already stored with "
                                          "other content (message_conflict)")}))
def append_messages(session_id: PathId, body: Annotated[AppendMessages, Body()],
                    request: Request, idempotency_key: IdempotencyKey = None
                    ) -> Response[Any]:
    req = current(request)
    check_key(idempotency_key)
    messages = body.messages if isinstance(body, MessageBatch) else [body]
    _refuse_duplicate_ids(messages)
    manager = req.require_session(session_id)
    if idempotency_key is not None or any(message.id is None for message in messages):
        minting = begin(req, "appendMessages", f"/sessions/{session_id}", idempotency_key)
        for index, message in enumerate(messages):
            if message.id is None:
                message.id = str(uuid7_from(minting.ms,
                                            minting.seed_bytes(session_id, str(index))))
        if minting.replayed:  # done before: never re-append what was cleared since
            return json_reply(201, {"messages": [m.to_dict() for m in messages]})
        req.run(manager.memory().append_many(session_id, messages))
        finish(req, minting)
    else:
        req.run(manager.memory().append_many(session_id, messages))
    return json_reply(201, {"messages": [m.to_dict() for m in messages]})


def _refuse_duplicate_ids(messages: list[Message]) -> None:
    """Two messages of one request with one id: 422 before anything is written (the
    library would keep one of them; a ``remove`` marker names the id it removes)."""
    seen: set[str] = set()
    for index, message in enumerate(messages):
        if message.id is None or message.role == "remove":
            continue
        if message.id in seen:
            raise ApiError(422, "validation_error",
                           f"messages.{index}.id: id {message.id!r} appears more than once "
                           "in this request")
        seen.add(message.id)


@router.operation("GET", "/sessions/<session_id>/messages", "listMessages",
                  tags=["messages"], summary="The messages, oldest first, one page at a time",
                  description="Forwards: up to `limit` messages from the oldest (or from "
                  "`cursor`, a `next_cursor`), with `next_cursor` (null at the end). "
                  "Backwards: `last=N` gives the newest N, still oldest first, with "
                  "`prev_cursor`; pass it as `cursor` with `last` for the N before them "
                  "(null at the start). A page also ends before the reply would exceed "
                  "MAX_REPLY_BYTES.",
                  responses=described(200, "One page of messages", MessagePageOut,
                                      NOT_FOUND, {422: error_description(
                                          "A parameter is invalid, or one message alone is "
                                          "larger than MAX_REPLY_BYTES (reply_too_large)")}))
def list_messages(
    session_id: PathId,
    request: Request,
    limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="messages per page, "
                                       "forwards (default 1000)")] = None,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS,
                                        description="next_cursor (or, with last, "
                                        "prev_cursor) of the previous page")] = None,
    last: Annotated[int | None, Query(ge=0, le=MAX_PAGE, description="read backwards: "
                                      "the newest N (before cursor), oldest first")] = None,
) -> Response[Any]:
    req = current(request)
    if last is None:
        start = _position(req, cursor, FORWARD, session_id) if cursor is not None else 0
        size = limit or MAX_PAGE
        page = req.read_in_session(
            session_id, lambda m: m.memory().page_json(session_id, start=start, limit=size))
        return _page_reply(req, session_id, page, newest=False)
    if limit is not None:
        raise ApiError(422, "validation_error",
                       "limit and last cannot be combined: last is the page size backwards")
    end = _position(req, cursor, BACKWARD, session_id) if cursor is not None else None
    if last == 0:
        req.require_session(session_id)
        return json_reply(200, {"messages": [], "prev_cursor": None})
    page = req.read_in_session(
        session_id, lambda m: m.memory().page_before_json(session_id, end=end, limit=last))
    return _page_reply(req, session_id, page, newest=True)


def _position(req: ServiceRequest, cursor: str, kind: str, session_id: str) -> int:
    text = req.position(cursor, kind, session_id)
    return int(text)  # signed by us: always a decimal position


def _page_reply(req: ServiceRequest, session_id: str, page: JsonPage, *, newest: bool
                ) -> Response[Any]:
    """The page within MAX_REPLY_BYTES: forwards it keeps the oldest messages that fit,
    backwards (``newest``) the newest, and the cursor continues from what was left.

    The messages go out as stored (validated, never rebuilt: see :class:`JsonPage`)."""
    items = page.items
    count = len(items)

    def tail(kept: int) -> str:
        if newest:
            first = page.start + count - kept
            prev = req.cursor(BACKWARD, session_id, str(first)) if first > 0 else None
            return f'],"prev_cursor":{dumps(prev)}}}'
        end = page.start + kept
        after = req.cursor(FORWARD, session_id, str(end)) if end < page.total else None
        return f'],"next_cursor":{dumps(after)}}}'

    kept, body = bounded_body('{"messages":[', items, tail, req.max_reply_bytes,
                              newest=newest)
    if count and not kept:
        index = count - 1 if newest else 0
        position = page.start + index
        ident = json.loads(items[index]).get("id")
        raise too_large(f"message {ident!r} (position {position})",
                        req.max_reply_bytes)
    return json_text_reply(200, body)


@router.operation("DELETE", "/sessions/<session_id>/messages", "clearMessages",
                  tags=["messages"], summary="Remove the messages and the summary",
                  responses=described(204, "Cleared", None, NOT_FOUND))
def clear_messages(session_id: PathId, request: Request) -> Response[Any]:
    req = current(request)
    manager = req.require_session(session_id)
    req.run(manager.memory().clear(session_id))
    return no_content()
