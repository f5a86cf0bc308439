"""ClaudeSessionStore: the Claude Agent SDK's own conformance suite on every backend,
the SDK's store helpers as its users call them, request counts on the wire, and
concurrent writers that lose nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("claude_agent_sdk")

from claude_agent_sdk import (
    delete_session_via_store,
    fork_session_via_store,
    get_session_messages_from_store,
    list_sessions_from_store,
    list_subagents_from_store,
    project_key_for_directory,
)
from claude_agent_sdk.testing import run_session_store_conformance

from synaptic_s3 import FileStore, InMemoryStore, S3Store, SessionManager, Store
from synaptic_s3.core.errors import CorruptDataError, InvalidKeyError
from synaptic_s3.integrations.claude_agent_sdk import ClaudeSessionStore
from synaptic_s3.testing import Endpoint

from ..perf.conftest import WireCounter
from .stores import CountingStore, LostAnswerStore

BACKENDS = ("memory", "file", pytest.param("s3-moto", marks=pytest.mark.s3),
            pytest.param("s3-seaweedfs", marks=pytest.mark.s3))
BUCKET = "synaptic-tests"  # created by tests/conftest.py's endpoint fixtures
KEY: Any = {"project_key": "proj", "session_id": "sess"}

MakeStore = Callable[[], Awaitable[Store]]


@pytest.fixture(params=BACKENDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[MakeStore]:
    """A factory of fresh, isolated stores of one backend (a new directory or prefix
    per call), closed at the end."""
    opened: list[Store] = []

    async def make() -> Store:
        store: Store
        if request.param == "memory":
            store = InMemoryStore()
        elif request.param == "file":
            store = FileStore(tmp_path / uuid.uuid4().hex)
        else:
            fixture = "moto_endpoint" if request.param == "s3-moto" else "seaweedfs_endpoint"
            endpoint: Endpoint = request.getfixturevalue(fixture)
            store = S3Store(BUCKET, prefix=f"claude-{uuid.uuid4().hex}",
                            **endpoint.boto3_kwargs())
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_the_sdk_conformance_suite_passes(make_store: MakeStore) -> None:
    async def fresh() -> ClaudeSessionStore:
        return ClaudeSessionStore(await make_store())

    await run_session_store_conformance(fresh)


def test_every_optional_method_is_implemented_so_the_suite_runs_all_of_it() -> None:
    from claude_agent_sdk.types import SessionStore

    for name in ("list_sessions", "list_session_summaries", "delete", "list_subkeys"):
        assert getattr(ClaudeSessionStore, name) is not getattr(SessionStore, name)


# -- what SDK users do with a store ----------------------------------------------------------

def _entry(kind: str, text: str, session_id: str, parent: str | None) -> dict[str, Any]:
    return {
        "type": kind, "uuid": str(uuid.uuid4()), "parentUuid": parent,
        "sessionId": session_id, "timestamp": "2026-01-01T00:00:00.000Z",
        "isSidechain": False, "cwd": "/work/app", "userType": "external",
        "message": {"role": "user" if kind == "user" else "assistant", "content": text},
    }


def _conversation(session_id: str, turns: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    parent = None
    for n in range(turns):
        for kind in ("user", "assistant"):
            entry = _entry(kind, f"{kind} {n}", session_id, parent)
            parent = entry["uuid"]
            entries.append(entry)
    return entries


async def test_sdk_helpers_read_list_fork_and_delete(make_store: MakeStore) -> None:
    store = ClaudeSessionStore(await make_store())
    directory = "/work/app"
    session_id = str(uuid.uuid4())
    key: Any = {"project_key": project_key_for_directory(directory), "session_id": session_id}
    entries = _conversation(session_id, 3)
    await store.append(key, entries[:2])
    await store.append(key, entries[2:])
    await store.append({**key, "subpath": "subagents/agent-1"},
                       [_entry("user", "sub", session_id, None)])

    messages = await get_session_messages_from_store(store, session_id, directory=directory)
    assert [m.message["content"] for m in messages] == [e["message"]["content"]
                                                        for e in entries]
    listed = await list_sessions_from_store(store, directory=directory)
    assert [info.session_id for info in listed] == [session_id]
    assert listed[0].first_prompt == "user 0"
    assert await list_subagents_from_store(store, session_id, directory=directory) == ["1"]

    fork = await fork_session_via_store(store, session_id, directory=directory)
    forked = await get_session_messages_from_store(store, fork.session_id, directory=directory)
    assert len(forked) == len(entries)

    await delete_session_via_store(store, session_id, directory=directory)
    assert await store.load(key) is None
    assert await store.list_subkeys(key) == []
    remaining = await list_sessions_from_store(store, directory=directory)
    assert [info.session_id for info in remaining] == [fork.session_id]


async def test_delete_session_removes_every_transcript_and_listings_skip_it() -> None:
    backing = InMemoryStore()
    manager = SessionManager(backing)
    session_id = await manager.create_session()
    store = ClaudeSessionStore(manager)
    key: Any = {"project_key": "proj", "session_id": session_id}
    await store.append(key, [{"type": "x", "n": 1}])
    await store.append({**key, "subpath": "subagents/agent-1"}, [{"type": "x", "n": 2}])

    await manager.delete_session(session_id)
    assert await backing.list_namespaces(("memory", session_id)) == []
    assert await store.load(key) is None
    assert await store.list_sessions("proj") == []
    assert await store.list_session_summaries("proj") == []


async def test_the_sdk_resume_materialises_the_transcripts(make_store: MakeStore,
                                                           tmp_path: Path) -> None:
    """What the SDK does before it spawns the CLI for ``resume=`` (or
    ``continue_conversation``): load the session and its subagents into a config dir."""
    from claude_agent_sdk import ClaudeAgentOptions
    from claude_agent_sdk._internal.session_resume import materialize_resume_session

    store = ClaudeSessionStore(await make_store())
    directory = str(tmp_path)
    project = project_key_for_directory(directory)
    session_id = str(uuid.uuid4())
    entries = _conversation(session_id, 2)
    await store.append({"project_key": project, "session_id": session_id}, entries)
    sub = [_entry("user", "sub", session_id, None)]
    await store.append({"project_key": project, "session_id": session_id,
                        "subpath": "subagents/agent-7"}, sub)

    for options in (ClaudeAgentOptions(session_store=store, cwd=directory, resume=session_id),
                    ClaudeAgentOptions(session_store=store, cwd=directory,
                                       continue_conversation=True)):
        resumed = await materialize_resume_session(options)
        assert resumed is not None
        try:
            assert resumed.resume_session_id == session_id
            folder = resumed.config_dir / "projects" / project
            lines = (folder / f"{session_id}.jsonl").read_text().splitlines()
            assert [json.loads(line) for line in lines] == entries
            sub_file = folder / session_id / "subagents" / "agent-7.jsonl"
            assert [json.loads(line) for line in sub_file.read_text().splitlines()] == sub
        finally:
            await resumed.cleanup()


async def test_a_session_loaded_before_it_existed_is_still_indexed() -> None:
    store = ClaudeSessionStore(InMemoryStore())
    assert await store.load(KEY) is None  # the instance now knows it is absent
    await store.append(KEY, [{"type": "x"}])
    assert [s["session_id"] for s in await store.list_sessions("proj")] == ["sess"]


# -- correctness under concurrency and retries -------------------------------------------------

@pytest.mark.parametrize("writers", [2, 8])
async def test_concurrent_writers_lose_nothing_and_keep_batches_whole(
    make_store: MakeStore, writers: int
) -> None:
    backing = await make_store()
    stores = [ClaudeSessionStore(backing) for _ in range(writers)]
    batches = [[{"type": "x", "writer": w, "n": n} for n in range(3)] for w in range(writers)]
    await asyncio.gather(*(s.append(KEY, b) for s, b in zip(stores, batches, strict=True)))
    loaded = await stores[0].load(KEY)
    assert loaded is not None
    assert len(loaded) == 3 * writers
    for start in range(0, len(loaded), 3):  # every batch landed whole, in its own order
        chunk = loaded[start:start + 3]
        assert [e["n"] for e in chunk] == [0, 1, 2]
        assert len({e["writer"] for e in chunk}) == 1
    assert [s["session_id"] for s in await stores[0].list_sessions("proj")] == ["sess"]


async def test_a_stale_cache_costs_a_retry_not_an_entry() -> None:
    backing = InMemoryStore()
    first, second = ClaudeSessionStore(backing), ClaudeSessionStore(backing)
    await first.append(KEY, [{"type": "x", "n": 1}])
    await second.load(KEY)
    await first.append(KEY, [{"type": "x", "n": 2}])
    await second.append(KEY, [{"type": "x", "n": 3}])  # its cached version is stale
    assert [e["n"] for e in await first.load(KEY) or []] == [1, 2, 3]


async def test_a_write_whose_answer_was_lost_is_not_applied_twice() -> None:
    store = ClaudeSessionStore(LostAnswerStore(InMemoryStore(), losses=3))
    await store.append(KEY, [{"type": "x", "n": 1}])  # no uuid: only the batch id dedups
    await store.append(KEY, [{"type": "x", "n": 2}])
    assert await store.load(KEY) == [{"type": "x", "n": 1}, {"type": "x", "n": 2}]


async def test_entries_with_a_stored_uuid_are_skipped_others_always_added() -> None:
    store = ClaudeSessionStore(InMemoryStore())
    await store.append(KEY, [{"type": "x", "uuid": "a"}, {"type": "title"}])
    await store.append(KEY, [{"type": "x", "uuid": "a"}, {"type": "x", "uuid": "b"},
                             {"type": "x", "uuid": "b"}, {"type": "title"}])
    assert await store.load(KEY) == [{"type": "x", "uuid": "a"}, {"type": "title"},
                                     {"type": "x", "uuid": "b"}, {"type": "title"}]


async def test_a_retried_batch_of_uuid_entries_writes_nothing() -> None:
    counting = CountingStore(InMemoryStore())
    store = ClaudeSessionStore(counting)
    batch = [{"type": "x", "uuid": "a"}, {"type": "x", "uuid": "b"}]
    await store.append(KEY, batch)
    counting.reset()
    await store.append(KEY, batch)
    assert counting.calls["put"] == 0


# -- names and bad input --------------------------------------------------------------------------

async def test_awkward_names_round_trip() -> None:
    store = ClaudeSessionStore(InMemoryStore())
    key: Any = {"project_key": "/home/me/my app: v2", "session_id": "a/b"}
    long_sub = "subagents/" + "x" * 300
    await store.append(key, [{"type": "x"}])
    await store.append({**key, "subpath": long_sub}, [{"type": "y"}])
    await store.append({**key, "subpath": "subagents/workflows/w1/agent-2"}, [{"type": "z"}])
    assert await store.load({**key, "subpath": long_sub}) == [{"type": "y"}]
    assert sorted(await store.list_subkeys(key)) == sorted(
        [long_sub, "subagents/workflows/w1/agent-2"])
    assert [s["session_id"] for s in await store.list_sessions(key["project_key"])] == ["a/b"]


async def test_an_empty_subpath_is_refused() -> None:
    with pytest.raises(InvalidKeyError):
        await ClaudeSessionStore(InMemoryStore()).append({**KEY, "subpath": ""}, [{"type": "x"}])


async def test_entries_must_be_objects() -> None:
    with pytest.raises(TypeError):
        await ClaudeSessionStore(InMemoryStore()).append(KEY, ["not an entry"])  # type: ignore[list-item]


async def test_foreign_data_is_reported_as_corrupt() -> None:
    backing = InMemoryStore()
    await backing.put(("memory", "sess", "claude-agent-sdk", "proj"), "transcript", [1])
    with pytest.raises(CorruptDataError):
        await ClaudeSessionStore(backing).load(KEY)


# -- requests on the wire --------------------------------------------------------------------

@pytest.fixture
async def counted(moto_endpoint: Endpoint) -> AsyncIterator[tuple[S3Store, WireCounter]]:
    wire = WireCounter()
    async with S3Store(BUCKET, prefix=f"claude-{uuid.uuid4().hex}",
                       **moto_endpoint.boto3_kwargs()) as store:
        (await store.client()).meta.events.register("before-send.s3", wire)
        yield store, wire


@pytest.mark.s3
async def test_requests_per_append_and_per_resume(counted: tuple[S3Store, WireCounter]) -> None:
    backing, wire = counted
    writer = ClaudeSessionStore(backing)
    entries = _conversation("sess", 50)

    await writer.append(KEY, entries[:2])  # new session: read, index entry, transcript
    assert dict(wire.calls) == {"GetObject": 1, "PutObject": 2}
    for n in range(2, 100, 2):  # warm: one conditional PUT per batch
        wire.reset()
        await writer.append(KEY, entries[n:n + 2])
        assert dict(wire.calls) == {"PutObject": 1}
        assert wire.conditional_puts == 1

    wire.reset()
    resumed = await ClaudeSessionStore(backing).load(KEY)  # a new process resuming
    assert resumed == entries
    assert dict(wire.calls) == {"GetObject": 1}

    wire.reset()
    await ClaudeSessionStore(backing).append(KEY, [{"type": "x"}])  # a cold writer
    assert dict(wire.calls) == {"GetObject": 1, "PutObject": 1}


@pytest.mark.s3
async def test_requests_of_the_sdk_resume(counted: tuple[S3Store, WireCounter],
                                          tmp_path: Path) -> None:
    """``ClaudeAgentOptions(resume=...)``: the transcript, one listing of the subagents,
    and each subagent transcript: one GET apiece whatever their number of appends."""
    from claude_agent_sdk import ClaudeAgentOptions
    from claude_agent_sdk._internal.session_resume import materialize_resume_session

    backing, wire = counted
    store = ClaudeSessionStore(backing)
    session_id = str(uuid.uuid4())
    key: Any = {"project_key": project_key_for_directory(str(tmp_path)),
                "session_id": session_id}
    entries = _conversation(session_id, 20)
    for n in range(0, 40, 2):
        await store.append(key, entries[n:n + 2])
    for agent in range(2):
        for n in range(5):
            await store.append({**key, "subpath": f"subagents/agent-{agent}"},
                               [_entry("user", f"sub {n}", session_id, None)])
    wire.reset()
    resumed = await materialize_resume_session(ClaudeAgentOptions(
        session_store=ClaudeSessionStore(backing), cwd=str(tmp_path), resume=session_id))
    assert resumed is not None
    await resumed.cleanup()
    assert dict(wire.calls) == {"GetObject": 3, "ListObjectsV2": 1}
