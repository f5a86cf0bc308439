"""AgentsSession: the Agents SDK's Session protocol over the Store, a Runner
conversation continued by a NEW process, and changes that are never lost or doubled."""

from __future__ import annotations

import asyncio
import math

import pytest

pytest.importorskip("agents")

from agents import Runner, Session
from agents.memory import SessionSettings

from synaptic_s3 import InMemoryStore, Message, S3Store, SessionManager, Store
from synaptic_s3.core.errors import CorruptDataError, InvalidDataError, InvalidKeyError
from synaptic_s3.integrations.openai_agents import AgentsSession
from synaptic_s3.testing import Endpoint

from .agents_app import OFFLINE, agent
from .conftest import BUCKET, endpoint_env, open_s3_store, run_script
from .stores import CountingStore, LostAnswerStore

USER = [{"role": "user", "content": f"message {n}"} for n in range(5)]


def test_is_an_agents_sdk_session() -> None:
    session = AgentsSession(SessionManager(InMemoryStore()), "s1")
    assert isinstance(session, Session)
    assert session.session_id == "s1"


@pytest.mark.s3
@pytest.mark.slow
async def test_a_runner_conversation_continues_in_a_new_process(
    s3_store: S3Store, s3_endpoint: Endpoint, s3_prefix: str
) -> None:
    manager = SessionManager(s3_store)
    session_id = await manager.create_session()
    first = await Runner.run(agent(), "hello", session=AgentsSession(manager, session_id),
                             run_config=OFFLINE)
    assert first.final_output == "1 user message(s), last: hello"

    later = run_script("agents_app.py", s3_endpoint.url, BUCKET, s3_prefix, session_id,
                       "how are you?", env=endpoint_env(s3_endpoint))
    assert later["output"] == "2 user message(s), last: how are you?"
    assert [item.get("role") for item in later["items"]] == [
        "user", "assistant", "user", "assistant"]
    assert await AgentsSession(manager, session_id).get_items() == later["items"]


async def test_get_items_returns_the_newest_in_order(backend_store: Store) -> None:
    session = AgentsSession(backend_store, "s1")
    await session.add_items(USER[:3])
    await session.add_items(USER[3:])
    assert await session.get_items() == USER
    assert await session.get_items(2) == USER[3:]
    assert await session.get_items(0) == []
    assert await session.get_items(-1) == USER
    limited = AgentsSession(backend_store, "s1", session_settings=SessionSettings(limit=1))
    assert await limited.get_items() == USER[4:]


async def test_pop_item_removes_the_newest() -> None:
    session = AgentsSession(InMemoryStore(), "s1")
    assert await session.pop_item() is None
    await session.add_items(USER[:2])
    assert await session.pop_item() == USER[1]
    assert await session.get_items() == USER[:1]


async def test_clear_session_leaves_the_message_history(s3_store: S3Store) -> None:
    manager = SessionManager(s3_store)
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("kept"))
    session = AgentsSession(manager, session_id)
    await session.add_items(USER[:1])
    await session.clear_session()
    assert await session.get_items() == []
    assert [m.content for m in await manager.memory().load(session_id)] == ["kept"]


async def test_delete_session_removes_the_items(s3_store: S3Store) -> None:
    manager = SessionManager(s3_store)
    session_id = await manager.create_session()
    await AgentsSession(manager, session_id).add_items(USER)
    await manager.delete_session(session_id)
    assert await AgentsSession(manager, session_id).get_items() == []
    assert await s3_store.list_namespaces(("memory", session_id)) == []


async def test_concurrent_writers_lose_nothing(s3_store: S3Store) -> None:
    sessions = [AgentsSession(s3_store, "shared") for _ in range(6)]
    await asyncio.gather(*(s.add_items([USER[n % 5] | {"writer": n}])
                           for n, s in enumerate(sessions)))
    writers = sorted(item["writer"] for item in await sessions[0].get_items())
    assert writers == list(range(6))


async def test_a_write_whose_answer_was_lost_is_not_applied_twice() -> None:
    store = LostAnswerStore(InMemoryStore(), losses=2)
    session = AgentsSession(store, "s1")
    await session.add_items(USER[:2])  # lands, then reports a conflict
    assert await session.get_items() == USER[:2]
    assert await session.pop_item() == USER[1]  # the same for a pop
    assert await session.get_items() == USER[:1]


async def test_invalid_session_ids_are_refused_before_any_io() -> None:
    with pytest.raises(InvalidKeyError):
        AgentsSession(InMemoryStore(), "a/b")


async def test_foreign_data_is_reported_as_corrupt() -> None:
    store = InMemoryStore()
    await store.put(("memory", "s1", "openai-agents"), "items", [1, 2])
    with pytest.raises(CorruptDataError):
        await AgentsSession(store, "s1").get_items()


# -- what the SDK's own sessions do, done the same way ------------------------------------


def test_settings_default_to_the_sdks_defaults() -> None:
    session = AgentsSession(InMemoryStore(), "s1")
    assert session.session_settings == SessionSettings()


async def test_settings_given_as_a_dict_are_converted_and_honoured(backend_store: Store) -> None:
    session = AgentsSession(backend_store, "s1", session_settings={"limit": 2})
    assert session.session_settings == SessionSettings(limit=2)
    await session.add_items(USER)
    assert await session.get_items() == USER[3:]
    assert await session.get_items(limit=4) == USER[1:]  # an explicit limit wins


async def test_a_runner_accepts_settings_given_as_a_dict() -> None:
    session = AgentsSession(InMemoryStore(), "s1", session_settings={"limit": 2})
    await Runner.run(agent(), "one", session=session, run_config=OFFLINE)
    result = await Runner.run(agent(), "two", session=session, run_config=OFFLINE)
    # the model saw the newest 2 stored items (the first turn) plus the new input
    assert result.final_output == "2 user message(s), last: two"
    assert len(await session.get_items(-1)) == 4


async def test_items_that_are_not_json_raise_type_error_and_write_nothing() -> None:
    store = InMemoryStore()
    session = AgentsSession(store, "s1")
    with pytest.raises(TypeError):
        await session.add_items([{"role": "user", "content": object()}])
    with pytest.raises(TypeError):
        await session.add_items({"role": "user"})  # type: ignore[arg-type]
    assert await store.get(("memory", "s1", "openai-agents"), "items") is None


async def test_nan_is_refused_as_invalid_data() -> None:
    """JSON has no NaN: the SDK's SQLite session stores Python's ``NaN`` token, a
    JSON object store cannot. Refused before any write, as a ``ValueError``."""
    session = AgentsSession(InMemoryStore(), "s1")
    with pytest.raises(InvalidDataError):
        await session.add_items([{"score": math.nan}])
    assert await session.get_items() == []


async def test_a_resume_reads_one_object() -> None:
    counting = CountingStore(InMemoryStore())
    session = AgentsSession(counting, "s1")
    await Runner.run(agent(), "one", session=session, run_config=OFFLINE)
    counting.reset()
    await Runner.run(agent(), "two", session=session, run_config=OFFLINE)
    # the history read, then the SDK's two appends (the input, then the answer), each a
    # read and one compare-and-swap write
    assert counting.calls == {"get": 3, "put": 2}
    counting.reset()
    await session.get_items()
    assert counting.calls == {"get": 1}


# Loop independence: the SDK's run_sync runs each call on an event loop of its own.


def _run_sync_twice_then_asyncio_run(store: Store) -> list[object]:
    session = AgentsSession(store, "s1")
    Runner.run_sync(agent(), "one", session=session, run_config=OFFLINE)
    Runner.run_sync(agent(), "two", session=session, run_config=OFFLINE)
    return asyncio.run(session.get_items())


def test_run_sync_twice_then_asyncio_run_in_memory() -> None:
    assert len(_run_sync_twice_then_asyncio_run(InMemoryStore())) == 4


def test_run_sync_twice_then_asyncio_run_on_s3(s3_endpoint: Endpoint, s3_prefix: str) -> None:
    store = open_s3_store(s3_endpoint, s3_prefix)
    try:
        assert len(_run_sync_twice_then_asyncio_run(store)) == 4
    finally:
        asyncio.run(store.close())


async def test_the_sdks_encrypted_session_wraps_it(backend_store: Store) -> None:
    """The SDK's EncryptedSession over ours: the store holds only ciphertext, a
    Runner conversation still reads back in clear."""
    encrypt = pytest.importorskip("agents.extensions.memory.encrypt_session")
    inner = AgentsSession(backend_store, "s1")
    session = encrypt.EncryptedSession("s1", underlying_session=inner,
                                       encryption_key="k" * 32)
    await Runner.run(agent(), "a secret", session=session, run_config=OFFLINE)
    result = await Runner.run(agent(), "again", session=session, run_config=OFFLINE)
    assert result.final_output == "2 user message(s), last: again"
    stored = await backend_store.get(("memory", "s1", "openai-agents"), "items")
    assert stored is not None
    assert len(stored.value["items"]) == 4
    assert "a secret" not in str(stored.value)
