"""The raw call: the very S3 requests synaptic-s3 made, re-issued with bare aiobotocore.

While synaptic-s3 runs one repetition of an operation, a :class:`Recorder` hooked on
its client (botocore's ``provide-client-params`` event, which sees every API call
with the caller's own parameters) writes down each call: operation, parameters and
whether it was issued while another was still in flight. A :class:`Replayer` then
issues the same calls on a plain aiobotocore client with the settings every peer
gets (:mod:`benchmarks.clients`), in the same order, and with the same concurrency
(calls that overlapped run together, 16 at a time). Nothing is decoded beyond what
botocore itself parses, so the difference between the two is the library: key
checks, JSON, models, caching, retries it decided to make.

Because the reference is recorded rather than hand-written, it follows the library:
when the latest-checkpoint search or the history layout changes, the raw call
changes with it on the next run.

Re-issuing a call must not disturb synaptic-s3's own objects, so:

* reads (``GetObject``, ``HeadObject``, listings) are repeated on the same keys,
  bodies read to the end; a listing continued with a token uses the token of the
  replay's own previous page;
* writes go to a shadow key under ``raw-replay/`` with the same bytes and the same
  kind of condition: ``IfNoneMatch`` to a fresh key each time, ``IfMatch`` to a key
  whose ETag the replayer tracks (created, untimed, before its first timed write);
* for destructive operations (deleting a session), the workload seeds an identical
  twin and :attr:`Replayer.substitutions` maps synaptic-s3's ids to the twin's in
  every parameter, so the replay deletes the same number of real objects.

An error reply that synaptic-s3 also got (a 404 or 412 it expects) is expected in
the replay too; any other error fails the benchmark.
"""

from __future__ import annotations

import asyncio
import copy
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiobotocore.session import AioSession
from botocore.exceptions import ClientError

from benchmarks.clients import POOL, aio_config
from benchmarks.counting import EventEmitter, RequestCounter
from benchmarks.servers import Target

LABEL = "raw call"
SHADOW = "raw-replay/"
_READS = frozenset({"GetObject", "HeadObject", "ListObjectsV2", "ListObjects",
                    "HeadBucket", "GetObjectAttributes"})
_KEY = "bench_raw_call"


@dataclass
class Call:
    """One API call as the library made it."""

    operation: str
    params: dict[str, Any]
    overlapped: bool  # issued while an earlier call of the same repetition was in flight
    failed: bool = False


class Recorder:
    """Writes down the calls made through a client while :attr:`active`."""

    def __init__(self) -> None:
        self.active = False
        self.calls: list[Call] = []
        self._in_flight = 0

    def attach(self, events: EventEmitter) -> None:
        events.register("provide-client-params.s3", self._on_call)
        events.register("after-call.s3", self._on_reply)
        events.register("after-call-error.s3", self._on_error)

    def start(self) -> None:
        self.calls, self._in_flight, self.active = [], 0, True

    def stop(self) -> list[Call]:
        self.active = False
        return self.calls

    # Handlers return None: a value from provide-client-params would replace the params.

    def _on_call(self, params: dict[str, Any], model: Any, context: dict[str, Any],
                 **_: Any) -> None:
        if not self.active:
            return
        call = Call(model.name, _copy_params(params), overlapped=self._in_flight > 0)
        context[_KEY] = call
        self.calls.append(call)
        self._in_flight += 1

    def _on_reply(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        call = context.pop(_KEY, None)
        if call is not None:
            self._in_flight -= 1
            call.failed = http_response.status_code >= 300

    def _on_error(self, context: dict[str, Any], **_: Any) -> None:
        call = context.pop(_KEY, None)
        if call is not None:
            self._in_flight -= 1
            call.failed = True


def _copy_params(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("Body")
    rest = copy.deepcopy({k: v for k, v in params.items() if k != "Body"})
    if body is not None:
        if isinstance(body, io.BytesIO):
            body = body.getvalue()
        elif not isinstance(body, bytes | bytearray | str):
            raise TypeError(f"cannot replay a streamed body ({type(body).__name__})")
        rest["Body"] = body
    return rest


@dataclass
class Replayer:
    """Issues recorded calls on its own plain aiobotocore client (see the module doc)."""

    target: Target
    counter: RequestCounter = field(default_factory=RequestCounter)
    substitutions: dict[str, str] = field(default_factory=dict)
    _context: Any = None
    client: Any = None
    _etags: dict[tuple[str, str], str] = field(default_factory=dict)
    _fresh: Iterator[int] = field(default_factory=itertools.count)

    label = LABEL

    async def open(self) -> None:
        """A plain client of its own, unless one was given (the profiling phase replays
        on the store's very client, to isolate library code from client settings)."""
        if self.client is None:
            self._context = AioSession().create_client(
                "s3", config=aio_config(), **self.target.endpoint.boto3_kwargs())
            self.client = await self._context.__aenter__()
        self.counter.attach(self.client.meta.events)

    async def close(self) -> None:
        if self._context is not None:
            await self._context.__aexit__(None, None, None)
            self._context = self.client = None

    # -- preparing (untimed) and replaying (timed) ------------------------------------

    def _mapped(self, calls: list[Call]) -> list[Call]:
        """The calls as they will be re-issued: ids substituted, writes on shadow keys."""
        out = []
        for call in calls:
            params = _substitute(call.params, self.substitutions)
            if call.operation not in _READS and not self.substitutions:
                params = self._shadow(call.operation, params)
            out.append(Call(call.operation, params, call.overlapped, call.failed))
        return out

    def _shadow(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        params = dict(params)
        if "Key" in params:
            key = SHADOW + params["Key"]
            if operation == "PutObject" and params.get("IfNoneMatch") == "*":
                key = f"{SHADOW}{next(self._fresh)}/{params['Key']}"
            params["Key"] = key
        if "Delete" in params:
            objects = [{**o, "Key": SHADOW + o["Key"]} for o in params["Delete"]["Objects"]]
            params["Delete"] = {**params["Delete"], "Objects": objects}
        return params

    async def prepare(self, calls: list[Call]) -> list[Call]:
        """Map the calls and make sure every ``IfMatch`` target exists with a known ETag
        (an untimed, uncounted-by-the-caller write or HEAD)."""
        mapped = self._mapped(calls)
        for call in mapped:
            if "IfMatch" not in call.params or call.failed:
                continue
            spot = (call.params["Bucket"], call.params["Key"])
            if spot in self._etags:
                continue
            if self.substitutions:  # the twin exists: learn its ETag
                head = await self.client.head_object(Bucket=spot[0], Key=spot[1])
                self._etags[spot] = head["ETag"]
            else:
                reply = await self.client.put_object(Bucket=spot[0], Key=spot[1],
                                                     Body=call.params.get("Body", b""))
                self._etags[spot] = reply["ETag"]
        return mapped

    async def replay(self, mapped: list[Call]) -> None:
        """Issue the prepared calls: in order, overlapped ones together."""
        token: list[str | None] = [None]
        batch: list[Call] = []
        for call in mapped:
            if batch and not call.overlapped:
                await self._run_batch(batch, token)
                batch = []
            batch.append(call)
        if batch:
            await self._run_batch(batch, token)

    async def _run_batch(self, batch: list[Call], token: list[str | None]) -> None:
        if len(batch) == 1:
            await self._issue(batch[0], token)
            return
        semaphore = asyncio.Semaphore(POOL)

        async def bounded(call: Call) -> None:
            async with semaphore:
                await self._issue(call, token)

        await asyncio.gather(*(bounded(call) for call in batch))

    async def _issue(self, call: Call, token: list[str | None]) -> None:
        params = dict(call.params)
        if call.operation in ("ListObjectsV2", "ListObjects"):
            params.pop("EncodingType", None)  # botocore sets (and decodes) it, as for ours
            if "ContinuationToken" in params:
                params["ContinuationToken"] = token[0]
        spot = (params.get("Bucket", ""), params.get("Key", ""))
        if "IfMatch" in params:  # the same outcome as the library's: a match, or a 412
            params["IfMatch"] = '"stale"' if call.failed else self._etags[spot]
        method = getattr(self.client, _snake(call.operation))
        try:
            reply = await method(**params)
        except ClientError:
            if call.failed:
                return
            raise
        if call.failed:
            raise AssertionError(f"the replay of {call.operation} succeeded where the "
                                 "library's call failed: the raw call is not the same I/O")
        if "Body" in reply and hasattr(reply["Body"], "read"):
            async with reply["Body"] as body:
                await body.read()
        if "NextContinuationToken" in reply:
            token[0] = reply["NextContinuationToken"]
        if "ETag" in reply and call.operation == "PutObject":
            self._etags[spot] = reply["ETag"]


def describe(calls: list[Call]) -> str:
    """``GetObject``, ``PutObject IfMatch``, ``ListObjectsV2 x2 + GetObject``: what a
    recorded repetition did, for tables."""
    names: dict[str, int] = {}
    for call in calls:
        condition = next((c for c in ("IfMatch", "IfNoneMatch") if c in call.params), "")
        name = f"{call.operation} {condition}".strip()
        names[name] = names.get(name, 0) + 1
    return " + ".join(name if count == 1 else f"{name} x{count}"
                      for name, count in names.items())


def _snake(operation: str) -> str:
    out = []
    for index, char in enumerate(operation):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def _substitute(value: Any, substitutions: dict[str, str]) -> Any:
    if not substitutions:
        return value
    if isinstance(value, str):
        for old, new in substitutions.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, substitutions) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, substitutions) for v in value]
    return value
