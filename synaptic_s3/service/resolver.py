"""The Powertools resolver: every router of :mod:`synaptic_s3.service.routes` joined
with ``include_router``, strict JSON bodies, and the three exception handlers that
turn whatever a route raises into the documented error reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from synaptic_s3.service.context import CONTEXT_KEY, ServiceRequest
from synaptic_s3.service.errors import explain_validation_errors
from synaptic_s3.service.replies import error_reply, failure
from synaptic_s3.service.requests import strict_loads
from synaptic_s3.service.routes import ROUTERS
from synaptic_s3.service.routing import RouteTable
from synaptic_s3.service.telemetry import logger

Handler = Callable[..., "Response[Any]"]


def build_resolver() -> tuple[APIGatewayHttpResolver, RouteTable]:
    """A resolver with every route, and the table naming them."""
    resolver = APIGatewayHttpResolver(enable_validation=True,
                                      json_body_deserializer=strict_loads)
    for router in ROUTERS:
        resolver.include_router(router)
    table = RouteTable(ROUTERS)

    def on(exc_class: type[Exception]) -> Callable[[Handler], Handler]:
        return cast(Callable[[Handler], Handler], resolver.exception_handler(exc_class))

    def request() -> ServiceRequest:
        found = resolver.context[CONTEXT_KEY]
        assert isinstance(found, ServiceRequest)
        return found

    @on(RequestValidationError)
    def on_validation_error(exc: RequestValidationError) -> Response[Any]:
        code, message, status = explain_validation_errors(exc.errors())
        logger.debug(f"client error: {message}", extra={"error_code": code})
        return error_reply(request(), status, code, message)

    @on(RouteNotFound)
    def on_route_not_found(exc: RouteNotFound) -> Response[Any]:
        event = resolver.current_event
        status, code, message, headers = table.not_routed(event.http_method.upper(),
                                                          event.path)
        return error_reply(request(), status, code, message, headers)

    @on(Exception)
    def on_error(exc: Exception) -> Response[Any]:
        return failure(request(), exc)

    return resolver, table
