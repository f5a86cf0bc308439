"""StrandsStorage: Strands' unified Storage protocol (what its docstrings promise: bytes
round-trip, missing keys, deletes, sorted prefix listings, key normalisation and refusals)
on every backend, and SnapshotSessionManager saving and restoring an agent through it,
under the session's own prefix."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("strands")

from strands import Agent
from strands.session.snapshot_session_manager import SnapshotSessionManager
from strands.storage.storage import Storage
from strands.types.exceptions import StorageError

from synaptic_s3 import InMemoryStore, SessionManager, Store
from synaptic_s3.core.errors import CorruptDataError
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.strands_storage import StrandsStorage

from .strands_app import EchoModel, texts
from .test_strands import backing  # noqa: F401 - the store fixture over every backend


def test_is_a_strands_storage() -> None:
    assert isinstance(StrandsStorage(InMemoryStore()), Storage)


def test_bytes_round_trip_and_missing_keys(backing: Store) -> None:  # noqa: F811
    storage = StrandsStorage(backing)

    async def scenario() -> None:
        await storage.write("a/b/c.json", b"\x00\xffdata")
        assert await storage.read("a/b/c.json") == b"\x00\xffdata"
        assert await storage.read("/a//b/c.json/") == b"\x00\xffdata"  # normalised
        assert await storage.read("a/b/missing") is None
        await storage.write("a/b/c.json", b"")
        assert await storage.read("a/b/c.json") == b""
        await storage.delete("a/b/c.json")
        await storage.delete("a/b/c.json")  # deleting a missing key is not an error
        assert await storage.read("a/b/c.json") is None

    asyncio.run(scenario())


def test_list_is_a_sorted_prefix_match(backing: Store) -> None:  # noqa: F811
    storage = StrandsStorage(backing)
    keys = ["notes/b", "notes/a/1", "notes/a/2", "notesX/c", "session/s1/x/y.json",
            "session/s2/z.json", "top"]

    async def scenario() -> None:
        for key in keys:
            await storage.write(key, key.encode())
        assert await storage.list("") == sorted(keys)
        assert await storage.list("notes/") == ["notes/a/1", "notes/a/2", "notes/b"]
        assert await storage.list("notes") == ["notes/a/1", "notes/a/2", "notes/b",
                                               "notesX/c"]
        assert await storage.list("notes/a") == ["notes/a/1", "notes/a/2"]
        assert await storage.list("session/") == ["session/s1/x/y.json", "session/s2/z.json"]
        assert await storage.list("session/s1/") == ["session/s1/x/y.json"]
        assert await storage.list("nothing/") == []

    asyncio.run(scenario())


def test_session_keys_live_under_the_sessions_prefix() -> None:
    store = InMemoryStore()
    storage = StrandsStorage(store)
    asyncio.run(storage.write("session/abc/scopes/agent/a/snapshots/snapshot_latest.json",
                              b"{}"))
    assert run_sync(store.list_namespaces(("memory", "abc"))) == [
        ("memory", "abc", "strands-storage", "scopes", "agent", "a", "snapshots")]


@pytest.mark.parametrize("key", ["", "/", "a/../b", "..", "a\\b"])
def test_keys_strands_refuses_are_refused(key: str) -> None:
    with pytest.raises(StorageError):
        asyncio.run(StrandsStorage(InMemoryStore()).write(key, b"x"))


def test_long_and_awkward_segments_round_trip() -> None:
    storage = StrandsStorage(InMemoryStore())
    long_key = "x" * 300 + "/" + "y" * 250 + ".json"

    async def scenario() -> None:
        await storage.write(long_key, b"long")
        await storage.write("a b:c/é.json", b"awkward")
        assert await storage.read(long_key) == b"long"
        assert await storage.list("") == sorted([long_key, "a b:c/é.json"])

    asyncio.run(scenario())


def test_foreign_data_is_reported_as_corrupt() -> None:
    store = InMemoryStore()
    run_sync(store.put(("strands-storage", "a"), "b", {"data": 1}))
    with pytest.raises(CorruptDataError):
        asyncio.run(StrandsStorage(store).read("a/b"))


def test_search_finds_keys() -> None:
    storage = StrandsStorage(InMemoryStore())

    async def scenario() -> list[str]:
        await storage.write("notes/weather-report", b"sunny")
        await storage.write("notes/shopping", b"eggs")
        return [result.key for result in await storage.search("weather")]

    assert asyncio.run(scenario())[0] == "notes/weather-report"


# -- SnapshotSessionManager --------------------------------------------------------------------

def _agent(storage: StrandsStorage, session_id: str) -> Agent:
    return Agent(model=EchoModel(), agent_id="assistant", callback_handler=None,
                 session_manager=SnapshotSessionManager(session_id, storage=storage))


def test_snapshot_session_manager_restores_an_agent(backing: Store) -> None:  # noqa: F811
    manager = SessionManager(backing)
    session_id = run_sync(manager.create_session())
    first = _agent(StrandsStorage(manager), session_id)
    first("hello")
    first("again")  # a second synchronous call: a fresh event loop in Strands

    resumed = _agent(StrandsStorage(manager), session_id)
    assert texts(resumed.messages) == ["hello", "1 user message(s), last: hello", "again",
                                       "2 user message(s), last: again"]
    assert str(resumed("third")).strip() == "3 user message(s), last: third"

    run_sync(manager.delete_session(session_id))  # the snapshots are the session's
    assert _agent(StrandsStorage(manager), session_id).messages == []
