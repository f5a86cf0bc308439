"""StrandsSessionRepository: what Strands' own repository and session-manager tests check
(sessions, agents, messages with pagination and redaction, multi-agent state, bad ids),
on every backend; two writers on one session that lose nothing (where Strands' own S3
manager loses a turn); an agent with an offline model resumed by a NEW process over
files and over S3; and the requests a resume costs, ours and Strands' S3 manager's."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import boto3
import pytest

pytest.importorskip("strands")

from strands import Agent
from strands.agent.conversation_manager.null_conversation_manager import (
    NullConversationManager,
)
from strands.session.repository_session_manager import RepositorySessionManager
from strands.session.s3_session_manager import S3SessionManager
from strands.types.exceptions import SessionException
from strands.types.session import Session, SessionAgent, SessionMessage, SessionType

from synaptic_s3 import FileStore, InMemoryStore, S3Store, SessionManager, Store
from synaptic_s3.core.errors import CorruptDataError, NotFoundError
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.strands import StrandsSessionRepository
from synaptic_s3.testing import Endpoint

from ..perf.conftest import WireCounter
from .conftest import endpoint_env, run_script
from .stores import LostAnswerStore
from .strands_app import AGENT_ID, EchoModel, agent, texts

BUCKET = "synaptic-tests"  # created by tests/conftest.py's endpoint fixtures
BACKENDS = ("memory", "file", pytest.param("s3-moto", marks=pytest.mark.s3),
            pytest.param("s3-seaweedfs", marks=pytest.mark.s3))


def _s3(endpoint: Endpoint, prefix: str | None = None) -> S3Store:
    return S3Store(BUCKET, prefix=prefix or f"strands-{uuid.uuid4().hex}",
                   **endpoint.boto3_kwargs())


@pytest.fixture(params=BACKENDS)
def backing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store, used (as Strands does) only through the synchronous methods."""
    store: Store
    if request.param == "memory":
        store = InMemoryStore()
    elif request.param == "file":
        store = FileStore(tmp_path / "store")
    else:
        fixture = "moto_endpoint" if request.param == "s3-moto" else "seaweedfs_endpoint"
        store = _s3(request.getfixturevalue(fixture))
    yield store
    run_sync(store.close())


@pytest.fixture
def repo(backing: Store) -> StrandsSessionRepository:
    return StrandsSessionRepository(backing)


SESSION = Session(session_id="test-session-123", session_type=SessionType.AGENT)


def _agent(agent_id: str = "test-agent-456") -> SessionAgent:
    return SessionAgent(agent_id=agent_id, state={"key": "value"},
                        conversation_manager_state=NullConversationManager().get_state())


def _message(text: str, index: int) -> SessionMessage:
    return SessionMessage.from_message({"role": "user", "content": [{"text": text}]}, index)


def _with_agent(repo: StrandsSessionRepository) -> SessionAgent:
    repo.create_session(SESSION)
    agent = _agent()
    repo.create_agent(SESSION.session_id, agent)
    return agent


# -- sessions --------------------------------------------------------------------------------

def test_create_and_read_a_session(repo: StrandsSessionRepository) -> None:
    assert repo.create_session(SESSION) == SESSION
    found = repo.read_session(SESSION.session_id)
    assert found is not None
    assert (found.session_id, found.session_type) == (SESSION.session_id, SessionType.AGENT)
    assert repo.read_session("nonexistent-session") is None


def test_creating_a_session_twice_raises_session_exception(repo: StrandsSessionRepository) -> None:
    repo.create_session(SESSION)
    with pytest.raises(SessionException):
        repo.create_session(SESSION)


def test_delete_session(repo: StrandsSessionRepository) -> None:
    agent = _with_agent(repo)
    repo.create_message(SESSION.session_id, agent.agent_id, _message("hi", 0))
    repo.delete_session(SESSION.session_id)
    assert repo.read_session(SESSION.session_id) is None
    assert repo.list_messages(SESSION.session_id, agent.agent_id) == []
    with pytest.raises(SessionException):
        repo.delete_session(SESSION.session_id)


def test_synaptic_delete_session_removes_everything_strands_stored(backing: Store) -> None:
    manager = SessionManager(backing)
    session_id = run_sync(manager.create_session())
    agent(manager, session_id)("hello")
    run_sync(manager.delete_session(session_id))
    assert run_sync(backing.list_namespaces(("memory", session_id))) == []
    assert StrandsSessionRepository(backing).read_session(session_id) is None


# -- agents -----------------------------------------------------------------------------------

def test_create_read_and_update_an_agent(repo: StrandsSessionRepository) -> None:
    agent = _with_agent(repo)
    found = repo.read_agent(SESSION.session_id, agent.agent_id)
    assert found is not None
    assert (found.agent_id, found.state) == (agent.agent_id, {"key": "value"})
    assert repo.read_agent(SESSION.session_id, "nonexistent_agent") is None

    created = found.created_at
    agent.state = {"updated": "value"}
    agent.created_at = "a later clock"
    repo.update_agent(SESSION.session_id, agent)
    updated = repo.read_agent(SESSION.session_id, agent.agent_id)
    assert updated is not None
    assert updated.state == {"updated": "value"}
    assert updated.created_at == created == agent.created_at


def test_updating_a_missing_agent_raises_session_exception(repo: StrandsSessionRepository) -> None:
    repo.create_session(SESSION)
    with pytest.raises(SessionException) as raised:
        repo.update_agent(SESSION.session_id, _agent())
    assert isinstance(raised.value, NotFoundError)


# -- messages ---------------------------------------------------------------------------------

def test_create_read_and_list_messages(repo: StrandsSessionRepository) -> None:
    agent = _with_agent(repo)
    for index in range(10):
        repo.create_message(SESSION.session_id, agent.agent_id, _message(f"m{index}", index))
    found = repo.read_message(SESSION.session_id, agent.agent_id, 3)
    assert found is not None
    assert found.message == {"role": "user", "content": [{"text": "m3"}]}
    assert repo.read_message(SESSION.session_id, agent.agent_id, 999) is None
    every = repo.list_messages(SESSION.session_id, agent.agent_id)
    assert [m.message_id for m in every] == list(range(10))
    assert len(repo.list_messages(SESSION.session_id, agent.agent_id, limit=3)) == 3
    assert [m.message_id for m in repo.list_messages(SESSION.session_id, agent.agent_id,
                                                     offset=5)] == [5, 6, 7, 8, 9]
    assert [m.message_id for m in repo.list_messages(SESSION.session_id, agent.agent_id,
                                                     limit=2, offset=8)] == [8, 9]
    assert repo.list_messages(SESSION.session_id, agent.agent_id, limit=0) == []
    assert repo.list_messages(SESSION.session_id, agent.agent_id, offset=10) == []


def test_update_message_keeps_created_at(repo: StrandsSessionRepository) -> None:
    agent = _with_agent(repo)
    message = _message("secret", 0)
    repo.create_message(SESSION.session_id, agent.agent_id, message)
    created = message.created_at
    message.redact_message = {"role": "user", "content": [{"text": "[redacted]"}]}
    message.created_at = "a later clock"
    repo.update_message(SESSION.session_id, agent.agent_id, message)
    found = repo.read_message(SESSION.session_id, agent.agent_id, 0)
    assert found is not None
    assert found.to_message()["content"] == [{"text": "[redacted]"}]
    assert found.created_at == created


def test_updating_a_missing_message_raises_session_exception(
        repo: StrandsSessionRepository) -> None:
    agent = _with_agent(repo)
    with pytest.raises(SessionException):
        repo.update_message(SESSION.session_id, agent.agent_id, _message("x", 0))


@pytest.mark.parametrize("message_id", ["../escape", "not_an_int", None, [], True])
def test_message_ids_must_be_integers(message_id: Any) -> None:
    repo = StrandsSessionRepository(InMemoryStore())
    with pytest.raises(ValueError, match="message id must be an integer"):
        repo.read_message("s", "a", message_id)


def test_bytes_in_messages_round_trip(repo: StrandsSessionRepository) -> None:
    agent = _with_agent(repo)
    image = {"role": "user", "content": [{"image": {"format": "png",
                                                     "source": {"bytes": b"\x89PNG"}}}]}
    repo.create_message(SESSION.session_id, agent.agent_id, SessionMessage(image, 0))
    found = repo.read_message(SESSION.session_id, agent.agent_id, 0)
    assert found is not None
    assert found.message == image


def test_ids_with_separators_are_stored_apart() -> None:
    repo = StrandsSessionRepository(InMemoryStore())
    for session_id in ("a/b", "a", "b"):
        repo.create_session(Session(session_id=session_id, session_type=SessionType.AGENT))
        repo.create_agent(session_id, _agent("x/y"))
        repo.create_message(session_id, "x/y", _message(session_id, 0))
    assert [m.message["content"][0]["text"] for m in repo.list_messages("a/b", "x/y")] == ["a/b"]


def test_foreign_data_is_reported_as_corrupt() -> None:
    store = InMemoryStore()
    run_sync(store.put(("memory", "s", "strands", "messages"), "a", {"messages": [1]}))
    with pytest.raises(CorruptDataError):
        StrandsSessionRepository(store).list_messages("s", "a")


# -- multi-agent -------------------------------------------------------------------------------

def _orchestrator(state: dict[str, Any]) -> Mock:
    orchestrator = Mock()
    orchestrator.id = "test-multi-agent"
    orchestrator.serialize_state.return_value = {"id": "test-multi-agent", "state": state}
    return orchestrator


def test_multi_agent_state(repo: StrandsSessionRepository) -> None:
    repo.create_session(SESSION)
    assert repo.read_multi_agent(SESSION.session_id, "test-multi-agent") is None
    with pytest.raises(SessionException):
        repo.update_multi_agent(SESSION.session_id, _orchestrator({}))
    repo.create_multi_agent(SESSION.session_id, _orchestrator({"key": "value"}))
    assert repo.read_multi_agent(SESSION.session_id, "test-multi-agent") == {
        "id": "test-multi-agent", "state": {"key": "value"}}
    repo.update_multi_agent(SESSION.session_id, _orchestrator({"key": "updated"}))
    found = repo.read_multi_agent(SESSION.session_id, "test-multi-agent")
    assert found is not None
    assert found["state"] == {"key": "updated"}


# -- the session manager and an agent ----------------------------------------------------------

def test_the_manager_creates_the_session_and_restores_the_agent(backing: Store) -> None:
    first = agent(backing, "chat-1")
    assert str(first("hello")).strip() == "1 user message(s), last: hello"
    first.state.set("mood", "curious")
    first("again")

    resumed = agent(backing, "chat-1")
    assert texts(resumed.messages) == ["hello", "1 user message(s), last: hello", "again",
                                       "2 user message(s), last: again"]
    assert resumed.state.get("mood") == "curious"
    assert str(resumed("third")).strip() == "3 user message(s), last: third"


def test_an_agent_id_is_unique_in_a_session() -> None:
    store = InMemoryStore()
    manager = RepositorySessionManager(session_id="s", session_repository=(
        StrandsSessionRepository(store)))
    Agent(model=EchoModel(), agent_id="a", session_manager=manager, callback_handler=None)
    with pytest.raises(SessionException):
        Agent(model=EchoModel(), agent_id="a", session_manager=manager, callback_handler=None)


def test_redaction_reaches_the_stored_message() -> None:
    store = InMemoryStore()
    manager = RepositorySessionManager(session_id="s", session_repository=(
        StrandsSessionRepository(store)))
    assistant = Agent(model=EchoModel(), agent_id="a", session_manager=manager,
                      callback_handler=None)
    assistant("my password is hunter2")
    manager.redact_latest_message({"role": "assistant", "content": [{"text": "[gone]"}]},
                                  assistant)
    stored = StrandsSessionRepository(store).list_messages("s", "a")
    assert stored[-1].to_message()["content"] == [{"text": "[gone]"}]


def _credentials(endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 (Strands' own S3 manager) signs with the environment's credentials."""
    for name, value in endpoint_env(endpoint).items():
        monkeypatch.setenv(name, value)


# -- two writers -------------------------------------------------------------------------------

def _two_writers_one_turn_each(make_manager: Any) -> list[str]:
    """Two agents of one session, both started before either speaks, each takes a turn:
    both number their messages 0 and 1. Returns what a third process restores."""
    first, second = make_manager(), make_manager()
    one = Agent(model=EchoModel(), agent_id=AGENT_ID, session_manager=first,
                callback_handler=None)
    two = Agent(model=EchoModel(), agent_id=AGENT_ID, session_manager=second,
                callback_handler=None)
    one("from writer one")
    two("from writer two")
    restored = Agent(model=EchoModel(), agent_id=AGENT_ID, session_manager=make_manager(),
                     callback_handler=None)
    return texts(restored.messages)


def test_two_writers_lose_nothing(backing: Store) -> None:
    restored = _two_writers_one_turn_each(lambda: RepositorySessionManager(
        session_id="shared", session_repository=StrandsSessionRepository(backing)))
    assert restored == ["from writer one", "1 user message(s), last: from writer one",
                        "from writer two", "1 user message(s), last: from writer two"]


@pytest.mark.s3
def test_strands_own_s3_manager_loses_a_turn_with_two_writers(
        moto_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline the docs compare with: same scenario, Strands' S3SessionManager."""
    _credentials(moto_endpoint, monkeypatch)
    prefix = f"strands-own-{uuid.uuid4().hex}"
    restored = _two_writers_one_turn_each(lambda: S3SessionManager(
        session_id="shared", bucket=BUCKET, prefix=prefix, region_name="us-east-1",
        endpoint_url=moto_endpoint.url))
    assert restored == ["from writer two", "1 user message(s), last: from writer two"]


def test_concurrent_creates_from_threads_lose_nothing(backing: Store) -> None:
    repo = StrandsSessionRepository(backing)
    _with_agent(repo)
    writers = [StrandsSessionRepository(backing) for _ in range(6)]
    threads = [threading.Thread(target=w.create_message,
                                args=(SESSION.session_id, "test-agent-456", _message(f"w{n}", 0)))
               for n, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = repo.list_messages(SESSION.session_id, "test-agent-456")
    assert sorted(m.message["content"][0]["text"] for m in stored) == [f"w{n}" for n in range(6)]
    assert [m.message_id for m in stored] == list(range(6))


def test_a_create_whose_answer_was_lost_is_not_stored_twice() -> None:
    store = LostAnswerStore(InMemoryStore(), losses=0)
    repo = StrandsSessionRepository(store)
    _with_agent(repo)
    store.losses = 2
    first, second = _message("one", 0), _message("two", 1)
    repo.create_message(SESSION.session_id, "test-agent-456", first)
    repo.create_message(SESSION.session_id, "test-agent-456", second)
    stored = repo.list_messages(SESSION.session_id, "test-agent-456")
    assert [m.message["content"][0]["text"] for m in stored] == ["one", "two"]


def test_one_message_object_created_under_two_numbers_is_two_messages() -> None:
    repo = StrandsSessionRepository(InMemoryStore())
    _with_agent(repo)
    message = _message("Hello", 0)
    repo.create_message(SESSION.session_id, "test-agent-456", message)
    message.message_id = 1
    repo.create_message(SESSION.session_id, "test-agent-456", message)
    assert [m.message_id for m in repo.list_messages(SESSION.session_id, "test-agent-456")] == [
        0, 1]


def test_a_renumbered_create_whose_answer_was_lost_is_not_stored_twice() -> None:
    store = LostAnswerStore(InMemoryStore(), losses=0)
    repo = StrandsSessionRepository(store)
    _with_agent(repo)
    repo.create_message(SESSION.session_id, "test-agent-456", _message("theirs", 0))
    store.losses = 1
    mine = _message("mine", 0)
    repo.create_message(SESSION.session_id, "test-agent-456", mine)
    assert mine.message_id == 1
    stored = repo.list_messages(SESSION.session_id, "test-agent-456")
    assert [m.message["content"][0]["text"] for m in stored] == ["theirs", "mine"]


def test_the_manager_resumes_after_messages_its_conversation_manager_removed() -> None:
    from strands.agent.conversation_manager.summarizing_conversation_manager import (
        SummarizingConversationManager,
    )

    repo = StrandsSessionRepository(InMemoryStore())
    summarizer = SummarizingConversationManager()
    summarizer.removed_message_count = 1
    summarizer._summary_message = {"role": "assistant", "content": [{"text": "summary"}]}
    repo.create_session(Session(session_id="s", session_type=SessionType.AGENT))
    repo.create_agent("s", SessionAgent(agent_id="a", state={"key": "value"},
                                        conversation_manager_state=summarizer.get_state()))
    for index in range(2):
        repo.create_message("s", "a", _message(f"m{index}", index))
    restored = Agent(model=EchoModel(), agent_id="a",
                     conversation_manager=SummarizingConversationManager(),
                     session_manager=RepositorySessionManager(session_id="s",
                                                              session_repository=repo),
                     callback_handler=None)
    assert texts(restored.messages) == ["summary", "m1"]
    assert restored.state.get("key") == "value"


def test_a_renumbered_message_is_renumbered_for_its_writer_too() -> None:
    repo = StrandsSessionRepository(InMemoryStore())
    _with_agent(repo)
    repo.create_message(SESSION.session_id, "test-agent-456", _message("theirs", 0))
    mine = _message("mine", 0)
    repo.create_message(SESSION.session_id, "test-agent-456", mine)
    assert mine.message_id == 1
    mine.redact_message = {"role": "user", "content": [{"text": "[redacted]"}]}
    repo.update_message(SESSION.session_id, "test-agent-456", mine)
    stored = repo.list_messages(SESSION.session_id, "test-agent-456")
    assert [m.to_message()["content"][0]["text"] for m in stored] == ["theirs", "[redacted]"]


# -- a new process resumes the agent -------------------------------------------------------------

@pytest.mark.slow
def test_an_agent_resumes_in_a_new_process_over_files(tmp_path: Path) -> None:
    root = str(tmp_path / "store")
    agent(FileStore(root), "chat-1")("hello")
    later = run_script("strands_app.py", "file", root, "chat-1", "how are you?")
    assert later["output"] == "2 user message(s), last: how are you?"
    assert later["messages"][:2] == ["hello", "1 user message(s), last: hello"]


@pytest.mark.s3
@pytest.mark.slow
def test_an_agent_resumes_in_a_new_process_over_s3(moto_endpoint: Endpoint) -> None:
    prefix = f"strands-{uuid.uuid4().hex}"
    store = _s3(moto_endpoint, prefix)
    agent(store, "chat-1")("hello")
    run_sync(store.close())
    later = run_script("strands_app.py", "s3", moto_endpoint.url, BUCKET, prefix, "chat-1",
                       "how are you?", env=endpoint_env(moto_endpoint))
    assert later["output"] == "2 user message(s), last: how are you?"
    assert len(later["messages"]) == 4


# -- requests on the wire ------------------------------------------------------------------------

TURNS = 10


@pytest.mark.s3
def test_requests_per_resume_ours_and_strands_s3_manager(
        moto_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> None:
    _credentials(moto_endpoint, monkeypatch)
    ours, theirs = WireCounter(), WireCounter()
    store = _s3(moto_endpoint)
    run_sync(_register(store, ours))
    writer = agent(store, "chat")
    for turn in range(TURNS):
        writer(f"q{turn}")
    ours.reset()
    resumed = agent(store, "chat")  # what a new process does before its first turn
    assert len(resumed.messages) == 2 * TURNS
    assert dict(ours.calls) == {"GetObject": 3}  # session, agent, every message at once
    ours.reset()
    resumed("one more turn")  # two messages and the agent's state: three conditional PUTs
    assert dict(ours.calls) == {"PutObject": 3}
    assert ours.conditional_puts == 3
    run_sync(store.close())

    prefix = f"strands-own-{uuid.uuid4().hex}"

    def own() -> S3SessionManager:
        session = boto3.Session()  # counted from its first request (the constructor's read)
        session.events.register("before-send.s3", theirs)
        return S3SessionManager(session_id="chat", bucket=BUCKET, prefix=prefix,
                                boto_session=session, region_name="us-east-1",
                                endpoint_url=moto_endpoint.url)

    their_writer = Agent(model=EchoModel(), agent_id=AGENT_ID, session_manager=own(),
                         callback_handler=None)
    for turn in range(TURNS):
        their_writer(f"q{turn}")
    theirs.reset()
    their_resumed = Agent(model=EchoModel(), agent_id=AGENT_ID, session_manager=own(),
                          callback_handler=None)
    messages = 2 * TURNS
    assert theirs.calls["GetObject"] == messages + 2  # session, agent, one per message
    assert theirs.calls["ListObjectsV2"] == 1
    theirs.reset()
    their_resumed("one more turn")  # three unconditional PUTs and a read of the agent
    assert dict(theirs.calls) == {"PutObject": 3, "GetObject": 1}


async def _register(store: S3Store, wire: WireCounter) -> None:
    (await store.client()).meta.events.register("before-send.s3", wire)
