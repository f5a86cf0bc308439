"""Counting S3 requests and bytes on the wire with botocore event hooks.

Every peer in the benchmark talks to S3 through botocore (boto3 for Strands,
aiobotocore for everyone else), and botocore emits ``before-send.s3.<Operation>``
once per HTTP attempt (retries included) and ``response-received.s3.<Operation>``
once per response. Hooking those on each client counts what reaches the server
without a proxy in the path that would add its own latency.

"Bytes moved" is request body bytes (``Content-Length`` of what is sent) plus
response body bytes (``Content-Length`` of what comes back; zero for HEAD, whose
``Content-Length`` describes the object, not the response). Headers are not
counted: they are about the same size for every request, so requests already
account for them.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol


class EventEmitter(Protocol):
    """The part of botocore's (or aiobotocore's) event emitter used here."""

    def register(self, event_name: str, handler: Any, unique_id: Any = None) -> None: ...


@dataclass(frozen=True)
class Tally:
    """Requests and bytes counted between two snapshots."""

    requests: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)

    def __sub__(self, earlier: Tally) -> Tally:
        ops = {
            name: count - earlier.by_operation.get(name, 0)
            for name, count in self.by_operation.items()
            if count - earlier.by_operation.get(name, 0)
        }
        return Tally(self.requests - earlier.requests, self.bytes_out - earlier.bytes_out,
                     self.bytes_in - earlier.bytes_in, ops)


class RequestCounter:
    """Thread-safe running totals, fed by hooks on any number of botocore clients
    (Strands reads messages from a thread pool, so the lock is needed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._bytes_out = 0
        self._bytes_in = 0
        self._by_operation: Counter[str] = Counter()

    def attach(self, events: EventEmitter) -> None:
        """Count every request made through the client owning ``events``
        (``client.meta.events``)."""
        events.register("before-send.s3", self._on_send)
        events.register("response-received.s3", self._on_response)

    def snapshot(self) -> Tally:
        with self._lock:
            return Tally(self._requests, self._bytes_out, self._bytes_in,
                         dict(self._by_operation))

    # The handlers must return None: a value returned from before-send would be
    # taken by botocore as the HTTP response itself.

    def _on_send(self, event_name: str, request: Any, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        size = _content_length(getattr(request, "headers", {}))
        if size is None:
            body = getattr(request, "body", None)
            size = len(body) if isinstance(body, bytes | bytearray) else 0
        with self._lock:
            self._requests += 1
            self._bytes_out += size
            self._by_operation[operation] += 1

    def _on_response(self, event_name: str, response_dict: Any = None, **_: Any) -> None:
        if not response_dict or event_name.endswith(".HeadObject"):
            return
        size = _content_length(response_dict.get("headers", {})) or 0
        with self._lock:
            self._bytes_in += size


def _content_length(headers: Any) -> int | None:
    for name in ("Content-Length", "content-length"):
        value = headers.get(name) if hasattr(headers, "get") else None
        if value is not None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None
    return None
