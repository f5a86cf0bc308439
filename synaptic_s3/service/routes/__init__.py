"""The routes of the HTTP API, one module per resource; :data:`ROUTERS` is the order in
which the resolver takes them (and the OpenAPI document lists them).

Adding a route: add a function to the resource's module (``@router.operation(...)``,
taking a Powertools ``Request`` for the request's state) and regenerate
docs/openapi.json. A new resource: a new module here, listed in :data:`ROUTERS`.
"""

from __future__ import annotations

from synaptic_s3.service.routes import checkpoints, lifecycle, messages, sessions, summary
from synaptic_s3.service.routing import ServiceRouter

ROUTERS: tuple[ServiceRouter, ...] = (
    sessions.router,
    messages.router,
    summary.router,
    checkpoints.router,
    lifecycle.router,
)
