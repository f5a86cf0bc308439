"""What each console page costs in S3 requests (docs/console.md states these), on moto.

Counted on the wire with botocore's ``before-send.s3`` event, one per HTTP attempt.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, S3Store, SessionManager
from synaptic_s3.console.app import ConsoleApp, Request
from synaptic_s3.testing import Endpoint

pytestmark = pytest.mark.s3


class Wire:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: Any) -> None:
        self.calls[event_name.rsplit(".", 1)[-1]] += 1


@pytest.fixture(scope="module")
def counted(moto_endpoint: Endpoint) -> Iterator[tuple[ConsoleApp, Wire, list[str]]]:
    """150 UUIDv7 sessions, one named session; the newest has 450 messages, a summary
    and 3 checkpoints."""
    wire = Wire()
    with asyncio.Runner() as runner:
        store = S3Store("synaptic-tests", prefix=f"counts-{uuid.uuid4().hex[:12]}",
                        **moto_endpoint.boto3_kwargs())
        manager = SessionManager(store)

        async def fill() -> list[str]:
            ids = [await manager.create_session() for _ in range(150)]
            await manager.create_session(session_id="named-session")
            newest = ids[-1]
            await manager.memory().append_many(
                newest, [Message.human(f"m{i}") for i in range(450)])
            await manager.memory().set_summary(newest, "a summary")
            parent = None
            for step in range(3):
                checkpoint = Checkpoint({"step": step}, parent_id=parent)
                await manager.checkpointer().put(CheckpointConfig(newest), checkpoint)
                parent = checkpoint.id
            client = await store.client()
            client.meta.events.register("before-send.s3", wire)
            return ids

        ids = runner.run(fill())
        app = ConsoleApp(manager, run=runner.run, store_label="moto")
        yield app, wire, ids
        runner.run(store.close())


def _cost(counted: tuple[ConsoleApp, Wire, list[str]], target: str) -> dict[str, int]:
    app, wire, _ = counted
    wire.calls.clear()
    response = app.handle(Request("GET", target, {}))
    assert response.status == 200, response.body[-300:]
    return dict(wire.calls)


def test_sessions_newest_first_costs_one_listing_and_a_read_per_named_id(
        counted: tuple[ConsoleApp, Wire, list[str]]) -> None:
    # the named session sorts above every UUIDv7: it is on the first page, and only it
    # is read (UUIDv7 ids carry their creation time)
    assert _cost(counted, "/console/") == {"ListObjectsV2": 1, "GetObject": 1}


def test_sessions_oldest_first_costs_one_listing(
        counted: tuple[ConsoleApp, Wire, list[str]]) -> None:
    assert _cost(counted, "/console/?order=oldest") == {"ListObjectsV2": 1}


def test_a_conversation_page_costs_three_reads(
        counted: tuple[ConsoleApp, Wire, list[str]]) -> None:
    newest = counted[2][-1]
    # session metadata, summary, messages (today one array; the segmented history
    # reads only the segments under the page)
    assert _cost(counted, f"/console/s/{newest}") == {"GetObject": 3}
    assert _cost(counted, f"/console/s/{newest}?end=250") == {"GetObject": 3}


def test_the_timeline_costs_a_listing_and_a_read_per_checkpoint(
        counted: tuple[ConsoleApp, Wire, list[str]]) -> None:
    newest = counted[2][-1]
    assert _cost(counted, f"/console/s/{newest}/checkpoints") == {
        "ListObjectsV2": 1, "GetObject": 1 + 3}


def test_a_checkpoint_page_costs_three_reads(
        counted: tuple[ConsoleApp, Wire, list[str]]) -> None:
    app, _, ids = counted
    latest = app._call(app.manager.checkpointer().get(CheckpointConfig(ids[-1])))
    assert latest is not None
    target = f"/console/s/{ids[-1]}/checkpoints/{quote(latest.id)}"
    assert _cost(counted, target) == {"GetObject": 3}  # session, checkpoint, parent


def test_search_costs_a_read_then_a_listing(
        counted: tuple[ConsoleApp, Wire, list[str]]) -> None:
    assert _cost(counted, "/console/?q=0000-not-there") == {"GetObject": 1,
                                                            "ListObjectsV2": 1}
    app, wire, ids = counted
    wire.calls.clear()
    found = app.handle(Request("GET", f"/console/?q={ids[0]}", {}))
    assert found.status == 303
    assert dict(wire.calls) == {"GetObject": 1}


def test_an_old_page_of_a_segmented_history_reads_only_its_segments(
        moto_endpoint: Endpoint) -> None:
    """A long history (sealed into many segments) is never read whole: the oldest page
    costs the tail, a listing and the few segments under it, not every segment."""
    wire = Wire()
    with asyncio.Runner() as runner:
        store = S3Store("synaptic-tests", prefix=f"segments-{uuid.uuid4().hex[:12]}",
                        **moto_endpoint.boto3_kwargs())
        manager = SessionManager(store, segment_bytes=16_384)

        async def fill() -> str:
            sid = await manager.create_session()
            for chunk in range(12):  # 1,200 messages of ~200 bytes: ~15 segments
                await manager.memory().append_many(sid, [
                    Message.human(f"message {chunk * 100 + i} " + "x" * 180)
                    for i in range(100)])
            client = await store.client()
            client.meta.events.register("before-send.s3", wire)
            return sid

        sid = runner.run(fill())
        fresh = SessionManager(store, segment_bytes=16_384)  # nothing cached
        app = ConsoleApp(fresh, run=runner.run, store_label="moto")
        wire.calls.clear()
        response = app.handle(Request("GET", f"/console/s/{sid}?start=0", {}))
        assert response.status == 200
        assert b"message 0 " in response.body
        assert b"message 199 " in response.body
        assert b"message 200 " not in response.body
        segments = runner.run(store.list_keys(("memory", sid, "segments")))
        assert len(segments.keys) > 10  # the history really is segmented
        reads = wire.calls["GetObject"]
        per_segment = 1200 / len(segments.keys)
        # session, summary, tail, and the segments 200 messages span (+1 for a boundary)
        assert reads <= 3 + math.ceil(200 / per_segment) + 1
        assert reads < len(segments.keys) / 2
        assert wire.calls["ListObjectsV2"] <= 2
        runner.run(store.close())
