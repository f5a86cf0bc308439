"""``synaptic-s3 serve``: the Lambda handler on 127.0.0.1, with no AWS account and no Docker.

Each HTTP request becomes an API Gateway HTTP API (payload v2.0) event -- path
percent-decoded as API Gateway does, query parameters joined by commas, text bodies
as text and others base64 -- and goes to ``synaptic_s3.service.lambda_handler.handler``,
the very function ``handlers/app.py`` exports. Requests are handled one at a time,
as a Lambda container does (stdlib ``ThreadingHTTPServer`` accepts connections
concurrently; a lock serialises the handler calls).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from synaptic_s3.service.store_url import StoreSpec, parse_store_url

if TYPE_CHECKING:
    from synaptic_s3.console.app import ConsoleApp

MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""API Gateway HTTP APIs refuse bodies over 10 MB before Lambda sees them; so do we."""
EMULATOR_BUCKET = "synaptic-sessions"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LocalContext:
    """What Powertools reads from a Lambda context."""

    function_name = "synaptic-s3-local"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:synaptic-s3-local"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def build_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes,
                source_ip: str, *, jwt_claims: dict[str, Any] | None = None
                ) -> dict[str, Any]:
    """The API Gateway HTTP API v2.0 event for one HTTP request (raises
    ``UnicodeDecodeError`` for a path whose percent-escapes are not UTF-8)."""
    parts = urlsplit(target)
    path = unquote(parts.path or "/", errors="strict")
    merged_headers: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged_headers[key] = f"{merged_headers[key]},{value}" if key in merged_headers else value
    now = datetime.now(UTC)
    request_id = uuid.uuid4().hex
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": merged_headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged_headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged_headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if parts.query:
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        event["queryStringParameters"] = query
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def unverified_claims(authorization: str | None) -> dict[str, Any] | None:
    """The payload of a ``Bearer`` JWT, NOT verified (local runs only: stands in for
    API Gateway's JWT authorizer so that ISOLATION_MODE=jwt can be tried locally)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    token = authorization[7:].strip()
    pieces = token.split(".")
    if len(pieces) != 3:
        return None
    try:
        payload = base64.urlsafe_b64decode(pieces[1] + "=" * (-len(pieces[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def make_request_handler(handler: Handler, *, jwt: bool, quiet: bool,
                         console: ConsoleApp | None = None) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class RequestHandler(BaseHTTPRequestHandler):
        server_version = "synaptic-s3-local"
        protocol_version = "HTTP/1.1"

        def _reply_error(self, status: int, code: str, message: str) -> None:
            body = json.dumps({"error": {"code": code, "message": message,
                                         "request_id": "local"}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def _dispatch(self) -> None:
            if console is not None and console.owns(urlsplit(self.path).path):
                from synaptic_s3.console.server import answer

                with lock:  # the console uses the handler's event loop and store
                    answer(self, console)
                return
            if self.headers.get("Transfer-Encoding", "").lower() not in ("", "identity"):
                self._reply_error(411, "length_required", "send a Content-Length, not chunks")
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self._reply_error(400, "invalid_request", "Content-Length is not a number")
                return
            if length < 0 or length > MAX_REQUEST_BYTES:
                self._reply_error(413, "payload_too_large",
                                  f"the body is larger than {MAX_REQUEST_BYTES} bytes")
                return
            body = self.rfile.read(length) if length else b""
            claims = unverified_claims(self.headers.get("Authorization")) if jwt else None
            try:
                event = build_event(self.command, self.path, list(self.headers.items()), body,
                                    self.client_address[0], jwt_claims=claims)
            except UnicodeDecodeError:
                self._reply_error(400, "invalid_id", "the path is not valid UTF-8")
                return
            with lock:  # one invocation at a time, like one Lambda container
                result = handler(event, LocalContext(event["requestContext"]["requestId"]))
            self._send(result)

        def _send(self, result: dict[str, Any]) -> None:
            status = int(result.get("statusCode", 500))
            raw = result.get("body") or ""
            payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
            self.send_response(status)
            for name, value in (result.get("headers") or {}).items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, str(value))
            for cookie in result.get("cookies") or ():
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _dispatch

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    return RequestHandler


@contextlib.contextmanager
def resolve_store(store_url: str, s3_emulator: bool) -> Iterator[StoreSpec]:
    """The store the server runs on; with ``s3_emulator`` a moto S3 server on a free
    loopback port, its bucket created, for as long as the context lasts."""
    if not s3_emulator:
        spec = parse_store_url(store_url)
        if spec.scheme == "file":
            assert spec.path is not None
            spec.path.mkdir(parents=True, exist_ok=True)
        yield spec
        return
    try:
        from synaptic_s3.testing.servers import DUMMY_CREDENTIALS, create_bucket, moto_server
    except ImportError as exc:  # pragma: no cover - moto is in the dev extra
        raise SystemExit(f"--s3-emulator needs moto: pip install 'synaptic-s3[dev]' ({exc})"
                         ) from None
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    with moto_server() as endpoint:
        os.environ["AWS_ACCESS_KEY_ID"] = DUMMY_CREDENTIALS["aws_access_key_id"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = DUMMY_CREDENTIALS["aws_secret_access_key"]
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.setdefault("AWS_REGION", endpoint.region)
        create_bucket(endpoint, EMULATOR_BUCKET)
        yield parse_store_url(f"s3://{EMULATOR_BUCKET}/?endpoint_url={endpoint.url}"
                              f"&region={endpoint.region}")


def serve(*, store_url: str, host: str = "127.0.0.1", port: int = 8080,
          s3_emulator: bool = False, isolation: str = "none", max_body_bytes: int | None = None,
          verbose: bool = False) -> None:
    """Run the API until interrupted (Ctrl-C)."""
    with resolve_store(store_url, s3_emulator) as spec:
        os.environ["SYNAPTIC_STORE_URL"] = spec.to_url()
        os.environ["ISOLATION_MODE"] = isolation
        if max_body_bytes is not None:
            os.environ["MAX_BODY_BYTES"] = str(max_body_bytes)
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "synaptic-s3-local")
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        if not verbose:
            os.environ["LOG_LEVEL"] = "WARNING"
        started = time.perf_counter()
        from synaptic_s3.service import lambda_handler  # reads the environment set above

        import_ms = (time.perf_counter() - started) * 1000
        lambda_handler.runner.run(lambda_handler.app.warm())  # the S3 client, if any, now
        from synaptic_s3.console.server import mount_console

        console = mount_console(lambda_handler.app, lambda_handler.runner.run, spec,
                                isolation=isolation)
        request_handler = make_request_handler(lambda_handler.handler, jwt=isolation == "jwt",
                                               quiet=not verbose, console=console)
        httpd = ThreadingHTTPServer((host, port), request_handler)
        httpd.daemon_threads = True
        url = f"http://{host}:{httpd.server_address[1]}"
        if console is not None:
            console.restrict_to(host, int(httpd.server_address[1]))
        banner = [
            f"synaptic-s3 API on {url}  (store: {spec.display()}, handler import "
            f"{import_ms:.0f} ms)",
            "Try:",
            f"  curl -s -X POST {url}/sessions",
            f"  curl -s -X POST {url}/sessions/SESSION_ID/messages "
            "-H 'content-type: application/json' -d '{\"role\":\"human\",\"content\":\"hi\"}'",
            f"  curl -s {url}/sessions/SESSION_ID/messages",
            "Press Ctrl-C to stop.",
        ]
        if console is not None:
            banner.insert(-1, f"Web console (read-only): {url}/console/")
        if isolation == "jwt":
            banner.insert(1, "ISOLATION_MODE=jwt: the 'sub' of a Bearer token is trusted "
                          "WITHOUT verification (local runs only)")
        print("\n".join(banner), flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            httpd.server_close()
            lambda_handler.runner.run(lambda_handler.app.close())
            lambda_handler.runner.close()

