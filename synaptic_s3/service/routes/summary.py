"""``/sessions/{id}/summary``: the running summary of a conversation."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.request import Request

from synaptic_s3.service.context import current
from synaptic_s3.service.models import SummaryIn, SummaryOut
from synaptic_s3.service.replies import BODY_ERRORS, NOT_FOUND, described, json_reply
from synaptic_s3.service.routing import ServiceRouter

router = ServiceRouter()


@router.operation("GET", "/sessions/<session_id>/summary", "getSummary", tags=["summary"],
                  summary="The running summary (null when never set)",
                  responses=described(200, "The summary", SummaryOut, NOT_FOUND))
def get_summary(session_id: str, request: Request) -> Response[Any]:
    req = current(request)
    summary = req.read_in_session(session_id, lambda m: m.memory().get_summary(session_id))
    return json_reply(200, {"summary": summary})


@router.operation("PUT", "/sessions/<session_id>/summary", "putSummary", tags=["summary"],
                  summary="Replace the summary",
                  responses=described(200, "The summary as stored", SummaryOut, NOT_FOUND,
                                      BODY_ERRORS))
def put_summary(session_id: str, body: Annotated[SummaryIn, Body()], request: Request
                ) -> Response[Any]:
    req = current(request)
    manager = req.require_session(session_id)
    req.run(manager.memory().set_summary(session_id, body.summary))
    return json_reply(200, {"summary": body.summary})
