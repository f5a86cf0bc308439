"""Routers that remember their routes, and the table that explains a miss.

Each resource's routes live in one module of :mod:`synaptic_s3.service.routes`, on a
:class:`ServiceRouter` (a Powertools ``Router``, joined to the resolver with
``include_router``). The router also notes each route's method, rule and
operationId, so that the app can name the operation of any request in its logs
and answer a request no route takes with 405 / 400 / 404 -- without a second,
hand-kept list of routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import AfterValidator

from synaptic_s3.service.pagination import MAX_CURSOR_CHARS

RouteFunction = Callable[..., Any]
Decorator = Callable[[RouteFunction], RouteFunction]

# What Powertools' route parameters can match. Ids may hold any other character too:
# the screening percent-encodes every path segment (:func:`encode_path`), so each
# segment matches, and :data:`PathId` decodes the parameter back.
URL_ID_CLASS = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]"
_KEPT = "-._~()'!*:@,;=+&$"
"""Characters a segment keeps as they are (besides ASCII letters and digits)."""


def encode_path(path: str) -> str:
    """The (percent-decoded) path with each segment percent-encoded again, ``%``
    included, so that Powertools matches an id of any characters."""
    return "/".join(quote(segment, safe=_KEPT, errors="surrogatepass")
                    for segment in path.split("/"))


def _decode_segment(value: str) -> str:
    return unquote(value, errors="surrogatepass")


PathId = Annotated[str, Path(description="the id, percent-encoded (UTF-8) in the URL"),
                   AfterValidator(_decode_segment)]
"""A session or checkpoint id taken from the path: any id the library accepts."""


def location(*parts: str) -> str:
    """A path to a resource, each id percent-encoded (for ``Location`` headers)."""
    return "/" + "/".join(quote(part, safe="", errors="surrogatepass") for part in parts)


@dataclass(frozen=True)
class RouteInfo:
    method: str
    rule: str
    operation_id: str

    @property
    def loose(self) -> re.Pattern[str]:
        """The rule with any id (anything but ``/``) in each parameter."""
        return re.compile("^" + re.sub(r"<\w+>", r"[^/]+", self.rule) + "$")

    @property
    def strict(self) -> re.Pattern[str]:
        """The rule as Powertools matches it."""
        return re.compile("^" + re.sub(r"<\w+>", lambda _: URL_ID_CLASS + "+", self.rule)
                          + "$")


class ServiceRouter(Router):
    """A Powertools ``Router`` whose :meth:`operation` also records the route."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.operations: list[RouteInfo] = []

    def operation(self, method: str, rule: str, operation_id: str, **options: Any
                  ) -> Decorator:
        """Register ``method rule`` as ``operation_id`` (options as for ``route``)."""
        self.operations.append(RouteInfo(method, rule, operation_id))
        return cast(Decorator, self.route(rule, method, operation_id=operation_id, **options))


class RouteTable:
    """Every route of the app, for logs and for the replies to unrouted requests."""

    def __init__(self, routers: Iterable[ServiceRouter]) -> None:
        self._routes = [(info, info.loose, info.strict)
                        for router in routers for info in router.operations]

    def operation_of(self, method: str, path: str) -> str:
        """The operationId of the route a request goes to ("unknown" if none)."""
        for info, loose, _ in self._routes:
            if info.method == method and loose.match(path):
                return info.operation_id
        return "unknown"

    def not_routed(self, method: str, path: str) -> tuple[int, str, str, dict[str, str]]:
        """Why no route took a request: 405 (other methods exist), 400 (an id with
        characters no route accepts: only before the path was encoded) or 404."""
        allowed = sorted({info.method for info, _, strict in self._routes
                          if strict.match(path)})
        if allowed:
            return (405, "method_not_allowed",
                    f"{method} is not allowed on this path (allowed: {', '.join(allowed)})",
                    {"Allow": ", ".join(allowed)})
        if any(loose.match(path) for _, loose, _ in self._routes):
            return (400, "invalid_id", "invalid id: an id in the path holds characters "
                    "that ids may not contain", {})
        return 404, "route_not_found", "no route for this path", {}


NextCursor = Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS,
                                         description="next_cursor of the previous page")]
"""The ``cursor`` query parameter of every forward-paged listing (one definition, so
every listing documents and bounds it alike)."""
