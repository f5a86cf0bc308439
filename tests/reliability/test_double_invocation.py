"""Lambda double invocation: the same API Gateway event handled twice must leave the
state as if it ran once.

Four ways it happens: a warm retry in the same container; a retry in another
container; two containers at once; and a first invocation that applied its write
but lost S3's answer (so it answered 503) followed by a retry. The second and
third use two ServiceApps (own event loop, own S3 client) over the same prefix, on
SeaweedFS.

Every write route is idempotent under it (docs/reliability.md, "Double invocation"):
appends whose messages carry ids, checkpoints with an id, PUT summary, DELETE session
(the repeat answers 404, documented as "treat as done") and DELETE messages by nature;
POST /sessions, appends of messages without ids and checkpoints without an id because
the ids they mint derive from the event's requestId and timeEpoch, so both invocations
mint the same ones.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault
from tests.reliability.service_harness import Harness, Reply
from tests.service.events import make_event

pytestmark = [pytest.mark.s3]

MODES = ["same-container", "other-container", "concurrent", "after-lost-answer"]


@dataclass
class Pair:
    """Two Lambda containers over the same data."""

    first: Harness
    second: Harness

    def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        return self.first.handle(make_event(method, path, **kwargs))


@pytest.fixture
def pair(seaweedfs_endpoint: Endpoint, quick_backoff: None) -> Iterator[Pair]:
    with asyncio.Runner() as one, asyncio.Runner() as two:
        first = Harness(seaweedfs_endpoint, one)
        second = Harness(seaweedfs_endpoint, two, prefix=first.prefix)
        try:
            yield Pair(first, second)
        finally:
            first.close()
            second.close()


def invoke_twice(pair: Pair, mode: str, event: dict[str, Any], writes: str) -> list[Reply]:
    """Handle ``event`` twice as ``mode`` says; ``writes``: the S3 operation whose
    answer the first invocation loses in "after-lost-answer"."""
    events = [copy.deepcopy(event), copy.deepcopy(event)]
    if mode == "same-container":
        return [pair.first.handle(events[0]), pair.first.handle(events[1])]
    if mode == "other-container":
        return [pair.first.handle(events[0]), pair.second.handle(events[1])]
    if mode == "concurrent":
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(h.handle, e) for h, e in zip((pair.first, pair.second),
                                                                events, strict=True)]
            return [future.result(timeout=60) for future in futures]
    pair.first.proxy.inject(Fault.lose_answer(), operation=writes, times=None)
    lost = pair.first.handle(events[0], unavailable_ok=True)
    pair.first.proxy.clear()
    assert lost.status == 503, lost.text  # applied, but the client saw S3 fail
    return [lost, pair.second.handle(events[1])]


def ok(replies: list[Reply], status: int, mode: str) -> None:
    expected = [status, status] if mode != "after-lost-answer" else [503, status]
    assert [r.status for r in replies] == expected, [r.text[:200] for r in replies]


@dataclass(frozen=True)
class Scenario:
    name: str
    run: Callable[[Pair, str], None]


def new_session(pair: Pair) -> str:
    reply = pair.call("POST", "/sessions")
    assert reply.status == 201
    return str(reply.body["id"])


def create_session(pair: Pair, mode: str) -> None:
    ok(invoke_twice(pair, mode, make_event("POST", "/sessions"), "PutObject"), 201, mode)
    assert len(pair.call("GET", "/sessions").body["sessions"]) == 1


def messages_of(pair: Pair, sid: str) -> list[dict[str, Any]]:
    return list(pair.call("GET", f"/sessions/{sid}/messages").body["messages"])


def append_with_ids(pair: Pair, mode: str) -> None:
    sid = new_session(pair)
    batch = {"messages": [{"role": "human", "content": "q", "id": "c-1"},
                          {"role": "assistant", "content": "a", "id": "c-2"}]}
    event = make_event("POST", f"/sessions/{sid}/messages", body=batch)
    ok(invoke_twice(pair, mode, event, "PutObject"), 201, mode)
    assert [m["id"] for m in messages_of(pair, sid)] == ["c-1", "c-2"]


def append_without_ids(pair: Pair, mode: str) -> None:
    sid = new_session(pair)
    event = make_event("POST", f"/sessions/{sid}/messages",
                       body={"role": "human", "content": "no id given"})
    ok(invoke_twice(pair, mode, event, "PutObject"), 201, mode)
    assert len(messages_of(pair, sid)) == 1


def checkpoint_with_id(pair: Pair, mode: str) -> None:
    sid = new_session(pair)
    event = make_event("POST", f"/sessions/{sid}/checkpoints", body={"id": "cp-1", "state": 1})
    ok(invoke_twice(pair, mode, event, "PutObject"), 201, mode)
    assert len(pair.call("GET", f"/sessions/{sid}/checkpoints").body["checkpoints"]) == 1


def checkpoint_without_id(pair: Pair, mode: str) -> None:
    sid = new_session(pair)
    event = make_event("POST", f"/sessions/{sid}/checkpoints", body={"state": 1})
    ok(invoke_twice(pair, mode, event, "PutObject"), 201, mode)
    assert len(pair.call("GET", f"/sessions/{sid}/checkpoints").body["checkpoints"]) == 1


def put_summary(pair: Pair, mode: str) -> None:
    sid = new_session(pair)
    event = make_event("PUT", f"/sessions/{sid}/summary", body={"summary": "s"})
    ok(invoke_twice(pair, mode, event, "PutObject"), 200, mode)
    assert pair.call("GET", f"/sessions/{sid}/summary").body == {"summary": "s"}


def delete_session(pair: Pair, mode: str) -> None:
    sid, other = new_session(pair), new_session(pair)
    for session_id in (sid, other):
        pair.call("POST", f"/sessions/{session_id}/messages",
                  body={"role": "human", "content": "x"})
    replies = invoke_twice(pair, mode, make_event("DELETE", f"/sessions/{sid}"), "DeleteObjects")
    statuses = [r.status for r in replies]
    assert statuses[0] in (204, 404, 503)  # 404: the other invocation finished first
    assert statuses[1] in (204, 404)  # the documented "treat 404 on DELETE as done"
    assert 204 in statuses or mode == "after-lost-answer"
    assert pair.call("GET", f"/sessions/{sid}").status == 404
    assert [s["id"] for s in pair.call("GET", "/sessions").body["sessions"]] == [other]
    assert len(messages_of(pair, other)) == 1
    assert [key for _, key in pair.first.touched() if sid in key]  # it did go to S3


def clear_messages(pair: Pair, mode: str) -> None:
    sid = new_session(pair)
    pair.call("POST", f"/sessions/{sid}/messages", body={"role": "human", "content": "x"})
    event = make_event("DELETE", f"/sessions/{sid}/messages")
    ok(invoke_twice(pair, mode, event, "DeleteObject"), 204, mode)
    assert messages_of(pair, sid) == []


SCENARIOS = [
    Scenario("create-session", create_session),
    Scenario("append-with-ids", append_with_ids),
    Scenario("append-without-ids", append_without_ids),
    Scenario("checkpoint-with-id", checkpoint_with_id),
    Scenario("checkpoint-without-id", checkpoint_without_id),
    Scenario("put-summary", put_summary),
    Scenario("delete-session", delete_session),
    Scenario("clear-messages", clear_messages),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.name) for s in SCENARIOS])
def test_a_doubly_invoked_event_acts_once(pair: Pair, scenario: Scenario, mode: str) -> None:
    scenario.run(pair, mode)
