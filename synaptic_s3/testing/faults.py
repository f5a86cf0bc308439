"""A fault-injecting HTTP proxy between an S3 client and a local S3 endpoint.

Why a proxy and not mocks: the faults travel the real wire, so what is tested is
botocore's retry decisions, aiohttp's connection handling, the server's
conditional-write semantics and the library's error mapping, all together, the way
they meet a throttled or flaky S3 in production.

The proxy listens on 127.0.0.1 (a free port), reads each HTTP/1.1 request whole,
decides from its rules whether to interfere, and otherwise forwards it unchanged
(same head, so SigV4 signatures stay valid) on a fresh upstream connection::

    async with FaultProxy(endpoint.url, seed=7) as proxy:
        proxy.inject(Fault.slow_down(), operation="PutObject", nth=2)   # the 2nd PUT
        proxy.inject(Fault.drop(), rate=0.05)                           # 5% of all requests
        store = S3Store(bucket, endpoint_url=proxy.url, ...)
        ...
        assert proxy.count("PutObject") == 3

Faults (see :class:`Fault`): an S3 error reply (500 InternalError, 503 SlowDown,
412 PreconditionFailed) without forwarding; a dropped connection; a truncated
answer; added latency; a *lost answer* (the request IS applied upstream, then the
client gets a 500 or a dropped connection, as when S3 commits a write and the
network loses the reply); and *hold*, which parks the request (unforwarded, or
applied with its answer withheld) and signals it, so a test can kill the client at an
exact request without sleeping.

Every request is recorded as an :class:`Exchange` in arrival order. Rate-based
faults draw from one ``random.Random(seed)``, so a run is reproducible for a
given request order.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self
from urllib.parse import unquote, urlsplit

LOOPBACK = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Bodies above this are refused (413): the proxy buffers whole messages."""
_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade", "expect",
})

Reply = Literal["error", "drop", "truncate", "upstream", "hold"]


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do with a request a rule selected.

    ``forward`` says whether the request is applied upstream first; ``reply`` what
    the client then gets. Build faults with the class methods.
    """

    name: str
    forward: bool
    reply: Reply
    status: int = 0
    code: str = ""
    delay: float = 0.0

    @classmethod
    def error(cls, status: int = 500, code: str = "InternalError") -> Fault:
        """An S3 XML error reply; the request never reaches the server."""
        return cls(f"{status} {code}", forward=False, reply="error", status=status, code=code)

    @classmethod
    def slow_down(cls) -> Fault:
        """503 SlowDown, S3's throttling answer."""
        return cls.error(503, "SlowDown")

    @classmethod
    def precondition_failed(cls) -> Fault:
        """412 PreconditionFailed, as if another writer won a conditional write."""
        return cls.error(412, "PreconditionFailed")

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering; the request is not applied."""
        return cls("drop", forward=False, reply="drop")

    @classmethod
    def truncate(cls) -> Fault:
        """Apply the request, then send half the answer's body (half its head when it
        has no body) and close: the client sees a response cut short."""
        return cls("truncate", forward=True, reply="truncate")

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before forwarding; the answer itself is untouched."""
        return cls(f"latency {seconds:g}s", forward=True, reply="upstream", delay=seconds)

    @classmethod
    def lose_answer(cls, then: Literal["error", "drop"] = "error") -> Fault:
        """Apply the request upstream, then answer 500 (``then="error"``) or drop the
        connection: the write happened, but the client cannot know it."""
        if then == "error":
            return cls("lost answer (500)", forward=True, reply="error",
                       status=500, code="InternalError")
        return cls("lost answer (drop)", forward=True, reply="drop")

    @classmethod
    def hold(cls, *, apply: bool = False) -> Fault:
        """Park the request until :meth:`FaultProxy.release_held` (or the proxy closes),
        then drop its connection; :meth:`FaultProxy.wait_held` signals it. With
        ``apply=True`` the request is applied upstream first and only its answer is
        held: a client killed there has changed the bucket without knowing it."""
        if apply:
            return cls("applied, answer held", forward=True, reply="hold")
        return cls("hold", forward=False, reply="hold")


@dataclass(slots=True)
class Rule:
    """Selects requests (every given criterion must hold) and applies ``fault`` to
    some of them: from the ``nth`` selected one on, ``times`` of them (``None``:
    all), each with probability ``rate``."""

    fault: Fault
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    """A regular expression searched in the decoded object key (``bucket/key``)."""
    nth: int = 1
    times: int | None = 1
    rate: float = 1.0
    selected: int = 0
    applied: int = 0

    def selects(self, exchange: Exchange) -> bool:
        return (
            (self.operation is None or exchange.operation == self.operation)
            and (self.method is None or exchange.method == self.method)
            and (self.path is None or re.search(self.path, exchange.path) is not None)
        )


@dataclass(slots=True)
class Exchange:
    """One request the proxy saw, and what became of it."""

    index: int
    method: str
    target: str
    operation: str
    path: str
    """The decoded path without the leading ``/``: ``bucket/key`` (``bucket`` alone
    for bucket-level requests)."""
    body: bytes = field(default=b"", repr=False)
    """The request body as received (DeleteObjects lists its keys there)."""
    fault: str | None = None
    forwarded: bool = False
    upstream_status: int | None = None
    status: int | None = None
    """The status the client received; ``None`` when it got no complete answer."""

    @property
    def key(self) -> str:
        """The object key (without the bucket), ``""`` for bucket-level requests."""
        return self.path.partition("/")[2]


def classify(method: str, target: str) -> str:
    """The S3 operation a path-style request performs (the ones this library sends)."""
    path, _, query = target.partition("?")
    params = {part.partition("=")[0] for part in query.split("&") if part}
    if method == "POST" and "delete" in params:
        return "DeleteObjects"
    if method == "GET" and "list-type" in params:
        return "ListObjectsV2"
    if len([segment for segment in path.split("/") if segment]) <= 1:
        bucket_ops = {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket",
                      "GET": "ListObjects"}
        return bucket_ops.get(method, method)
    object_ops = {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject",
                  "HEAD": "HeadObject"}
    return object_ops.get(method, method)


# -- HTTP/1.1 framing ---------------------------------------------------------------------


class _BadMessage(Exception):
    """The peer sent something that is not HTTP/1.1 this proxy can frame."""


@dataclass(slots=True)
class _Message:
    start: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    closes: bool = False

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def encode(self, *, connection: str | None, length: bool) -> bytes:
        """The message with hop-by-hop headers replaced and the body framed by
        Content-Length (always de-chunked: the proxy holds the whole body)."""
        lines = [self.start]
        for key, value in self.headers:
            lowered = key.lower()
            if lowered in _HOP_BY_HOP or (length and lowered == "content-length"):
                continue
            lines.append(f"{key}: {value}")
        if length:
            lines.append(f"Content-Length: {len(self.body)}")
        if connection is not None:
            lines.append(f"Connection: {connection}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]]] | None:
    start = await reader.readline()
    if not start:
        return None
    headers: list[tuple[str, str]] = []
    while True:
        line = await reader.readline()
        if not line:
            raise _BadMessage("connection closed inside a message head")
        if line in (b"\r\n", b"\n"):
            break
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise _BadMessage(f"malformed header line {line!r}")
        headers.append((name.strip(), value.strip()))
    return start.decode("latin-1").rstrip("\r\n"), headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError as exc:
            raise _BadMessage(f"bad chunk size {size_line!r}") from exc
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers are dropped
            return b"".join(chunks)
        total += size
        if total > MAX_BODY_BYTES:
            raise _BadMessage("chunked body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _read_body(
    reader: asyncio.StreamReader, message: _Message, *, until_eof: bool
) -> None:
    if (message.header("Transfer-Encoding") or "").lower().endswith("chunked"):
        message.body = await _read_chunked(reader)
        return
    length = message.header("Content-Length")
    if length is not None:
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise _BadMessage("body too large")
        message.body = await reader.readexactly(size)
    elif until_eof:
        message.body = await reader.read(MAX_BODY_BYTES)
        message.closes = True


def _keeps_alive(request: _Message) -> bool:
    connection = (request.header("Connection") or "").lower()
    if request.start.endswith("HTTP/1.0"):
        return connection == "keep-alive"
    return connection != "close"


async def _read_response(reader: asyncio.StreamReader, method: str) -> _Message:
    while True:
        head = await _read_head(reader)
        if head is None:
            raise _BadMessage("upstream closed without answering")
        response = _Message(*head)
        status = _status_of(response)
        if not 100 <= status < 200:
            break  # interim answers (100 Continue) are skipped
    if _has_body(method, response):
        await _read_body(reader, response, until_eof=True)
    return response


def _has_body(method: str, response: _Message) -> bool:
    """Whether the answer carries a body (and so a Content-Length the proxy sets)."""
    return method != "HEAD" and _status_of(response) not in (204, 304)


def _status_of(response: _Message) -> int:
    try:
        return int(response.start.split(" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise _BadMessage(f"bad status line {response.start!r}") from exc


def _error_reply(status: int, code: str, request_id: str, *, head_only: bool) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>injected by FaultProxy</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/xml\r\n"
        f"x-amz-request-id: {request_id}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    return head if head_only else head + body


# -- the proxy ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Held:
    exchange: Exchange
    released: asyncio.Event = field(default_factory=asyncio.Event)


class FaultProxy:
    """An asyncio HTTP/1.1 proxy on loopback in front of ``upstream`` (an ``http://``
    URL), injecting :class:`Fault` s by :class:`Rule` and recording every request.

    It runs in the event loop that starts it (``async with`` or :meth:`start`) and
    closes every connection it holds on :meth:`close`.
    """

    def __init__(self, upstream: str, *, seed: int = 0, host: str = LOOPBACK) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        self._upstream = (parts.hostname, parts.port)
        self._host = host
        self._random = random.Random(seed)
        self._rules: list[Rule] = []
        self._server: asyncio.Server | None = None
        self._port = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[_Held] = []
        self._held_event = asyncio.Event()
        self._releases = 0
        self._in_flight = 0
        self._idle_event = asyncio.Event()
        self._idle_event.set()
        self.exchanges: list[Exchange] = []
        """Every request seen, in arrival order."""

    @property
    def url(self) -> str:
        """The proxy's endpoint URL, for ``S3Store(endpoint_url=...)``."""
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return f"http://{self._host}:{self._port}"

    # -- rules ---------------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        operation: str | None = None,
        method: str | None = None,
        path: str | None = None,
        nth: int = 1,
        times: int | None = 1,
        rate: float = 1.0,
    ) -> Rule:
        """Add a rule (see :class:`Rule`); the first rule that fires on a request wins,
        but every rule counts every request it selects."""
        if nth < 1 or (times is not None and times < 0) or not 0.0 <= rate <= 1.0:
            raise ValueError("need nth >= 1, times >= 0 and 0 <= rate <= 1")
        rule = Rule(fault, operation=operation, method=method, path=path, nth=nth,
                    times=times, rate=rate)
        self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (recorded exchanges stay)."""
        self._rules.clear()

    def _choose(self, exchange: Exchange) -> Fault | None:
        chosen: Fault | None = None
        for rule in self._rules:
            if not rule.selects(exchange):
                continue
            rule.selected += 1
            if chosen is not None or rule.selected < rule.nth:
                continue
            if rule.times is not None and rule.applied >= rule.times:
                continue
            if rule.rate < 1.0 and self._random.random() >= rule.rate:
                continue
            rule.applied += 1
            chosen = rule.fault
        return chosen

    # -- records -------------------------------------------------------------------------

    def count(self, operation: str | None = None, *, faulted: bool | None = None) -> int:
        """How many requests (of ``operation``; only faulted or clean ones) were seen."""
        return sum(
            1 for e in self.exchanges
            if (operation is None or e.operation == operation)
            and (faulted is None or (e.fault is not None) == faulted)
        )

    def summary(self) -> Counter[tuple[str, str]]:
        """``(operation, fault name or "ok")`` -> number of requests."""
        return Counter((e.operation, e.fault or "ok") for e in self.exchanges)

    async def wait_held(self) -> Exchange:
        """Wait until a request is held by a :meth:`Fault.hold` rule; return it."""
        await self._held_event.wait()
        return self._held[0].exchange

    async def idle(self) -> None:
        """Wait until no request is being served (a delayed request has landed or
        failed): the point after which the upstream state no longer changes."""
        await self._idle_event.wait()

    def release_held(self) -> None:
        """Drop the connection of every held request, and of any request that was on
        its way to be held (an applied one still being forwarded) when this was called."""
        self._releases += 1
        for held in self._held:
            held.released.set()
        self._held.clear()
        self._held_event.clear()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._serve, self._host, 0)
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        """Stop listening, release held requests and close every open connection."""
        if self._server is not None:
            self._server.close()
        self.release_held()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- serving -------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while await self._exchange(reader, writer):
                pass
        except (_BadMessage, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass  # a client that hangs up or speaks nonsense just loses its connection
        except asyncio.CancelledError:
            pass  # the proxy is closing
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return whether the client connection stays open."""
        head = await _read_head(reader)
        if head is None:
            return False
        request = _Message(*head)
        if (request.header("Expect") or "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        await _read_body(reader, request, until_eof=False)
        method, target = [*request.start.split(" "), "", ""][:2]
        exchange = Exchange(
            index=len(self.exchanges), method=method, target=target,
            operation=classify(method, target),
            path=unquote(target.partition("?")[0]).lstrip("/"), body=request.body,
        )
        self.exchanges.append(exchange)
        self._in_flight += 1
        self._idle_event.clear()
        try:
            return await self._answer(request, exchange, writer)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle_event.set()

    async def _answer(
        self, request: _Message, exchange: Exchange, writer: asyncio.StreamWriter
    ) -> bool:
        """Apply the matching fault (if any) to one request; return keep-alive."""
        method = exchange.method
        releases = self._releases
        fault = self._choose(exchange)
        exchange.fault = fault.name if fault is not None else None
        keep_alive = _keeps_alive(request)
        request_id = f"fault-proxy-{exchange.index}"

        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        response: _Message | None = None
        if fault is None or fault.forward:
            try:
                response = await self._forward(request, method)
            except (OSError, _BadMessage, asyncio.IncompleteReadError):
                writer.write(_error_reply(502, "BadGateway", request_id,
                                          head_only=method == "HEAD"))
                await writer.drain()
                exchange.status = 502
                return False
            exchange.forwarded = True
            exchange.upstream_status = _status_of(response)

        reply = "upstream" if fault is None else fault.reply
        if reply == "upstream":
            assert response is not None
            writer.write(response.encode(connection=None if keep_alive else "close",
                                         length=_has_body(method, response)) + response.body)
            await writer.drain()
            exchange.status = exchange.upstream_status
            return keep_alive
        assert fault is not None
        if reply == "error":
            writer.write(_error_reply(fault.status, fault.code, request_id,
                                      head_only=method == "HEAD"))
            await writer.drain()
            exchange.status = fault.status
            return keep_alive
        if reply == "truncate":
            assert response is not None
            whole = response.encode(connection=None, length=_has_body(method, response))
            cut = whole + response.body[: len(response.body) // 2] if response.body \
                else whole[: len(whole) // 2]
            writer.write(cut)
            await writer.drain()
            return False
        if reply == "hold" and releases == self._releases:
            held = _Held(exchange)
            self._held.append(held)
            self._held_event.set()
            await held.released.wait()
        return False  # "drop", and a released "hold"

    async def _forward(self, request: _Message, method: str) -> _Message:
        """Send the request on a fresh upstream connection and read the whole answer
        (one connection per request: no stale keep-alive can replay a write)."""
        reader, writer = await asyncio.open_connection(*self._upstream)
        try:
            framed = bool(request.body) or request.header("Content-Length") is not None
            writer.write(request.encode(connection="close", length=framed) + request.body)
            await writer.drain()
            return await _read_response(reader, method)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


__all__ = ["Exchange", "Fault", "FaultProxy", "Rule", "classify"]
