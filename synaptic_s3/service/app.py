"""The HTTP API: a Powertools ``APIGatewayHttpResolver`` whose routes each call one
library method, and :class:`ServiceApp`, which screens a raw API Gateway v2 event,
picks the caller's :class:`~synaptic_s3.SessionManager` and turns every outcome into
JSON (errors as ``{"error": {"code", "message", "request_id"}}``).

Routing never assumes one function: every route works in any function the template
deploys it to. Handlers are synchronous and run the library's coroutines on the ONE
event loop the container owns (an :class:`asyncio.Runner` passed in), so the store
and its S3 client live across warm invocations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.metrics import MetricUnit

from synaptic_s3.checkpoint import Checkpoint, CheckpointConfig
from synaptic_s3.core.errors import ConflictError, InvalidKeyError, NotFoundError
from synaptic_s3.core.store import Store
from synaptic_s3.ids import checkpoint_id_from, iso_utc, uuid7_datetime, uuid7_from
from synaptic_s3.service.config import (
    DEFAULT_METRICS_NAMESPACE,
    DEFAULT_SERVICE_NAME,
    ServiceConfig,
)
from synaptic_s3.service.errors import (
    ApiError,
    error_body,
    explain_validation_errors,
    outcome_for,
)
from synaptic_s3.service.isolation import ScopedStore, jwt_subject, subject_scope
from synaptic_s3.service.models import (
    AppendMessages,
    CheckpointList,
    ErrorReply,
    MessageBatch,
    MessageList,
    SessionInfo,
    SessionList,
    SummaryIn,
    SummaryOut,
)
from synaptic_s3.service.pagination import MAX_CURSOR_CHARS, decode_cursor, encode_cursor
from synaptic_s3.service.requests import screen_event, strict_loads
from synaptic_s3.session import SessionManager

T = TypeVar("T")
RouteFunction = Callable[..., "Response[Any]"]
Decorator = Callable[[RouteFunction], RouteFunction]

# Logger reads LOG_LEVEL; both read POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
_SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE_NAME
logger = Logger(service=_SERVICE_NAME)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
    service=_SERVICE_NAME,
)

METRICS_ON = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() not in (
    "1", "true", "yes", "on")

JSON = "application/json"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
MAX_LAST = 100_000
LATEST = "latest"
# What Powertools' route parameters can match: an id with other characters can be
# stored by the library but not addressed in a URL, so the API refuses to create one.
_URL_ID_CLASS = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]"
_URL_ID = re.compile(f"^{_URL_ID_CLASS}+$")

_ERROR = {"content": {JSON: {"model": ErrorReply}}}
_COMMON_ERRORS: dict[int, Any] = {
    400: {"description": "Malformed id, JSON, cursor or parameter", **_ERROR},
    401: {"description": "ISOLATION_MODE=jwt and no verified subject", **_ERROR},
    422: {"description": "The body or a parameter does not match the schema", **_ERROR},
    500: {"description": "Internal error (no internals; quote request_id)", **_ERROR},
    503: {"description": "Storage unavailable after retries; retry later", **_ERROR},
}
_NOT_FOUND = {404: {"description": "No such session", **_ERROR}}
_BODY_ERRORS = {
    413: {"description": "Body larger than MAX_BODY_BYTES", **_ERROR},
    415: {"description": "Body is not application/json", **_ERROR},
}
_CONFLICT = {409: {"description": "Concurrent writers kept winning; retry", **_ERROR}}
_KEY_REUSED = {422: {"description": "The body or a parameter does not match the schema, or "
                     "the Idempotency-Key was used before with another request", **_ERROR}}
MAX_IDEMPOTENCY_KEY = 200
_IDEMPOTENCY_KEY = re.compile(f"[\\x20-\\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")
# Where the first sight of an Idempotency-Key is recorded (under the caller's scope).
IDEMPOTENCY = ("idempotency",)
IdempotencyKey = Annotated[str | None, Header(
    alias="idempotency-key",
    description="Makes a retry of this request act once: the same key (1-200 printable "
    "ASCII characters) with the same body mints the same ids. Without it, a repeat of the "
    "same API Gateway event (same requestId) is recognised instead.")]


def _responses(status: int, description: str, model: Any | None, *extra: dict[int, Any]
               ) -> dict[int, Any]:
    ok: dict[str, Any] = {"description": description}
    if model is not None:
        ok["content"] = {JSON: {"model": model}}
    merged: dict[int, Any] = {status: ok, **_COMMON_ERRORS}
    for more in extra:
        merged.update(more)
    return dict(sorted(merged.items()))


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(status_code=status, content_type=JSON, body=body, headers=headers)


def _no_content() -> Response[Any]:
    return Response(status_code=204, content_type=None, body=None)


def _session_info(session_id: str) -> dict[str, str]:
    created = uuid7_datetime(session_id)
    assert created is not None  # ids made by create_session are UUIDv7
    return SessionInfo(id=session_id, created_at=iso_utc(created)).to_dict()


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
        self._manager: SessionManager | None = None
        # (any id, ids Powertools can match, method, operationId) per route
        self._route_table: list[tuple[re.Pattern[str], re.Pattern[str], str, str]] = []
        self.resolver = self._build_resolver()

    # -- per request state ----------------------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

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

    def idempotency(self, operation: str, path: str, header: str | None
                    ) -> tuple[int, list[str]]:
        """The moment (Unix ms) and the seed every id a write mints derives from.

        Why: a Lambda double invocation (the same event twice, at once or after a
        first attempt whose answer was lost) or a client retry must write the same ids,
        so that the conditional session put and the id-deduplicated append and
        checkpoint put make the repeat a no-op. The key is the ``Idempotency-Key``
        header, else the event's ``requestId``; the moment is the event's
        ``timeEpoch`` for the latter, and for a header the time the key was first seen
        (recorded in the store, because a client retry is a new event with a new
        ``timeEpoch``). Both are scoped by the caller's isolation scope and the route.
        """
        if header is None:
            context = self._event.get("requestContext")
            epoch = context.get("timeEpoch") if isinstance(context, Mapping) else None
            ms = epoch if isinstance(epoch, int) and epoch >= 0 else time.time_ns() // 10**6
            return ms, [*self._scope, operation, "request", self._request_id]
        _check_idempotency_key(header)
        seed = [*self._scope, operation, "key", header]
        return self.run(self._first_seen(path, seed)), seed

    async def _first_seen(self, path: str, seed: list[str]) -> int:
        """When this key was first used for this route, recorded with a fingerprint of
        the request so a key reused for another request is refused, not silently
        turned into a no-op that drops the new data."""
        body = self._event.get("body")
        fingerprint = hashlib.sha256(json.dumps(
            [path, body if isinstance(body, str) else None]).encode()).hexdigest()
        key = hashlib.sha256(json.dumps(seed).encode()).hexdigest()
        now_ms = time.time_ns() // 10**6
        record = {"time_ms": now_ms, "request": fingerprint}
        store = self.manager.store
        try:
            await store.put(IDEMPOTENCY, key, record, if_absent=True)
            return now_ms
        except ConflictError:
            existing = await store.get(IDEMPOTENCY, key)
            if existing is None:  # expired between the two calls: this is now the first
                await store.put(IDEMPOTENCY, key, record)
                return now_ms
        value = existing.value
        first_ms = value.get("time_ms") if isinstance(value, dict) else None
        if not isinstance(value, dict) or value.get("request") != fingerprint \
                or not isinstance(first_ms, int):
            raise ApiError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used before with another request; "
                           "use a new key for a new request")
        return first_ms

    @property
    def manager(self) -> SessionManager:
        assert self._manager is not None, "manager used outside a request"
        return self._manager

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

    # -- entry point ------------------------------------------------------------------------

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Answer one API Gateway HTTP API (payload v2.0) event; never raises."""
        started = time.perf_counter()
        request_id = _request_id(event, context)
        method, path = _method_path(event)
        operation = self.operation_of(method, path)
        scope: tuple[str, ...] = ()
        self._request_id = request_id
        self._event = event
        self._scope = scope
        try:
            if self.config is None:
                logger.error("configuration error", extra={"reason": self.config_error})
                raise ApiError(500, "internal_error",
                               "the service is misconfigured; quote the request_id")
            if not isinstance(event, Mapping) or not isinstance(event.get("requestContext"),
                                                                Mapping):
                raise ApiError(400, "validation_error",
                               "not an API Gateway HTTP API (v2.0) event")
            if self.config.isolation == "jwt":  # before anything else: refuse strangers
                subject = jwt_subject(event)
                if subject is None:
                    raise ApiError(401, "unauthorized",
                                   "this API needs a verified JWT whose 'sub' claim names "
                                   "the caller")
                scope = subject_scope(subject)
                self._scope = scope
            screened = screen_event(event, self.config.max_body_bytes)
            self._manager = self._manager_for(scope)
            response = self.resolver.resolve(screened, context)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a JSON reply
            response = self._error_response(exc, request_id)
        finally:
            self._manager = None
            self._event = {}
        status = int(response.get("statusCode", 500))
        if response.get("body") is None:  # 204: no body at all ("body": null trips some
            response.pop("body", None)    # API Gateway emulators)
        headers = response.setdefault("headers", {})
        headers["x-request-id"] = request_id
        self._observe(operation, method, path, status, response, started, scope)
        return response

    def _error_response(self, exc: BaseException, request_id: str) -> dict[str, Any]:
        outcome = outcome_for(exc)
        self._log_outcome(outcome.log_level, outcome.code, exc)
        headers = {"Content-Type": JSON, **(outcome.headers or {})}
        return {
            "statusCode": outcome.status,
            "headers": headers,
            "body": json.dumps(error_body(outcome.code, outcome.message, request_id),
                               ensure_ascii=False, separators=(",", ":")),
            "isBase64Encoded": False,
        }

    @staticmethod
    def _log_outcome(level: str, code: str, exc: BaseException) -> None:
        extra = {"error_code": code, "error_type": type(exc).__name__}
        if level == "exception":
            logger.exception("unhandled error", extra=extra)
        elif level == "error":
            logger.error(f"request failed: {exc}", extra=extra)
        elif level == "warning":
            logger.warning(f"request failed: {exc}", extra=extra)
        else:  # client mistakes: the "request" line already carries the code
            logger.debug(f"client error: {exc}", extra=extra)

    def _observe(self, operation: str, method: str, path: str, status: int,
                 response: Mapping[str, Any], started: float, scope: tuple[str, ...]
                 ) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        code = None
        if status >= 400:
            try:
                code = json.loads(response.get("body") or "{}")["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
        extra: dict[str, Any] = {"operation": operation, "method": method, "path": path,
                                 "status": status, "error_code": code,
                                 "duration_ms": round(elapsed_ms, 2)}
        if scope:  # the subject's storage prefix (a hash), never the subject itself
            extra["scope"] = "/".join(scope)
        logger.info("request", extra=extra)
        if not METRICS_ON:  # disabled metrics still pile up and flush every 100 values
            return
        with warnings.catch_warnings():  # unflushed metrics (no log_metrics) warn
            warnings.simplefilter("ignore")
            metrics.add_dimension(name="operation", value=operation)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count,
                           value=1 if 400 <= status < 500 else 0)
        metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count,
                           value=1 if status >= 500 else 0)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        if code:
            metrics.add_metadata(key="error_code", value=code)

    def operation_of(self, method: str, path: str) -> str:
        """The operationId of the route a request goes to (for logs and metrics)."""
        for loose, _, route_method, operation in self._route_table:
            if route_method == method and loose.match(path):
                return operation
        return "unknown"

    def _not_routed(self, method: str, path: str) -> tuple[int, str, str, dict[str, str]]:
        """Why no route took a request: 405 (other methods exist), 400 (an id with
        characters no route accepts) or 404."""
        allowed = sorted({m for _, strict, m, _ in self._route_table if strict.match(path)})
        if allowed:
            return (405, "method_not_allowed",
                    f"{method} is not allowed on this path (allowed: {', '.join(allowed)})",
                    {"Allow": ", ".join(allowed)})
        if any(loose.match(path) for loose, _, _, _ in self._route_table):
            return (400, "invalid_id", "invalid id: an id in the path holds characters "
                    "that ids may not contain", {})
        return 404, "route_not_found", "no route for this path", {}

    # -- routes -------------------------------------------------------------------------------

    def _build_resolver(self) -> APIGatewayHttpResolver:
        app = APIGatewayHttpResolver(enable_validation=True,
                                     json_body_deserializer=strict_loads)
        service = self

        def route(method: str, rule: str, operation: str, **options: Any) -> Decorator:
            loose = re.compile("^" + re.sub(r"<\w+>", r"[^/]+", rule) + "$")
            strict = re.compile("^" + re.sub(r"<\w+>", lambda _: _URL_ID_CLASS + "+", rule)
                                + "$")
            self._route_table.append((loose, strict, method, operation))
            register = getattr(app, method.lower())
            return cast(Decorator, register(rule, operation_id=operation, **options))

        def on(exc_class: type[Exception]) -> Decorator:
            return cast(Decorator, app.exception_handler(exc_class))

        def require_session(session_id: str) -> SessionManager:
            """Before a write: the session must exist (never a silent write)."""
            manager = service.manager
            if service.run(manager.get_session(session_id)) is None:
                raise NotFoundError("session", session_id)
            return manager

        def read_in_session(session_id: str,
                            read: Callable[[SessionManager], Coroutine[Any, Any, T]]) -> T:
            """A read and the session's existence check at once (one round trip fewer);
            a missing session is 404 whatever the read found or raised."""
            manager = service.manager

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

            return service.run(both())

        @route("POST", "/sessions", "createSession", tags=["sessions"],
               summary="Create a session",
               description="Idempotent: a repeat of the same event, or of a request with "
               "the same Idempotency-Key, returns the same session.",
               responses=_responses(201, "The new session", SessionInfo))
        def create_session(idempotency_key: IdempotencyKey = None) -> Response[Any]:
            ms, seed = service.idempotency("createSession", "/sessions", idempotency_key)
            chosen = str(uuid7_from(ms, _seed(seed, "session")))
            session_id = service.run(service.manager.create_session(session_id=chosen))
            return _json(201, _session_info(session_id),
                         {"Location": f"/sessions/{session_id}"})

        @route("GET", "/sessions", "listSessions", tags=["sessions"],
               summary="List sessions, oldest first, one page at a time",
               responses=_responses(200, "One page of sessions", SessionList))
        def list_sessions(
            limit: Annotated[int, Query(ge=1, le=MAX_PAGE,
                                        description="sessions per page")] = DEFAULT_PAGE,
            cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS,
                                                description="next_cursor of the "
                                                "previous page")] = None,
        ) -> Response[Any]:
            after = decode_cursor(cursor) if cursor is not None else None
            infos, next_after = service.run(
                service.manager.list_sessions_page(limit=limit, after=after))
            return _json(200, {
                "sessions": [info.to_dict() for info in infos],
                "next_cursor": encode_cursor(next_after) if next_after else None,
            })

        @route("GET", "/sessions/<session_id>", "getSession", tags=["sessions"],
               summary="Get a session", responses=_responses(200, "The session", SessionInfo,
                                                             _NOT_FOUND))
        def get_session(session_id: str) -> Response[Any]:
            info = service.run(service.manager.get_session(session_id))
            if info is None:
                raise NotFoundError("session", session_id)
            return _json(200, info.to_dict())

        @route("DELETE", "/sessions/<session_id>", "deleteSession", tags=["sessions"],
               summary="Delete a session and everything it owns",
               responses=_responses(204, "Deleted", None, _NOT_FOUND))
        def delete_session(session_id: str) -> Response[Any]:
            manager = require_session(session_id)
            service.run(manager.delete_session(session_id))
            return _no_content()

        @route("POST", "/sessions/<session_id>/messages", "appendMessages",
               tags=["messages"], summary="Append one message or a batch",
               description="Idempotent by message id: a message whose id is already "
               "stored is not stored again; messages without an id get one, derived from "
               "the request (Idempotency-Key, else the event's requestId), so a repeated "
               "request stores them once.",
               responses=_responses(201, "The messages as stored (ids filled in)",
                                    MessageList, _NOT_FOUND, _CONFLICT, _BODY_ERRORS,
                                    _KEY_REUSED))
        def append_messages(session_id: str,
                            body: Annotated[AppendMessages, Body()],
                            idempotency_key: IdempotencyKey = None) -> Response[Any]:
            _check_idempotency_key(idempotency_key)
            messages = body.messages if isinstance(body, MessageBatch) else [body]
            manager = require_session(session_id)
            if any(message.id is None for message in messages):
                ms, seed = service.idempotency("appendMessages", f"/sessions/{session_id}",
                                               idempotency_key)
                for index, message in enumerate(messages):
                    if message.id is None:
                        message.id = str(uuid7_from(ms, _seed(seed, session_id,
                                                              str(index))))
            service.run(manager.memory().append_many(session_id, messages))
            return _json(201, {"messages": [m.to_dict() for m in messages]})

        @route("GET", "/sessions/<session_id>/messages", "listMessages", tags=["messages"],
               summary="The messages, oldest first",
               responses=_responses(200, "The messages", MessageList, _NOT_FOUND))
        def list_messages(
            session_id: str,
            last: Annotated[int | None, Query(ge=0, le=MAX_LAST,
                                              description="only the newest N (still "
                                              "oldest first)")] = None,
        ) -> Response[Any]:
            messages = read_in_session(session_id, lambda m: m.memory().load(session_id))
            if last is not None:
                messages = messages[len(messages) - last:] if last else []
            return _json(200, {"messages": [m.to_dict() for m in messages]})

        @route("DELETE", "/sessions/<session_id>/messages", "clearMessages",
               tags=["messages"], summary="Remove the messages and the summary",
               responses=_responses(204, "Cleared", None, _NOT_FOUND))
        def clear_messages(session_id: str) -> Response[Any]:
            manager = require_session(session_id)
            service.run(manager.memory().clear(session_id))
            return _no_content()

        @route("GET", "/sessions/<session_id>/summary", "getSummary", tags=["summary"],
               summary="The running summary (null when never set)",
               responses=_responses(200, "The summary", SummaryOut, _NOT_FOUND))
        def get_summary(session_id: str) -> Response[Any]:
            summary = read_in_session(session_id,
                                      lambda m: m.memory().get_summary(session_id))
            return _json(200, {"summary": summary})

        @route("PUT", "/sessions/<session_id>/summary", "putSummary", tags=["summary"],
               summary="Replace the summary",
               responses=_responses(200, "The summary as stored", SummaryOut, _NOT_FOUND,
                                    _BODY_ERRORS))
        def put_summary(session_id: str, body: Annotated[SummaryIn, Body()]) -> Response[Any]:
            manager = require_session(session_id)
            service.run(manager.memory().set_summary(session_id, body.summary))
            return _json(200, {"summary": body.summary})

        @route("POST", "/sessions/<session_id>/checkpoints", "putCheckpoint",
               tags=["checkpoints"], summary="Store a checkpoint (id generated if omitted)",
               description="An omitted id is derived from the request (Idempotency-Key, "
               "else the event's requestId), so a repeated request stores one checkpoint.",
               responses=_responses(201, "The checkpoint as stored", Checkpoint, _NOT_FOUND,
                                    _BODY_ERRORS, _KEY_REUSED))
        def put_checkpoint(session_id: str,
                           body: Annotated[Checkpoint, Body()],
                           idempotency_key: IdempotencyKey = None) -> Response[Any]:
            _check_idempotency_key(idempotency_key)
            if body.id == LATEST or not _URL_ID.match(body.id):
                raise InvalidKeyError(f"checkpoint id {body.id!r} cannot be used in a URL "
                                      f"('{LATEST}' is reserved)")
            manager = require_session(session_id)
            if "id" not in body.model_fields_set:
                ms, seed = service.idempotency(
                    "putCheckpoint", f"/sessions/{session_id}/checkpoints", idempotency_key)
                body = body.model_copy(update={
                    "id": checkpoint_id_from(ms, _seed(seed, session_id))})
            service.run(manager.checkpointer().put(CheckpointConfig(session_id), body))
            return _json(201, body.to_dict(),
                         {"Location": f"/sessions/{session_id}/checkpoints/{body.id}"})

        @route("GET", "/sessions/<session_id>/checkpoints", "listCheckpoints",
               tags=["checkpoints"], summary="Every checkpoint, oldest first",
               responses=_responses(200, "The checkpoints", CheckpointList, _NOT_FOUND))
        def list_checkpoints(session_id: str) -> Response[Any]:
            found = read_in_session(
                session_id, lambda m: m.checkpointer().list(CheckpointConfig(session_id)))
            return _json(200, {"checkpoints": [c.to_dict() for c in found]})

        # Registered before /<checkpoint_id>: the literal route wins.
        @route("GET", "/sessions/<session_id>/checkpoints/latest", "getLatestCheckpoint",
               tags=["checkpoints"], summary="The newest checkpoint (404 when none)",
               responses=_responses(200, "The checkpoint", Checkpoint,
                                    {404: {"description": "No such session, or no "
                                           "checkpoint yet", **_ERROR}}))
        def get_latest_checkpoint(session_id: str) -> Response[Any]:
            latest = read_in_session(
                session_id, lambda m: m.checkpointer().get(CheckpointConfig(session_id)))
            if latest is None:
                raise NotFoundError("checkpoint", LATEST)
            return _json(200, latest.to_dict())

        @route("GET", "/sessions/<session_id>/checkpoints/<checkpoint_id>", "getCheckpoint",
               tags=["checkpoints"], summary="One checkpoint by id",
               responses=_responses(200, "The checkpoint", Checkpoint,
                                    {404: {"description": "No such session or checkpoint",
                                           **_ERROR}}))
        def get_checkpoint(session_id: str, checkpoint_id: str) -> Response[Any]:
            found = read_in_session(session_id, lambda m: m.checkpointer().get(
                CheckpointConfig(session_id, checkpoint_id)))
            if found is None:
                raise NotFoundError("checkpoint", checkpoint_id)
            return _json(200, found.to_dict())

        @on(RequestValidationError)
        def on_validation_error(exc: RequestValidationError) -> Response[Any]:
            code, message, status = explain_validation_errors(exc.errors())
            logger.debug(f"client error: {message}", extra={"error_code": code})
            return _json(status, error_body(code, message, service._request_id))

        @on(RouteNotFound)
        def on_route_not_found(exc: RouteNotFound) -> Response[Any]:
            event = app.current_event
            status, code, message, headers = self._not_routed(event.http_method.upper(),
                                                              event.path)
            return _json(status, error_body(code, message, service._request_id), headers)

        @on(Exception)
        def on_error(exc: Exception) -> Response[Any]:
            outcome = outcome_for(exc)
            self._log_outcome(outcome.log_level, outcome.code, exc)
            return _json(outcome.status,
                         error_body(outcome.code, outcome.message, service._request_id),
                         outcome.headers)

        return app

    _request_id: str = "unknown"
    _event: Mapping[str, Any] = {}
    _scope: tuple[str, ...] = ()

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


def _check_idempotency_key(header: str | None) -> None:
    """Refuse a malformed key on every write route that takes one, even where the
    request mints no id, so a client learns of its mistake before it matters."""
    if header is not None and not _IDEMPOTENCY_KEY.fullmatch(header):
        raise ApiError(400, "invalid_idempotency_key",
                       f"the Idempotency-Key header must be 1-{MAX_IDEMPOTENCY_KEY} "
                       "printable ASCII characters")


def _seed(parts: list[str], *more: str) -> bytes:
    """Unambiguous bytes for a list of strings (any of them may hold any separator)."""
    return json.dumps([*parts, *more]).encode()


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
