"""The HTTP API in-process, for the reliability tests: the committed Lambda handler code
(``ServiceApp``) over an S3Store whose every request goes through a FaultProxy, so a
test sees the S3 footprint of each HTTP request (which keys it read, wrote, listed
or deleted) and can fault it.

Two ways in: :meth:`Harness.handle` with an API Gateway v2.0 event (exactly what
Lambda receives; a double invocation re-sends the same event), and :meth:`Harness.wsgi`,
a WSGI app that turns an HTTP request into that event the way the local server
does (``synaptic_s3.cli.server.build_event``: percent-decoded path, base64 for
non-UTF-8 bodies, the unverified ``sub`` of a Bearer token in jwt mode), for
schemathesis and raw HTTP attacks.

The handler runs its coroutines on its own ``asyncio.Runner`` (one Lambda
container); the proxy lives on that loop too, so the tests using this are sync.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote
from xml.sax.saxutils import unescape

from synaptic_s3.cli.server import build_event, unverified_claims
from synaptic_s3.service.app import ServiceApp
from synaptic_s3.service.config import ServiceConfig
from synaptic_s3.service.isolation import subject_prefix
from synaptic_s3.service.store_url import StoreSpec
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import FaultProxy
from tests.conftest import BUCKET
from tests.reliability.helpers import make_store
from tests.service.events import Context

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_DELETE_KEY = re.compile(rb"<Key>(.*?)</Key>", re.DOTALL)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def body(self) -> Any:
        return json.loads(self.text) if self.text else None

    @property
    def code(self) -> str | None:
        body = self.body
        return body["error"]["code"] if isinstance(body, dict) and "error" in body else None


def bearer(subject: str) -> dict[str, str]:
    """An Authorization header with an (unsigned) JWT for ``subject``: the local server's
    stand-in for API Gateway's verified claims."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return {"Authorization": f"Bearer {part({'alg': 'none'})}.{part({'sub': subject})}.x"}


class Harness:
    def __init__(self, endpoint: Endpoint, runner: asyncio.Runner, *, isolation: str = "none",
                 max_body_bytes: int | None = None, prefix: str | None = None) -> None:
        """``prefix``: share another harness's data (a second Lambda container)."""
        self.runner = runner
        self.isolation = isolation
        self.prefix = prefix or f"svc-rel-{uuid.uuid4().hex[:12]}"
        self.proxy = FaultProxy(endpoint.url)
        runner.run(self.proxy.start())
        store = make_store(endpoint, self.prefix, url=self.proxy.url)
        spec = StoreSpec("s3", bucket=BUCKET, prefix=self.prefix,
                         options={"endpoint_url": self.proxy.url, "region": endpoint.region})
        options = {} if max_body_bytes is None else {"max_body_bytes": max_body_bytes}
        self.app = ServiceApp(ServiceConfig(store=spec, isolation=isolation, **options),
                              runner, store=store)

    def close(self) -> None:
        self.runner.run(self.app.close())
        self.runner.run(self.proxy.close())

    # -- calling the handler ---------------------------------------------------------------

    def handle(self, event: dict[str, Any], *, unavailable_ok: bool = False) -> Reply:
        """Invoke the handler with one event, as Lambda does; check the reply's shape
        (``unavailable_ok``: a 503 is a legitimate answer, under injected S3 faults)."""
        raw = self.app.handle(event, Context())
        reply = _decode(raw)
        if not (unavailable_ok and reply.status == 503):
            check_reply(reply, event["requestContext"]["requestId"])
        return reply

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The handler as a WSGI app (HTTP -> API Gateway event, like the local server)."""
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        # WSGI strings carry bytes as latin-1: re-encode, escaping non-ASCII like a client.
        target = quote(raw.encode("latin-1"), safe="/?&=%:@!$'()*+,;~-._[]")
        if "?" not in target and environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        headers = [(key[5:].replace("_", "-").lower(), str(value))
                   for key, value in environ.items() if key.startswith("HTTP_")]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append((key.replace("_", "-").lower(), environ[key]))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        claims = None
        if self.isolation == "jwt":
            claims = unverified_claims(dict(headers).get("authorization"))
        try:
            event = build_event(environ["REQUEST_METHOD"], target, headers, body, "127.0.0.1",
                                jwt_claims=claims)
        except UnicodeDecodeError:  # the local server answers this itself
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [b'{"error":{"code":"invalid_path","message":"","request_id":""}}']
        raw = self.app.handle(event, Context())
        reply = _decode(raw)
        check_reply(reply, event["requestContext"]["requestId"])
        status = f"{reply.status} {'OK' if reply.status < 400 else 'Error'}"
        start_response(status, list(reply.headers.items()))
        return [reply.text.encode()]

    # -- the S3 footprint ---------------------------------------------------------------------

    def touched(self, since: int = 0) -> list[tuple[str, str]]:
        """``(operation, key or prefix)`` of every S3 request since exchange ``since``,
        keys relative to the bucket: objects read or written, prefixes listed, and every
        key inside a DeleteObjects body."""
        found: list[tuple[str, str]] = []
        for exchange in self.proxy.exchanges[since:]:
            if exchange.operation == "ListObjectsV2":
                query = parse_qs(exchange.target.partition("?")[2], keep_blank_values=True)
                found.append((exchange.operation, query.get("prefix", [""])[0]))
            elif exchange.operation == "DeleteObjects":
                found.extend((exchange.operation, unescape(key.decode()))
                             for key in _DELETE_KEY.findall(exchange.body))
            else:
                found.append((exchange.operation, exchange.key))
        return found

    def scope(self, subject: str | None = None) -> str:
        """The key prefix a caller's requests must stay in."""
        if subject is None:
            return self.prefix + "/"
        return subject_prefix(subject, self.prefix)

    def strays(self, subject: str | None = None, since: int = 0) -> list[tuple[str, str]]:
        """S3 requests of this harness that left the caller's prefix (must be none)."""
        return [(op, key) for op, key in self.touched(since)
                if not key.startswith(self.scope(subject))]


def _decode(raw: dict[str, Any]) -> Reply:
    text = raw.get("body") or ""
    if raw.get("isBase64Encoded"):
        text = base64.b64decode(text).decode("utf-8", "replace")
    headers = {k.lower(): str(v) for k, v in (raw.get("headers") or {}).items()}
    return Reply(int(raw["statusCode"]), headers, text)


def check_reply(reply: Reply, request_id: str) -> None:
    """What every reply must be: below 500, no traceback or internals, errors in the
    documented shape."""
    assert reply.status < 500, f"{reply.status}: {reply.text[:500]}"
    assert "Traceback" not in reply.text
    assert 'File "' not in reply.text
    assert BUCKET not in reply.text
    if reply.status >= 400:
        error = reply.body["error"]
        assert set(error) == {"code", "message", "request_id"}
        assert error["request_id"] == request_id
