"""SynapticChatMessageHistory: LangChain's chat-history contract (sync and async, single
and bulk adds, clear), RunnableWithMessageHistory with a fake model, lossless message
conversion (property-tested), and the request counts of a restore and an append."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langchain_core")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables.history import RunnableWithMessageHistory

from synaptic_s3 import FileStore, InMemoryStore, Message, S3Store, SessionManager, Store
from synaptic_s3.core.errors import InvalidDataError, InvalidKeyError
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.langchain_history import SynapticChatMessageHistory
from synaptic_s3.integrations.langchain_messages import from_wire, to_wire
from synaptic_s3.testing import Endpoint

from ..perf.conftest import WireCounter

BUCKET = "synaptic-tests"  # created by tests/conftest.py's endpoint fixtures


def _contents(messages: list[BaseMessage]) -> list[tuple[str, Any]]:
    return [(m.type, m.content) for m in messages]


# -- the BaseChatMessageHistory contract, on every backend ----------------------------------

async def test_is_a_langchain_chat_history(store: Store) -> None:
    history = SynapticChatMessageHistory(store, "s1")
    assert isinstance(history, BaseChatMessageHistory)
    assert await history.aget_messages() == []


async def test_async_add_get_clear(store: Store) -> None:
    history = SynapticChatMessageHistory(store, "s1")
    await history.aadd_messages([HumanMessage("Hello"), HumanMessage("World")])
    await history.aadd_messages([HumanMessage("!")])
    assert _contents(await history.aget_messages()) == [
        ("human", "Hello"), ("human", "World"), ("human", "!")]
    await history.aclear()
    assert await history.aget_messages() == []


def test_sync_methods_outside_an_event_loop() -> None:
    history = SynapticChatMessageHistory(InMemoryStore(), "s1")
    history.add_message(HumanMessage("Hello"))
    history.add_user_message("again")
    history.add_ai_message("Hi!")
    history.add_messages([HumanMessage("Hello"), AIMessage("World")])
    assert _contents(history.messages) == [
        ("human", "Hello"), ("human", "again"), ("ai", "Hi!"), ("human", "Hello"),
        ("ai", "World")]
    assert "AI: Hi!" in str(history)
    history.clear()
    assert history.messages == []


@pytest.fixture(params=["memory", "file", pytest.param("s3-moto", marks=pytest.mark.s3),
                        pytest.param("s3-seaweedfs", marks=pytest.mark.s3)])
def sync_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store used only through the synchronous methods (so closed on their loop)."""
    store: Store
    if request.param == "memory":
        store = InMemoryStore()
    elif request.param == "file":
        store = FileStore(tmp_path / "store")
    else:
        fixture = "moto_endpoint" if request.param == "s3-moto" else "seaweedfs_endpoint"
        endpoint: Endpoint = request.getfixturevalue(fixture)
        store = S3Store(BUCKET, prefix=f"lc-{uuid.uuid4().hex}", **endpoint.boto3_kwargs())
    yield store
    run_sync(store.close())


async def test_sync_methods_inside_a_running_loop(sync_store: Store) -> None:
    """Sync calls from a thread that runs an event loop (a notebook cell, an async web
    handler): they run on the background loop, never on this one."""
    history = SynapticChatMessageHistory(sync_store, "s1")
    history.add_messages([HumanMessage("from sync code")])
    history.add_ai_message("still sync")
    assert _contents(history.messages) == [("human", "from sync code"), ("ai", "still sync")]
    history.clear()
    assert history.messages == []


async def test_sync_and_async_calls_mix_on_one_local_store() -> None:
    history = SynapticChatMessageHistory(InMemoryStore(), "s1")
    history.add_messages([HumanMessage("from sync code")])
    await history.aadd_messages([AIMessage("from async code")])
    assert _contents(history.messages) == [("human", "from sync code"),
                                           ("ai", "from async code")]


def test_sync_methods_from_plain_code(sync_store: Store) -> None:
    history = SynapticChatMessageHistory(sync_store, "s1")
    history.add_messages([HumanMessage("a"), AIMessage("b")])
    assert _contents(SynapticChatMessageHistory(sync_store, "s1").messages) == [
        ("human", "a"), ("ai", "b")]


async def test_the_messages_are_the_sessions_history(store: Store) -> None:
    manager = SessionManager(store)
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("written by another service"))
    history = SynapticChatMessageHistory(manager, session_id)
    await history.aadd_messages([AIMessage("answered through LangChain")])
    assert [m.content for m in await manager.memory().load(session_id)] == [
        "written by another service", "answered through LangChain"]
    await manager.delete_session(session_id)
    assert await history.aget_messages() == []


async def test_concurrent_writers_lose_nothing(store: Store) -> None:
    histories = [SynapticChatMessageHistory(store, "shared") for _ in range(6)]
    await asyncio.gather(*(h.aadd_messages([HumanMessage(f"writer {n}")])
                           for n, h in enumerate(histories)))
    contents = sorted(m.content for m in await histories[0].aget_messages())
    assert contents == [f"writer {n}" for n in range(6)]


async def test_stored_ids_come_back_and_inputs_are_not_changed() -> None:
    history = SynapticChatMessageHistory(InMemoryStore(), "s1")
    given_id, fresh = HumanMessage("has an id", id="m-1"), HumanMessage("has none")
    await history.aadd_messages([given_id, fresh])
    loaded = await history.aget_messages()
    assert loaded[0] == given_id
    assert loaded[1].id is not None
    assert fresh.id is None


async def test_bad_input_is_refused() -> None:
    history = SynapticChatMessageHistory(InMemoryStore(), "s1")
    with pytest.raises(TypeError):
        await history.aadd_messages([{"role": "user"}])  # type: ignore[list-item]
    with pytest.raises(InvalidDataError):
        await history.aadd_messages([AIMessage("x", additional_kwargs={"f": object()})])
    with pytest.raises(InvalidDataError):
        to_wire(RemoveMessage(id=""))
    with pytest.raises(InvalidKeyError):
        SynapticChatMessageHistory(InMemoryStore(), "a/b")
    assert await history.aget_messages() == []


# -- RunnableWithMessageHistory --------------------------------------------------------------

def _chain(manager: SessionManager, answers: list[str]) -> RunnableWithMessageHistory:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")])
    return RunnableWithMessageHistory(
        prompt | FakeListChatModel(responses=answers),  # type: ignore[arg-type]
        lambda session_id: SynapticChatMessageHistory(manager, session_id),
        input_messages_key="question", history_messages_key="history",
    )


def test_runnable_with_message_history_sync() -> None:
    manager = SessionManager(InMemoryStore())
    chain = _chain(manager, ["Paris.", "About 2 million."])
    config: Any = {"configurable": {"session_id": "chat-1"}}
    chain.invoke({"question": "Capital of France?"}, config)
    chain.invoke({"question": "Population?"}, config)
    assert _contents(SynapticChatMessageHistory(manager, "chat-1").messages) == [
        ("human", "Capital of France?"), ("ai", "Paris."), ("human", "Population?"),
        ("ai", "About 2 million.")]


async def test_runnable_with_message_history_async(store: Store) -> None:
    manager = SessionManager(store)
    chain = _chain(manager, ["Paris.", "About 2 million."])
    config: Any = {"configurable": {"session_id": "chat-1"}}
    await chain.ainvoke({"question": "Capital of France?"}, config)
    reply = await chain.ainvoke({"question": "Population?"}, config)
    assert reply.content == "About 2 million."
    stored = await SynapticChatMessageHistory(manager, "chat-1").aget_messages()
    assert len(stored) == 4


# -- lossless conversion -----------------------------------------------------------------------

_json_leaf = st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=8)
_json = st.recursive(_json_leaf, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
_kwargs = st.dictionaries(st.text(min_size=1, max_size=6), _json, max_size=3)
_opt_text = st.none() | st.text(max_size=10)
_blocks = st.lists(st.text(max_size=8) | st.fixed_dictionaries({"type": st.just("text"),
                                                                 "text": st.text(max_size=8)})
                   | st.fixed_dictionaries({"type": st.just("image"),
                                            "url": st.just("https://x/y.png")}), max_size=3)
_content = st.text(max_size=20) | _blocks
_common = {"content": _content, "id": _opt_text, "name": _opt_text,
           "additional_kwargs": _kwargs, "response_metadata": _kwargs}
_calls = st.lists(st.fixed_dictionaries({
    "name": st.text(max_size=6), "args": st.dictionaries(st.text(max_size=4), _json, max_size=2),
    "id": _opt_text, "type": st.just("tool_call")}), max_size=2)
_invalid = st.lists(st.fixed_dictionaries(
    {"name": _opt_text, "args": _opt_text, "id": _opt_text, "error": _opt_text,
     "type": st.just("invalid_tool_call")}), max_size=2)
_details = st.dictionaries(st.sampled_from(["audio", "cache_read", "reasoning"]),
                           st.integers(0, 100), max_size=2)
_usage = st.none() | st.fixed_dictionaries(
    {"input_tokens": st.integers(0, 10**6), "output_tokens": st.integers(0, 10**6),
     "total_tokens": st.integers(0, 10**6)},
    optional={"input_token_details": _details, "output_token_details": _details})



def _build(cls: type[BaseMessage], **fields: Any) -> st.SearchStrategy[BaseMessage]:
    """Only the given fields (``st.builds(cls)`` would also invent the model's others)."""
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


MESSAGES = st.one_of(
    _build(HumanMessage, **_common),
    _build(SystemMessage, **_common),
    _build(AIMessage, **_common, tool_calls=_calls, invalid_tool_calls=_invalid,
              usage_metadata=_usage),
    _build(ToolMessage, **_common, tool_call_id=st.text(max_size=6),
              status=st.sampled_from(["success", "error"]), artifact=_json),
    _build(ChatMessage, **_common, role=st.text(max_size=6)),
    _build(FunctionMessage, **{**_common, "name": st.text(max_size=6)}),
    _build(RemoveMessage, id=st.text(min_size=1, max_size=6)),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_conversion_round_trips_through_the_wire_json(message: BaseMessage) -> None:
    wire = Message.from_dict(to_wire(message).to_dict())
    assert from_wire(wire) == message


@settings(max_examples=40, deadline=None)
@given(st.lists(MESSAGES.filter(lambda m: m.id is not None and m.type != "remove"),
                min_size=1, max_size=4, unique_by=lambda m: m.id))
def test_conversion_round_trips_through_a_store(messages: list[BaseMessage]) -> None:
    history = SynapticChatMessageHistory(InMemoryStore(), "s1")
    history.add_messages(messages)
    assert history.messages == messages


def test_tool_calls_and_usage_are_in_the_wire_fields_other_readers_use() -> None:
    message = AIMessage(
        "", id="a1", tool_calls=[{"name": "search", "args": {"q": "x"}, "id": "c1"}],
        usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7,
                        "input_token_details": {"cache_read": 2}})
    assert to_wire(message).to_dict() == {
        "role": "assistant", "content": "", "id": "a1",
        "tool_calls": [{"id": "c1", "name": "search", "arguments": {"q": "x"}}],
        "usage_metadata": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7,
                           "input_details": {"cache_read": 2}},
    }
    tool = to_wire(ToolMessage("42", tool_call_id="c1")).to_dict()
    assert (tool["role"], tool["tool_call_id"]) == ("tool", "c1")


def test_a_list_content_keeps_its_text_in_the_wire_content() -> None:
    message = HumanMessage([{"type": "text", "text": "look at "}, "this",
                            {"type": "image", "url": "https://x/y.png"}])
    assert to_wire(message).content == "look at this"


def test_chunks_are_stored_as_whole_messages() -> None:
    chunk = AIMessageChunk("partial", id="c1")
    assert from_wire(to_wire(chunk)) == AIMessage("partial", id="c1")


def test_messages_from_other_writers_convert() -> None:
    assert from_wire(Message.chat("hi", custom_role="critic")) == ChatMessage("hi",
                                                                              role="critic")
    assert from_wire(Message.remove("m1")) == RemoveMessage(id="m1")


# -- requests on the wire ----------------------------------------------------------------------

@pytest.fixture
async def counted(moto_endpoint: Endpoint) -> AsyncIterator[tuple[S3Store, WireCounter]]:
    wire = WireCounter()
    async with S3Store(BUCKET, prefix=f"lc-{uuid.uuid4().hex}",
                       **moto_endpoint.boto3_kwargs()) as store:
        (await store.client()).meta.events.register("before-send.s3", wire)
        yield store, wire


@pytest.mark.s3
async def test_requests_per_turn_and_per_resume(counted: tuple[S3Store, WireCounter]) -> None:
    store, wire = counted
    history = SynapticChatMessageHistory(store, "s1")
    for n in range(20):
        await history.aadd_messages([HumanMessage(f"q{n}"), AIMessage(f"a{n}")])
    wire.reset()
    await history.aadd_messages([HumanMessage("q"), AIMessage("a")])  # a warm turn
    assert dict(wire.calls) == {"PutObject": 1}
    wire.reset()
    resumed = await SynapticChatMessageHistory(store, "s1").aget_messages()  # new process
    assert len(resumed) == 42
    assert dict(wire.calls) == {"GetObject": 1}
