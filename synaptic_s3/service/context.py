"""One request's state, handed to the routes explicitly.

:class:`ServiceApp` builds a :class:`ServiceRequest` for every event and puts it in
the resolver's context (``append_context``), which Powertools clears after each
event. A route reaches it through the Powertools :class:`Request` it declares as a
parameter (``current(request)``): the resolver that runs the route builds that
object from its own context, so two apps in one process (two "containers" in the
tests) never see each other's requests, and nothing per request lives on the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from synaptic_s3.core.errors import NotFoundError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.request import Request

    from synaptic_s3.service.pagination import CursorSigner
    from synaptic_s3.session import SessionManager

T = TypeVar("T")

CONTEXT_KEY = "synaptic_request"
"""Where the :class:`ServiceRequest` sits in the resolver's context."""


@dataclass
class ServiceRequest:
    """What a route needs besides its parameters; one per event."""

    request_id: str
    event: Mapping[str, Any]
    runner: asyncio.Runner
    cursors: CursorSigner
    max_reply_bytes: int
    """The largest reply body a listing may send (``MAX_REPLY_BYTES``)."""
    scope: tuple[str, ...] = ()
    """The caller's isolation scope (``()`` without ``ISOLATION_MODE=jwt``)."""
    body: str | None = None
    """The request body as UTF-8 text, after screening (``None``: no body)."""
    session_manager: SessionManager | None = field(default=None, repr=False)
    """The caller's manager, chosen once the caller is known (before routing)."""
    error_code: str | None = None
    """Set by :func:`synaptic_s3.service.replies.error_reply` when the reply is an
    error, so that the request log and metrics name it without parsing the body."""

    @property
    def manager(self) -> SessionManager:
        assert self.session_manager is not None, "the manager is chosen before routing"
        return self.session_manager

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a library coroutine on the container's one event loop."""
        return self.runner.run(coro)

    def require_session(self, session_id: str) -> SessionManager:
        """Before a write: the session must exist (never a silent write)."""
        manager = self.manager
        if self.run(manager.get_session(session_id)) is None:
            raise NotFoundError("session", session_id)
        return manager

    def read_in_session(self, session_id: str,
                        read: Callable[[SessionManager], Coroutine[Any, Any, T]]) -> T:
        """A read and the session's existence check at once (one round trip fewer);
        a missing session is 404 whatever the read found or raised."""
        manager = self.manager

        async def both() -> T:
            info, found = await asyncio.gather(manager.get_session(session_id),
                                               read(manager), return_exceptions=True)
            if isinstance(info, BaseException):
                raise info
            if info is None:
                raise NotFoundError("session", session_id)
            if isinstance(found, BaseException):
                raise found
            return cast(T, found)

        return self.run(both())

    def cursor(self, kind: str, session_id: str, position: str) -> str:
        """A cursor bound to this caller, this session and this listing."""
        return self.cursors.encode(kind, self.scope, session_id, position)

    def position(self, cursor: str, kind: str, session_id: str) -> str:
        """What :meth:`cursor` put in; 400 ``invalid_cursor`` for any other cursor."""
        return self.cursors.decode(cursor, kind, self.scope, session_id)


def current(request: Request) -> ServiceRequest:
    """The :class:`ServiceRequest` of the event a route is answering."""
    found = request.context.get(CONTEXT_KEY)
    assert isinstance(found, ServiceRequest), "ServiceApp.handle sets the request context"
    return found
