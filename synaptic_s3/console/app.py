"""The console as one object: a request in, a response out, never an exception.

:class:`ConsoleApp` knows nothing of sockets: :mod:`synaptic_s3.console.server`
(``synaptic-s3 console``) and the local API server (``/console`` on
``synaptic-s3 serve``) both feed it. It reads through the same library calls
as the HTTP API (``SessionManager``, ``ChatMessageHistory.page``/``page_before``,
``StoreCheckpointer.list_page``/``get``), run on the caller's event loop through
``run`` (one loop owns the store's S3 client).

Writes (delete, fork) exist only when the console was started with writes allowed,
are POST only, and need all of: the per-process secret token of the confirmation
form, no foreign ``Origin``, and no cross-site ``Sec-Fetch-Site``. When bound to
loopback, a request whose ``Host`` is not a loopback name is refused outright, so
a DNS-rebinding page cannot read the console either.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import sys
import traceback
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from synaptic_s3.checkpoint import CheckpointConfig
from synaptic_s3.console import views
from synaptic_s3.console.jsondiff import diff
from synaptic_s3.console.listing import newest_first
from synaptic_s3.console.markup import esc, href, url
from synaptic_s3.core.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    CorruptDataError,
    InvalidKeyError,
    NotFoundError,
    StorageError,
    SynapticError,
)
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.ids import uuid7_datetime
from synaptic_s3.session import SESSIONS, SessionInfo, SessionManager

T = TypeVar("T")
Runner = Callable[[Coroutine[Any, Any, Any]], Any]

SESSIONS_PAGE = 100
MESSAGES_PAGE = 200
CHECKPOINTS_PAGE = 50
MAX_FORM_BYTES = 16 * 1024
MAX_POSITION = 10**12
STATIC_TYPES = {"console.css": "text/css; charset=utf-8",
                "console.js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; "
     "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our
    # own form POSTs, which the write check must refuse. Other sites still get nothing.
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str
    """The request target as sent: raw path (percent-encoded) and query."""
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes = b""


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


class HttpError(Exception):
    """Ends a request with an error page (status, title, explanation)."""

    def __init__(self, status: int, title: str, text: str,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.title = title
        self.text = text
        self.headers = headers or []


class Redirect(Exception):
    """Ends a request with a 303 to ``location`` (a control-flow signal)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def loopback_hosts(host: str, port: int) -> frozenset[str] | None:
    """The ``Host`` values a loopback-bound console accepts, or ``None`` (no check)
    when it was bound to another address on purpose."""
    if host not in ("localhost", "::1") and not host.startswith("127."):
        return None
    names = {"127.0.0.1", "localhost", "[::1]", host if host != "::1" else "[::1]"}
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(hosts)


class ConsoleApp:
    """Routes, reads and renders; see the module docstring for the write rules."""

    def __init__(self, manager: SessionManager, *, run: Runner, store_label: str,
                 allow_writes: bool = False, base: str = "/console",
                 allowed_hosts: frozenset[str] | None = None, token: str | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.manager = manager
        self._run = run
        self.allow_writes = allow_writes
        self.base = base.rstrip("/")
        self.allowed_hosts = allowed_hosts
        self.token = token or secrets.token_urlsafe(32)
        self.chrome = views.Chrome(self.base, store_label, allow_writes, self.token)
        self._log = log or (lambda text: print(text, file=sys.stderr))

    @property
    def can_fork(self) -> bool:
        """Forking needs ``SessionManager.fork_session`` (newer library versions)."""
        return callable(getattr(self.manager, "fork_session", None))

    def restrict_to(self, host: str, port: int) -> None:
        """Accept only the ``Host`` names of a loopback bind (after the port is known)."""
        self.allowed_hosts = loopback_hosts(host, port)

    def owns(self, raw_path: str) -> bool:
        """Whether a request path belongs to the console (for a server that mounts it)."""
        return raw_path == self.base or raw_path.startswith(self.base + "/")

    # -- entry point ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises (a bug becomes a 500 page and a log line)."""
        try:
            response = self._route(request)
        except Redirect as redirect:
            response = Response(303, b"", [("Location", redirect.location)])
        except HttpError as exc:
            response = self._error(exc.status, exc.title, exc.text, exc.headers)
        except NotFoundError as exc:
            response = self._error(404, "Not found", str(exc))
        except InvalidKeyError as exc:
            response = self._error(400, "Bad id", exc.reason)
        except (AccessDeniedError, BucketNotFoundError) as exc:
            response = self._error(502, "The store refused", str(exc))
        except StorageError as exc:
            response = self._error(503, "The store is unavailable",
                                   f"{type(exc).__name__}: {exc}. Try again.")
        except CorruptDataError as exc:
            response = self._error(500, "Unreadable stored data", str(exc))
        except SynapticError as exc:
            response = self._error(500, type(exc).__name__, str(exc))
        except Exception:  # noqa: BLE001 - the browser gets a page, the log the traceback
            self._log(f"console: error answering {request.method} {request.target}\n"
                      + traceback.format_exc())
            response = self._error(500, "Internal error",
                                   "The console failed on this page; its log has the details.")
        response.headers.extend(SECURITY_HEADERS)
        if request.method == "HEAD":
            response.headers.append(("Content-Length", str(len(response.body))))
            response.body = b""
        return response

    def _error(self, status: int, title: str, text: str,
               headers: list[tuple[str, str]] | None = None) -> Response:
        page = views.error_page(self.chrome, status, title, text)
        return Response(status, page.encode(), [("Content-Type", "text/html; charset=utf-8"),
                                                *(headers or [])])

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        result: T = self._run(coro)
        return result

    # -- routing ----------------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        if self.allowed_hosts is not None:
            host = request.headers.get("host", "")
            if host.lower() not in self.allowed_hosts:  # plain text: not even the store's name
                return Response(400, b"This console answers only on loopback addresses.\n",
                                [("Content-Type", "text/plain; charset=utf-8")])
        parts = urlsplit(request.target)
        path = parts.path
        if path == self.base:
            raise Redirect(self.base + "/")
        if not path.startswith(self.base + "/"):
            raise HttpError(404, "Not found", "No such page.")
        try:
            segments = [unquote(s, errors="strict") for s in path[len(self.base) + 1:].split("/")]
            query = self._query(parts.query)
        except UnicodeDecodeError:
            raise HttpError(400, "Bad request", "The address is not valid UTF-8.") from None
        method = request.method
        write = method == "POST"
        if method not in ("GET", "HEAD", "POST"):
            raise HttpError(405, "Method not allowed", f"{method} is not used here.",
                            [("Allow", "GET, HEAD, POST")])
        match segments:
            case [""] if not write:
                return self._html(self._sessions_page(query))
            case ["static", name] if not write and name in STATIC_TYPES:
                return self._static(name)
            case ["s", sid] if not write:
                return self._html(self._conversation(self._id(sid), query))
            case ["s", sid, "checkpoints"] if not write:
                return self._html(self._timeline(self._id(sid), query))
            case ["s", sid, "checkpoints", cid] if not write:
                return self._html(self._checkpoint(self._id(sid), self._cp_id(sid, cid)))
            case ["s", sid, ("delete" | "fork") as action]:
                self._require_writes()
                if write:
                    return self._write(action, self._id(sid), request)
                return self._html(self._confirm(action, self._id(sid), query))
            case [""] | ["static", _] | ["s", _] | ["s", _, "checkpoints", *_] if write:
                raise HttpError(405, "Method not allowed", "This page is read-only.",
                                [("Allow", "GET, HEAD")])
        raise HttpError(404, "Not found", "No such page.")

    @staticmethod
    def _query(text: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True, errors="strict"):
            if name in values:
                raise HttpError(400, "Bad request", f"The parameter {name!r} is repeated.")
            values[name] = value
        return values

    @staticmethod
    def _id(session_id: str) -> str:
        validate_key(SESSIONS, session_id)
        return session_id

    @staticmethod
    def _cp_id(session_id: str, checkpoint_id: str) -> str:
        validate_key(("checkpoints", session_id), checkpoint_id)
        return checkpoint_id

    @staticmethod
    def _position(query: Mapping[str, str], name: str) -> int | None:
        text = query.get(name)
        if text is None:
            return None
        if not text.isascii() or not text.isdigit() or int(text) > MAX_POSITION:
            raise HttpError(400, "Bad request", f"{name} must be a whole number.")
        return int(text)

    @staticmethod
    def _html(page: str, status: int = 200) -> Response:
        return Response(status, page.encode(), [("Content-Type", "text/html; charset=utf-8")])

    @staticmethod
    def _static(name: str) -> Response:
        data = resources.files("synaptic_s3.console").joinpath("static", name).read_bytes()
        return Response(200, data, [("Content-Type", STATIC_TYPES[name])])

    # -- pages ------------------------------------------------------------------------------

    def _sessions_page(self, query: Mapping[str, str]) -> str:
        order = query.get("order", "newest")
        if order not in ("newest", "oldest"):
            raise HttpError(400, "Bad request", "order is newest or oldest.")
        search = query.get("q", "").strip()
        after, before = query.get("after"), query.get("before")
        for cursor in (after, before):
            if cursor is not None:
                self._id(cursor)
        view = self._call(self._load_sessions(order, search, after, before))
        return views.sessions_page(self.chrome, view)

    async def _load_sessions(self, order: str, search: str, after: str | None,
                             before: str | None) -> views.SessionsView:
        manager = self.manager
        if search:
            try:
                validate_key(SESSIONS, search)
            except InvalidKeyError as exc:
                raise HttpError(400, "Bad id", exc.reason) from None
            if await manager.get_session(search) is not None:
                raise Redirect(url(self.base, "s", search))
            infos, next_after = await manager.list_sessions_page(limit=SESSIONS_PAGE,
                                                                 after=search)
            return views.SessionsView(infos, "oldest", next_after, False, search,
                                      f"No session has the id {search!r}; these are the ids "
                                      "that sort after it.")
        if order == "oldest":
            infos, next_after = await manager.list_sessions_page(limit=SESSIONS_PAGE,
                                                                 after=after)
            return views.SessionsView(infos, order, next_after, after is None)
        keys, more = await newest_first(manager.store, SESSIONS, before=before,
                                        limit=SESSIONS_PAGE)
        infos = await self._infos(keys)
        return views.SessionsView(infos, order, keys[-1] if more and keys else None,
                                  before is None)

    async def _infos(self, keys: list[str]) -> list[SessionInfo]:
        """Metadata of the page's sessions, in the given order: free for UUIDv7 ids
        (the id says when), one read each for other ids."""
        async def one(key: str) -> SessionInfo | None:
            moment = uuid7_datetime(key)
            if moment is not None:
                stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                return SessionInfo(id=key, created_at=stamp)
            return await self.manager.get_session(key)

        found = await gather_bounded((one(key) for key in keys), 16)
        return [info for info in found if info is not None]

    async def _session(self, session_id: str) -> SessionInfo:
        info = await self.manager.get_session(session_id)
        if info is None:
            raise NotFoundError("session", session_id)
        return info

    def _conversation(self, session_id: str, query: Mapping[str, str]) -> str:
        start, end = self._position(query, "start"), self._position(query, "end")
        if start is not None and end is not None:
            raise HttpError(400, "Bad request", "Give start or end, not both.")
        memory = self.manager.memory()

        async def load() -> views.ConversationView:
            if start is not None:
                reading = memory.page(session_id, start=start, limit=MESSAGES_PAGE)
            else:
                reading = memory.page_before(session_id, end=end, limit=MESSAGES_PAGE)
            info, summary, page = await asyncio.gather(
                self._session(session_id), memory.get_summary(session_id), reading)
            return views.ConversationView(info, summary, page, self.can_fork)

        return views.conversation_page(self.chrome, self._call(load()))

    def _timeline(self, session_id: str, query: Mapping[str, str]) -> str:
        after = query.get("after")
        if after is not None:
            self._cp_id(session_id, after)
        checkpointer = self.manager.checkpointer()

        async def load() -> views.TimelineView:
            info, page = await asyncio.gather(
                self._session(session_id),
                checkpointer.list_page(CheckpointConfig(thread_id=session_id),
                                       limit=CHECKPOINTS_PAGE, after=after))
            return views.TimelineView(info, page.checkpoints, page.next_after, after is None)

        return views.timeline_page(self.chrome, self._call(load()))

    def _checkpoint(self, session_id: str, checkpoint_id: str) -> str:
        checkpointer = self.manager.checkpointer()

        async def load() -> views.CheckpointView:
            info, checkpoint = await asyncio.gather(
                self._session(session_id),
                checkpointer.get(CheckpointConfig(session_id, checkpoint_id)))
            if checkpoint is None:
                raise NotFoundError("checkpoint", checkpoint_id)
            parent = None
            if checkpoint.parent_id is not None:
                try:
                    validate_key(("checkpoints", session_id), checkpoint.parent_id)
                except InvalidKeyError:
                    pass  # a parent id no key can have: shown as "not in the store"
                else:
                    parent = await checkpointer.get(
                        CheckpointConfig(session_id, checkpoint.parent_id))
            base_state = parent.state if parent is not None else None
            changes, truncated = diff(base_state if checkpoint.parent_id else {},
                                      checkpoint.state)
            return views.CheckpointView(info, checkpoint, parent, changes, truncated,
                                        self.can_fork)

        return views.checkpoint_page(self.chrome, self._call(load()))

    # -- writes -----------------------------------------------------------------------------

    def _require_writes(self) -> None:
        if not self.allow_writes:
            raise HttpError(403, "Read-only console",
                            "This console was started read-only; restart it with "
                            "--allow-writes to delete or fork sessions.")

    def _confirm(self, action: str, session_id: str, query: Mapping[str, str]) -> str:
        info = self._call(self._session(session_id))
        back = href(self.base, "s", info.id)
        action_url = href(self.base, "s", info.id, action)
        sid = f"<code>{esc(info.id)}</code>"
        if action == "delete":
            return views.confirm_page(
                self.chrome, title="Delete this session?", action=action_url,
                question=f"Delete session {sid} with all its messages, summary and "
                         "checkpoints? This cannot be undone.",
                button="Delete for good", fields={}, danger=True, back=back)
        if not self.can_fork:
            raise HttpError(404, "Not available", "This library version cannot fork sessions.")
        checkpoint = query.get("checkpoint")
        fields = {}
        where = "with all its messages"
        if checkpoint is not None:
            self._cp_id(session_id, checkpoint)
            fields["checkpoint"] = checkpoint
            where = f"from checkpoint <code>{esc(checkpoint)}</code>"
        return views.confirm_page(
            self.chrome, title="Fork this session?", action=action_url,
            question=f"Copy session {sid} {where} into a new session?",
            button="Fork", fields=fields, danger=False, back=back)

    def _check_origin(self, request: Request) -> None:
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise HttpError(403, "Cross-site request refused",
                            f"A {site} request cannot change anything here.")
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            raise HttpError(403, "Cross-site request refused",
                            "The request came from another origin.")

    def _form(self, request: Request) -> dict[str, str]:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            raise HttpError(400, "Bad request", "Send the confirmation form.")
        if len(request.body) > MAX_FORM_BYTES:
            raise HttpError(413, "Too large", "The form is too large.")
        try:
            form = self._query(request.body.decode("ascii"))
        except UnicodeDecodeError:
            raise HttpError(400, "Bad request", "The form is not valid.") from None
        if not hmac.compare_digest(form.get("token", "").encode(), self.token.encode()):
            raise HttpError(403, "Stale or missing token",
                            "Open the page again from this console and confirm there.")
        return form

    def _write(self, action: str, session_id: str, request: Request) -> Response:
        self._check_origin(request)
        form = self._form(request)
        if action == "delete":
            self._call(self._session(session_id))
            self._call(self.manager.delete_session(session_id))
            self._log(f"console: deleted session {session_id!r}")
            page = views.message_page(self.chrome, "Session deleted",
                                      f"Session {session_id} was deleted.",
                                      link=("Back to the sessions", href(self.base, "")))
            return self._html(page)
        if not self.can_fork:
            raise HttpError(404, "Not available", "This library version cannot fork sessions.")
        checkpoint = form.get("checkpoint")
        if checkpoint is not None:
            self._cp_id(session_id, checkpoint)
        self._call(self._session(session_id))
        fork = getattr(self.manager, "fork_session")  # noqa: B009 - optional API
        new_id = self._call(fork(session_id, checkpoint_id=checkpoint))
        self._log(f"console: forked session {session_id!r} into {new_id!r}")
        raise Redirect(url(self.base, "s", str(new_id)))
