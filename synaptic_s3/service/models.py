"""Request and reply shapes of the HTTP API (what the OpenAPI document shows).

Bodies are validated by the library's own models: a message is
:class:`synaptic_s3.core.Message` (as strict as the Rust crate's serde), a
checkpoint :class:`synaptic_s3.Checkpoint`, a session :class:`synaptic_s3.SessionInfo`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictStr, Tag

from synaptic_s3.checkpoint import Checkpoint
from synaptic_s3.core.messages import Message
from synaptic_s3.session import SessionInfo

_REPLY = ConfigDict(defer_build=True)
"""Reply shapes only describe replies in the OpenAPI document (routes build their JSON
themselves): their schemas are built when that document is, not in every Lambda init."""

MAX_BATCH = 1000
"""Most messages one POST may append."""


class MessageBatch(BaseModel):
    """``{"messages": [...]}``: several messages appended in one write (all or none)."""

    model_config = ConfigDict(extra="forbid")
    messages: list[Message] = Field(min_length=1, max_length=MAX_BATCH)


def _append_kind(value: Any) -> str:
    if isinstance(value, dict) and "messages" in value and "role" not in value:
        return "batch"
    return "one"


AppendMessages = Annotated[
    Annotated[Message, Tag("one")] | Annotated[MessageBatch, Tag("batch")],
    Discriminator(_append_kind),
]
"""POST /sessions/{id}/messages: one message object, or ``{"messages": [...]}``."""


class SummaryIn(BaseModel):
    """PUT body: ``{"summary": "..."}`` (the whole summary is replaced)."""

    model_config = ConfigDict(extra="forbid")
    summary: StrictStr


class SummaryOut(BaseModel):
    """``{"summary": "..." | null}``: a summary never set reads as null."""

    model_config = _REPLY
    summary: str | None


class SessionList(BaseModel):
    """One page of sessions, oldest first; pass ``next_cursor`` as ``cursor`` for the next."""

    model_config = _REPLY
    sessions: list[SessionInfo]
    next_cursor: str | None


class MessageList(BaseModel):
    """Messages in the synaptic wire format, in the order given."""

    model_config = _REPLY
    messages: list[Message]


class MessagePageOut(BaseModel):
    """One page of a session's messages, oldest first. Reading forwards (``limit``,
    ``cursor``) the reply has ``next_cursor``; reading backwards (``last``) it has
    ``prev_cursor``. ``null``: there is nothing further that way."""

    model_config = _REPLY
    messages: list[Message]
    next_cursor: str | None = Field(
        default=None, description="forwards: pass as cursor for the next page")
    prev_cursor: str | None = Field(
        default=None, description="with last: pass as cursor (with last) for the page "
        "before this one")


class CheckpointList(BaseModel):
    """One page of a session's checkpoints, oldest first; pass ``next_cursor`` as
    ``cursor`` for the next page (``null`` on the last)."""

    model_config = _REPLY
    checkpoints: list[Checkpoint]
    next_cursor: str | None


class ErrorDetail(BaseModel):
    model_config = _REPLY

    code: str = Field(description="stable, machine-readable (see docs/service.md)")
    message: str = Field(description="for people; never internals on a 5xx")
    request_id: str = Field(description="the API Gateway request id, also in the logs")


class ErrorReply(BaseModel):
    """Every error reply: ``{"error": {"code", "message", "request_id"}}``."""

    model_config = _REPLY
    error: ErrorDetail


__all__ = [
    "MAX_BATCH",
    "AppendMessages",
    "Checkpoint",
    "CheckpointList",
    "ErrorReply",
    "Message",
    "MessageBatch",
    "MessageList",
    "MessagePageOut",
    "SessionInfo",
    "SessionList",
    "SummaryIn",
    "SummaryOut",
]
