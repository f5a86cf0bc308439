"""``synaptic-s3 console``: the console on a stdlib HTTP server, bound to 127.0.0.1.

Why the standard library: the console serves a handful of server-rendered pages
to one person on their own machine; ``http.server`` does that with no dependency
to install, audit or keep compatible with the Lambda package. One
``asyncio.Runner`` owns the store (and its S3 client); a lock lets one request at
a time use it, while static files and the socket handling stay concurrent.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from synaptic_s3.console.app import ConsoleApp, Request
from synaptic_s3.service.store_url import StoreSpec

MAX_BODY_BYTES = 64 * 1024


def answer(handler: BaseHTTPRequestHandler, app: ConsoleApp) -> None:
    """Read one request from ``handler``, let ``app`` answer it, write the reply
    (also used by ``synaptic-s3 serve`` for its ``/console`` path)."""
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = -1
    problem = (411 if handler.headers.get("Transfer-Encoding") else 400 if length < 0
               else 413 if length > MAX_BODY_BYTES else None)
    if problem is not None:  # stdlib's plain error page: nothing stored is echoed
        handler.send_error(problem)
        handler.close_connection = True
        return
    body = handler.rfile.read(length) if length else b""
    headers = {name.lower(): value for name, value in handler.headers.items()}
    response = app.handle(Request(handler.command, handler.path, headers, body))
    handler.send_response(response.status)
    for name, value in response.headers:
        handler.send_header(name, value)
    if handler.command != "HEAD":
        handler.send_header("Content-Length", str(len(response.body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(response.body)


def make_handler(app: ConsoleApp, *, quiet: bool = True) -> type[BaseHTTPRequestHandler]:
    class ConsoleHandler(BaseHTTPRequestHandler):
        server_version = "synaptic-s3-console"
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            if self.path == "/" or self.path.startswith("/?"):  # the console's front door
                self.send_response(303)
                self.send_header("Location", app.base + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            answer(self, app)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _any

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    return ConsoleHandler


class ConsoleServer:
    """A running console: ``url``, and ``close()`` (or use it as a context manager)."""

    def __init__(self, spec: StoreSpec, *, host: str = "127.0.0.1", port: int = 0,
                 allow_writes: bool = False, quiet: bool = True) -> None:
        from synaptic_s3.session import SessionManager

        self._runner = asyncio.Runner()
        self._lock = threading.Lock()
        self.store = spec.open()
        self.app = ConsoleApp(SessionManager(self.store), run=self._run,
                              store_label=spec.display(), allow_writes=allow_writes)
        self.httpd = ThreadingHTTPServer((host, port), make_handler(self.app, quiet=quiet))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.app.restrict_to(host, self.port)
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{self.port}{self.app.base}/"
        self._thread: threading.Thread | None = None

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        with self._lock:
            return self._runner.run(coro)

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> ConsoleServer:
        """Serve from a background thread (tests)."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()
        self._run(self.store.close())
        self._runner.close()

    def __enter__(self) -> ConsoleServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def mount_console(service: Any, run: Callable[[Coroutine[Any, Any, Any]], Any],
                  spec: StoreSpec, *, isolation: str) -> ConsoleApp | None:
    """The read-only console over the local API server's own store (``service.store``)
    and event loop (``run``), for ``/console`` on ``synaptic-s3 serve``; or ``None``
    when that makes no sense: with per-user isolation the console would show every
    user's data at once."""
    if isolation != "none" or getattr(service, "config", None) is None:
        return None
    from synaptic_s3.session import SessionManager

    return ConsoleApp(SessionManager(service.store), run=run, store_label=spec.display(),
                      allow_writes=False)


@contextmanager
def running(spec: StoreSpec, **options: Any) -> Iterator[ConsoleServer]:
    """A console serving in a background thread for the life of the block."""
    server = ConsoleServer(spec, **options).start()
    try:
        yield server
    finally:
        server.close()


def serve_console(spec: StoreSpec, *, host: str = "127.0.0.1", port: int = 8090,
                  allow_writes: bool = False, verbose: bool = False) -> None:
    """Run until Ctrl-C, printing where."""
    with ConsoleServer(spec, host=host, port=port, allow_writes=allow_writes,
                       quiet=not verbose) as server:
        mode = "writes ALLOWED (delete, fork)" if allow_writes else "read-only"
        print(f"synaptic-s3 console on {server.url}  (store: {spec.display()}, {mode})\n"
              "Press Ctrl-C to stop.", flush=True)
        with suppress(KeyboardInterrupt):
            server.serve_forever()
