"""The HTTP API's container: :class:`ServiceApp` screens a raw API Gateway v2 event,
picks the caller's :class:`~synaptic_s3.SessionManager`, hands the event and one
:class:`~synaptic_s3.service.context.ServiceRequest` to the Powertools resolver
(:mod:`synaptic_s3.service.resolver`; the routes are in
:mod:`synaptic_s3.service.routes`, one module per resource) and turns every outcome
into JSON (errors as ``{"error": {"code", "message", "request_id"}}``).

Routing never assumes one function: every route works in any function the template
deploys it to. Handlers are synchronous and run the library's coroutines on the ONE
event loop the container owns (an :class:`asyncio.Runner` passed in), so the store
and its S3 client live across warm invocations. Nothing about a request is kept on
the app: it lives in the resolver's context, which Powertools clears after each event.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from synaptic_s3.core.store import Store
from synaptic_s3.service.config import DEFAULT_MAX_REPLY_BYTES, ServiceConfig
from synaptic_s3.service.context import CONTEXT_KEY, ServiceRequest
from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.isolation import ScopedStore, jwt_subject, subject_scope
from synaptic_s3.service.pagination import CursorSigner, default_cursor_key
from synaptic_s3.service.replies import failure, lambda_reply
from synaptic_s3.service.requests import screen_event
from synaptic_s3.service.resolver import build_resolver
from synaptic_s3.service.telemetry import METRICS_ON, logger, metrics, observe
from synaptic_s3.session import SessionManager

__all__ = ["METRICS_ON", "ServiceApp", "logger", "metrics"]


class ServiceApp:
    """One container's service: its config, its store (opened on first use), the
    managers per isolation scope (bounded LRU), and the resolver built once."""

    def __init__(self, config: ServiceConfig | None, runner: asyncio.Runner, *,
                 config_error: str | None = None, store: Store | None = None) -> None:
        self.config = config
        self.config_error = config_error if config is None else None
        self.runner = runner
        self._store = store
        self._managers: OrderedDict[tuple[str, ...], SessionManager] = OrderedDict()
        self.resolver, self.routes = build_resolver()
        secret = config.cursor_secret if config is not None else None
        self.cursors = CursorSigner(
            secret.encode("utf-8") if secret is not None
            else default_cursor_key(config.store.to_url() if config is not None else ""))

    @property
    def store(self) -> Store:
        if self._store is None:
            assert self.config is not None
            self._store = self.config.store.open()
        return self._store

    def _manager_for(self, scope: tuple[str, ...]) -> SessionManager:
        manager = self._managers.get(scope)
        if manager is None:
            store = self.store if not scope else ScopedStore(self.store, scope)
            manager = SessionManager(store)
            self._managers[scope] = manager
            assert self.config is not None
            while len(self._managers) > self.config.max_cached_scopes:
                self._managers.popitem(last=False)
        self._managers.move_to_end(scope)
        return manager

    async def warm(self) -> None:
        """Open the store and create its S3 client now (no request is sent): on Lambda
        this runs during init, as AWS advises for SDK clients, instead of in the first
        request."""
        if self.config is None:
            return
        client = getattr(self.store, "client", None)
        if client is not None:
            await client()

    async def close(self) -> None:
        """Release the store's clients (tests, the local server on shutdown)."""
        if self._store is not None:
            await self._store.close()

    def operation_of(self, method: str, path: str) -> str:
        """The operationId of the route a request goes to (for logs and metrics)."""
        return self.routes.operation_of(method, path)

    # -- entry point ------------------------------------------------------------------------

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Answer one API Gateway HTTP API (payload v2.0) event; never raises."""
        started = time.perf_counter()
        method, path = _method_path(event)
        request = ServiceRequest(request_id=_request_id(event, context),
                                 event=event if isinstance(event, Mapping) else {},
                                 runner=self.runner, cursors=self.cursors,
                                 max_reply_bytes=(self.config.max_reply_bytes if self.config
                                                  else DEFAULT_MAX_REPLY_BYTES))
        try:
            response = self._answer(event, context, request)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON reply
            response = lambda_reply(failure(request, exc))
        status = int(response.get("statusCode", 500))
        if response.get("body") is None:  # 204: no body at all ("body": null trips some
            response.pop("body", None)    # API Gateway emulators)
        headers = response.setdefault("headers", {})
        headers["x-request-id"] = request.request_id
        observe(operation=self.operation_of(method, path), method=method, path=path,
                status=status, error_code=request.error_code, started=started,
                scope=request.scope)
        return response

    def _answer(self, event: Mapping[str, Any], context: Any, request: ServiceRequest
                ) -> dict[str, Any]:
        if self.config is None:
            logger.error("configuration error", extra={"reason": self.config_error})
            raise ApiError(500, "internal_error",
                           "the service is misconfigured; quote the request_id")
        if not isinstance(event, Mapping) or not isinstance(event.get("requestContext"),
                                                            Mapping):
            raise ApiError(400, "validation_error", "not an API Gateway HTTP API (v2.0) event")
        if self.config.isolation == "jwt":  # before anything else: refuse strangers
            subject = jwt_subject(event)
            if subject is None:
                raise ApiError(401, "unauthorized",
                               "this API needs a verified JWT whose 'sub' claim names "
                               "the caller")
            request.scope = subject_scope(subject)
        screened = screen_event(event, self.config.max_body_bytes)
        request.session_manager = self._manager_for(request.scope)
        self.resolver.append_context(**{CONTEXT_KEY: request})  # type: ignore[no-untyped-call]
        return self.resolver.resolve(screened, context)

    def openapi_json(self) -> str:
        """The OpenAPI document of these routes (what docs/openapi.json holds)."""
        from synaptic_s3 import __version__

        document = json.loads(self.resolver.get_openapi_json_schema(
            title="synaptic-s3 sessions API",
            version=__version__,
            description="LLM-agent sessions (metadata, messages, summary, checkpoints) "
            "kept in S3. Errors are {\"error\": {\"code\", \"message\", \"request_id\"}}; "
            "see docs/service.md for the codes.",
        ))
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                no_content = operation.get("responses", {}).get("204")
                if isinstance(no_content, dict):
                    # Powertools documents its default "Return" body even for a 204.
                    no_content.pop("content", None)
        return json.dumps(document, indent=2)


def _request_id(event: Mapping[str, Any], context: Any) -> str:
    request_context = event.get("requestContext") if isinstance(event, Mapping) else None
    if isinstance(request_context, Mapping):
        value = request_context.get("requestId")
        if isinstance(value, str) and value:
            return value
    value = getattr(context, "aws_request_id", None)
    return value if isinstance(value, str) and value else "unknown"


def _method_path(event: Mapping[str, Any]) -> tuple[str, str]:
    method, path = "", ""
    if isinstance(event, Mapping):
        request_context = event.get("requestContext")
        http = request_context.get("http") if isinstance(request_context, Mapping) else None
        if isinstance(http, Mapping) and isinstance(http.get("method"), str):
            method = http["method"].upper()
        raw_path = event.get("rawPath")
        if isinstance(raw_path, str):
            path = raw_path
            stage = request_context.get("stage") if isinstance(request_context, Mapping) else None
            if isinstance(stage, str) and stage not in ("", "$default") \
                    and path.startswith(f"/{stage}"):
                path = path[len(stage) + 1:] or "/"
    return method, path
