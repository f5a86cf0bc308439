"""``/sessions`` and ``/sessions/{id}``: create, list, get, delete."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.request import Request

from synaptic_s3.core.errors import NotFoundError
from synaptic_s3.ids import iso_utc, uuid7_datetime, uuid7_from
from synaptic_s3.service.context import current
from synaptic_s3.service.idempotency import IdempotencyKey, begin, finish
from synaptic_s3.service.models import SessionInfo, SessionList
from synaptic_s3.service.replies import NOT_FOUND, described, json_reply, no_content
from synaptic_s3.service.routing import NextCursor, PathId, ServiceRouter, location

router = ServiceRouter()

MAX_PAGE = 1000
DEFAULT_PAGE = 100
CURSOR_KIND = "sessions"


def _session_info(session_id: str) -> dict[str, str]:
    created = uuid7_datetime(session_id)
    assert created is not None  # ids made by create_session are UUIDv7
    return SessionInfo(id=session_id, created_at=iso_utc(created)).to_dict()


@router.operation("POST", "/sessions", "createSession", tags=["sessions"],
                  summary="Create a session",
                  description="Idempotent: a repeat of the same event, or of a request "
                  "with the same Idempotency-Key, returns the same session. A repeat with "
                  "the same key after the session was deleted answers as the first request "
                  "did and does not create it again.",
                  responses=described(201, "The new session", SessionInfo))
def create_session(request: Request, idempotency_key: IdempotencyKey = None) -> Response[Any]:
    req = current(request)
    minting = begin(req, "createSession", "/sessions", idempotency_key)
    session_id = str(uuid7_from(minting.ms, minting.seed_bytes("session")))
    if not minting.replayed:  # a replay after a delete must not bring the session back
        req.run(req.manager.create_session(session_id=session_id))
        finish(req, minting)
    return json_reply(201, _session_info(session_id), {"Location": location("sessions",
                                                                            session_id)})


@router.operation("GET", "/sessions", "listSessions", tags=["sessions"],
                  summary="List sessions, oldest first, one page at a time",
                  responses=described(200, "One page of sessions", SessionList))
def list_sessions(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="sessions per page")
                     ] = DEFAULT_PAGE,
    cursor: NextCursor = None,
) -> Response[Any]:
    req = current(request)
    after = req.position(cursor, CURSOR_KIND, "") if cursor is not None else None
    infos, next_after = req.run(req.manager.list_sessions_page(limit=limit, after=after))
    return json_reply(200, {
        "sessions": [info.to_dict() for info in infos],
        "next_cursor": req.cursor(CURSOR_KIND, "", next_after) if next_after else None,
    })


@router.operation("GET", "/sessions/<session_id>", "getSession", tags=["sessions"],
                  summary="Get a session",
                  responses=described(200, "The session", SessionInfo, NOT_FOUND))
def get_session(session_id: PathId, request: Request) -> Response[Any]:
    req = current(request)
    info = req.run(req.manager.get_session(session_id))
    if info is None:
        raise NotFoundError("session", session_id)
    return json_reply(200, info.to_dict())


@router.operation("DELETE", "/sessions/<session_id>", "deleteSession", tags=["sessions"],
                  summary="Delete a session and everything it owns",
                  responses=described(204, "Deleted", None, NOT_FOUND))
def delete_session(session_id: PathId, request: Request) -> Response[Any]:
    req = current(request)
    manager = req.require_session(session_id)
    req.run(manager.delete_session(session_id))
    return no_content()
