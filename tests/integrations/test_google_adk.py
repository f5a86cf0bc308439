"""AdkSessionService: what ADK's own session-service tests check (google/adk-python
tests/unittests/sessions: create/get/list/delete, app/user/session/temp state,
GetSessionConfig, partial events, event round trips, last_update_time, user state),
on memory, files and S3 over HTTP; then an ADK Runner with a fake model resumed by
a NEW process, concurrent writers, retention and request counts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

pytest.importorskip("google.adk")

from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.session import Session
from google.genai import types

from synaptic_s3 import InMemoryStore, S3Store, SessionManager, Store
from synaptic_s3.integrations.google_adk import AdkSessionService, synaptic_session_id
from synaptic_s3.testing import Endpoint

from .adk_app import APP, turn
from .conftest import BUCKET, endpoint_env, run_script
from .stores import CountingStore, LostAnswerStore


@pytest.fixture
def service(backend_store: Store) -> AdkSessionService:
    return AdkSessionService(SessionManager(backend_store))


def delta(**state: object) -> EventActions:
    return EventActions(state_delta=dict(state))


async def test_a_missing_session_is_none(service: AdkSessionService) -> None:
    assert await service.get_session(app_name="my_app", user_id="u", session_id="123") is None


async def test_create_get_delete(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u",
                                           state={"key": "value"})
    assert (session.app_name, session.user_id, session.state) == ("my_app", "u",
                                                                  {"key": "value"})
    assert session.id
    assert session.last_update_time <= datetime.now(UTC).timestamp()
    got = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got == session
    await service.delete_session(app_name="my_app", user_id="u", session_id=session.id)
    assert await service.get_session(app_name="my_app", user_id="u",
                                     session_id=session.id) is None
    await service.delete_session(app_name="my_app", user_id="u", session_id=session.id)


async def test_create_and_list_sessions(service: AdkSessionService) -> None:
    ids = [f"session{n}" for n in range(5)]
    for sid in ids:
        await service.create_session(app_name="my_app", user_id="u", session_id=sid,
                                     state={"key": "value" + sid})
    sessions = (await service.list_sessions(app_name="my_app", user_id="u")).sessions
    assert {s.id for s in sessions} == set(ids)
    assert all(s.state == {"key": "value" + s.id} and s.events == [] for s in sessions)


async def test_list_sessions_of_all_users(service: AdkSessionService) -> None:
    for user, sid in (("user1", "s1a"), ("user1", "s1b"), ("user2", "s2a")):
        await service.create_session(app_name="my_app", user_id=user, session_id=sid,
                                     state={"key": sid})
    mine = (await service.list_sessions(app_name="my_app", user_id="user2")).sessions
    assert [(s.user_id, s.id, s.state) for s in mine] == [("user2", "s2a", {"key": "s2a"})]
    everyone = (await service.list_sessions(app_name="my_app")).sessions
    assert {(s.user_id, s.id) for s in everyone} == {("user1", "s1a"), ("user1", "s1b"),
                                                     ("user2", "s2a")}
    assert (await service.list_sessions(app_name="other_app")).sessions == []
    assert (await service.list_sessions(app_name="my_app", user_id="nobody")).sessions == []


async def test_list_sessions_is_ordered_by_last_update_time(service: AdkSessionService) -> None:
    for sid in ("a", "b", "c"):
        await service.create_session(app_name="my_app", user_id="u", session_id=sid)
    first = await service.get_session(app_name="my_app", user_id="u", session_id="a")
    assert first is not None
    await service.append_event(first, Event(author="user", timestamp=first.last_update_time
                                            + 100))
    listed = (await service.list_sessions(app_name="my_app", user_id="u")).sessions
    assert [s.id for s in listed] == ["b", "c", "a"]


async def test_app_state_is_shared_by_all_users_of_the_app(service: AdkSessionService) -> None:
    s1 = await service.create_session(app_name="my_app", user_id="u1", session_id="s1",
                                      state={"app:k1": "v1"})
    await service.append_event(s1, Event(invocation_id="inv1", author="user",
                                         actions=delta(**{"app:k2": "v2"})))
    s2 = await service.create_session(app_name="my_app", user_id="u2", session_id="s2")
    assert s2.state == {"app:k1": "v1", "app:k2": "v2"}
    again = await service.get_session(app_name="my_app", user_id="u1", session_id="s1")
    assert again is not None
    assert again.state == {"app:k1": "v1", "app:k2": "v2"}
    other = await service.create_session(app_name="other_app", user_id="u1")
    assert other.state == {}


async def test_user_state_is_shared_only_by_the_users_sessions(
    service: AdkSessionService,
) -> None:
    s1 = await service.create_session(app_name="my_app", user_id="u1", session_id="s1",
                                      state={"user:k1": "v1"})
    await service.append_event(s1, Event(invocation_id="inv1", author="user",
                                         actions=delta(**{"user:k2": "v2"})))
    s1b = await service.create_session(app_name="my_app", user_id="u1", session_id="s1b")
    assert s1b.state == {"user:k1": "v1", "user:k2": "v2"}
    s2 = await service.create_session(app_name="my_app", user_id="u2", session_id="s2")
    assert s2.state == {}


async def test_session_state_is_not_shared(service: AdkSessionService) -> None:
    s1 = await service.create_session(app_name="my_app", user_id="u1", session_id="s1",
                                      state={"sk1": "v1"})
    await service.append_event(s1, Event(invocation_id="inv1", author="user",
                                         actions=delta(sk2="v2")))
    got = await service.get_session(app_name="my_app", user_id="u1", session_id="s1")
    assert got is not None
    assert got.state == {"sk1": "v1", "sk2": "v2"}
    s1b = await service.create_session(app_name="my_app", user_id="u1", session_id="s1b")
    assert s1b.state == {}


async def test_temp_state_is_visible_in_the_invocation_and_never_stored(
    service: AdkSessionService,
) -> None:
    session = await service.create_session(app_name="my_app", user_id="u1",
                                           session_id="s1", state={"temp:init": 1})
    assert session.state == {}
    event = Event(invocation_id="inv1", author="agent1",
                  actions=delta(**{"temp:k1": "v1", "sk": "v2"}))
    await service.append_event(session, event)
    assert session.state["temp:k1"] == "v1"  # the next agent of this invocation reads it
    assert "temp:k1" not in event.actions.state_delta
    got = await service.get_session(app_name="my_app", user_id="u1", session_id="s1")
    assert got is not None
    assert got.state == {"sk": "v2"}
    assert got.events[0].actions.state_delta == {"sk": "v2"}


async def test_get_session_respects_the_user(service: AdkSessionService) -> None:
    s1 = await service.create_session(app_name="my_app", user_id="u1", session_id="s1")
    await service.append_event(s1, Event(invocation_id="inv1", author="user"))
    await service.create_session(app_name="my_app", user_id="u2", session_id="s1")
    got = await service.get_session(app_name="my_app", user_id="u2", session_id="s1")
    assert got is not None
    assert (got.user_id, got.events) == ("u2", [])


async def test_an_existing_id_is_refused(service: AdkSessionService) -> None:
    await service.create_session(app_name="my_app", user_id="u", session_id="existing")
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name="my_app", user_id="u", session_id="existing")


async def test_padded_session_ids_read_and_delete(service: AdkSessionService) -> None:
    created = await service.create_session(app_name="my_app", user_id="u",
                                           session_id="  padded  ")
    assert created.id == "padded"
    got = await service.get_session(app_name="my_app", user_id="u", session_id=" padded ")
    assert got is not None
    await service.delete_session(app_name="my_app", user_id="u", session_id="padded ")
    assert await service.get_session(app_name="my_app", user_id="u",
                                     session_id="padded") is None


async def test_events_with_bytes_round_trip(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u")
    content = types.Content(role="user", parts=[
        types.Part.from_bytes(data=b"test_image_data", mime_type="image/png")])
    grounding = types.GroundingMetadata(
        search_entry_point=types.SearchEntryPoint(sdk_blob=b"test_sdk_blob"))
    await service.append_event(session, Event(invocation_id="i", author="user",
                                              content=content, grounding_metadata=grounding))
    got = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got is not None
    assert got.events[0].content == content
    assert got.events[0].grounding_metadata == grounding


async def test_a_complete_event_round_trips(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u")
    event = Event(
        invocation_id="invocation", author="user",
        content=types.Content(role="user", parts=[types.Part(text="test_text")]),
        turn_complete=True, partial=False,
        actions=EventActions(artifact_delta={"file": 0}, transfer_to_agent="agent",
                             escalate=True),
        long_running_tool_ids={"tool1"}, error_code="error_code",
        error_message="error_message", interrupted=True,
        grounding_metadata=types.GroundingMetadata(web_search_queries=["query1"]),
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=1, candidates_token_count=1, total_token_count=2),
        citation_metadata=types.CitationMetadata(),
        custom_metadata={"custom_key": "custom_value"}, timestamp=1700000000.123,
        input_transcription=types.Transcription(text="in", finished=True),
        output_transcription=types.Transcription(text="out", finished=True),
    )
    await service.append_event(session, event)
    assert await service.get_session(app_name="my_app", user_id="u",
                                     session_id=session.id) == session


async def test_last_update_time_follows_the_event(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u")
    stamp = session.last_update_time + 10
    await service.append_event(session, Event(invocation_id="i", author="user",
                                              timestamp=stamp))
    assert session.last_update_time == pytest.approx(stamp, abs=1e-6)
    got = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got is not None
    assert got.last_update_time == pytest.approx(stamp, abs=1e-6)


async def test_get_session_config(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u")
    for n in range(1, 6):
        await service.append_event(session, Event(author="user", timestamp=n))

    async def stamps(config: GetSessionConfig | None) -> list[float]:
        got = await service.get_session(app_name="my_app", user_id="u",
                                        session_id=session.id, config=config)
        assert got is not None
        return [event.timestamp for event in got.events]

    assert await stamps(None) == [1, 2, 3, 4, 5]
    assert await stamps(GetSessionConfig(num_recent_events=0)) == []
    assert await stamps(GetSessionConfig(num_recent_events=3)) == [3, 4, 5]
    assert await stamps(GetSessionConfig(num_recent_events=5)) == [1, 2, 3, 4, 5]
    assert await stamps(GetSessionConfig(num_recent_events=6)) == [1, 2, 3, 4, 5]
    assert await stamps(GetSessionConfig(after_timestamp=4.0)) == [4, 5]
    assert await stamps(GetSessionConfig(after_timestamp=50)) == []
    assert await stamps(GetSessionConfig(after_timestamp=4.0, num_recent_events=3)) == [4, 5]


async def test_partial_events_are_not_stored(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u")
    await service.append_event(session, Event(author="user", partial=True))
    assert session.events == []
    got = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got is not None
    assert got.events == []


async def test_appending_to_a_missing_session_raises(service: AdkSessionService) -> None:
    ghost = Session(id="ghost", app_name="my_app", user_id="u", last_update_time=0)
    with pytest.raises(SessionNotFoundError):
        await service.append_event(ghost, Event(author="user"))


async def test_an_event_delivered_twice_is_stored_once(service: AdkSessionService) -> None:
    session = await service.create_session(app_name="my_app", user_id="u")
    event = Event(invocation_id="i", author="user", actions=delta(n=1))
    await service.append_event(session, event)
    stale = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert stale is not None
    await service.append_event(stale, event.model_copy(deep=True))
    got = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got is not None
    assert len(got.events) == 1


async def test_user_state(service: AdkSessionService) -> None:
    assert await service.get_user_state(app_name="my_app", user_id="u1") == {}
    session = await service.create_session(app_name="my_app", user_id="u1")
    await service.append_event(session, Event(author="system", actions=delta(
        **{"user:profile": {"name": "Alice"}, "session_key": 1, "user:counter": 1})))
    await service.append_event(session, Event(author="system", actions=delta(
        **{"user:counter": 2})))
    assert await service.get_user_state(app_name="my_app", user_id="u1") == {
        "profile": {"name": "Alice"}, "counter": 2}
    assert await service.get_user_state(app_name="my_app", user_id="u2") == {}
    assert await service.get_user_state(app_name="other_app", user_id="u1") == {}


# -- what synaptic-s3 adds ----------------------------------------------------------------


async def test_two_writers_lose_no_event(backend_store: Store) -> None:
    writers = [AdkSessionService(SessionManager(backend_store)) for _ in range(2)]
    session = await writers[0].create_session(app_name="my_app", user_id="u")
    copies = [session.model_copy(deep=True) for _ in range(8)]
    await asyncio.gather(*(
        writers[n % 2].append_event(copy, Event(invocation_id=f"inv{n}", author="user",
                                                actions=delta(**{f"k{n}": n,
                                                                 f"user:u{n}": n})))
        for n, copy in enumerate(copies)))
    got = await writers[1].get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got is not None
    assert sorted(e.invocation_id for e in got.events) == [f"inv{n}" for n in range(8)]
    assert got.state == {**{f"k{n}": n for n in range(8)},
                         **{f"user:u{n}": n for n in range(8)}}


async def test_an_append_whose_answer_was_lost_is_stored_once() -> None:
    store = LostAnswerStore(InMemoryStore(), losses=0)
    service = AdkSessionService(SessionManager(store))
    session = await service.create_session(app_name="my_app", user_id="u")
    store.losses = 1
    await service.append_event(session, Event(invocation_id="i", author="user"))
    got = await service.get_session(app_name="my_app", user_id="u", session_id=session.id)
    assert got is not None
    assert len(got.events) == 1


async def test_a_create_whose_answer_was_lost_succeeds() -> None:
    store = LostAnswerStore(InMemoryStore(), losses=2)  # the registration, the session
    service = AdkSessionService(SessionManager(store))
    created = await service.create_session(app_name="my_app", user_id="u", session_id="s")
    assert store.losses == 0
    assert created.id == "s"
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name="my_app", user_id="u", session_id="s")


async def test_deleting_a_session_keeps_app_and_user_state(backend_store: Store) -> None:
    service = AdkSessionService(SessionManager(backend_store))
    session = await service.create_session(app_name="my_app", user_id="u", session_id="s",
                                           state={"app:a": 1, "user:b": 2, "c": 3})
    await service.delete_session(app_name="my_app", user_id="u", session_id="s")
    assert await backend_store.list_namespaces(
        ("memory", synaptic_session_id("my_app", "u", session.id))) == []
    assert await SessionManager(backend_store).get_session(
        synaptic_session_id("my_app", "u", "s")) is None
    assert (await service.list_sessions(app_name="my_app")).sessions == []
    again = await service.create_session(app_name="my_app", user_id="u", session_id="s")
    assert again.state == {"app:a": 1, "user:b": 2}


async def test_the_session_managers_delete_removes_the_adk_session(
    backend_store: Store,
) -> None:
    manager = SessionManager(backend_store)
    service = AdkSessionService(manager)
    await service.create_session(app_name="my_app", user_id="u", session_id="s")
    await manager.delete_session(synaptic_session_id("my_app", "u", "s"))
    assert await service.get_session(app_name="my_app", user_id="u", session_id="s") is None
    assert (await service.list_sessions(app_name="my_app", user_id="u")).sessions == []


async def test_delete_user_and_delete_app_leave_nothing(backend_store: Store) -> None:
    service = AdkSessionService(SessionManager(backend_store))
    for user in ("u1", "u/2"):
        await service.create_session(app_name="my app", user_id=user,
                                     state={"app:a": 1, "user:b": 2})
    await service.delete_user(app_name="my app", user_id="u1")
    assert [s.user_id for s in (await service.list_sessions(app_name="my app")).sessions
            ] == ["u/2"]
    assert await service.get_user_state(app_name="my app", user_id="u1") == {}
    await service.delete_app(app_name="my app")
    assert await backend_store.list_namespaces(()) == []


async def test_names_too_long_for_a_key_still_list(service: AdkSessionService) -> None:
    user, sid = "user:" * 80, "session/" * 60
    await service.create_session(app_name="my_app", user_id=user, session_id=sid,
                                 state={"user:k": 1})
    listed = (await service.list_sessions(app_name="my_app")).sessions
    assert [(s.user_id, s.id, s.state) for s in listed] == [(user, sid, {"user:k": 1})]
    await service.delete_user(app_name="my_app", user_id=user)
    assert (await service.list_sessions(app_name="my_app")).sessions == []


async def test_a_resume_is_three_concurrent_reads() -> None:
    counting = CountingStore(InMemoryStore())
    service = AdkSessionService(SessionManager(counting))
    session = await service.create_session(app_name=APP, user_id="u")
    await turn(service, "u", session.id, "hello")
    counting.reset()
    assert await service.get_session(app_name=APP, user_id="u", session_id=session.id)
    assert counting.calls == {"get": 3}  # the session object, app state, user state


async def test_a_runner_keeps_its_session_here(backend_store: Store) -> None:
    service = AdkSessionService(SessionManager(backend_store))
    session = await service.create_session(app_name=APP, user_id="u")
    assert await turn(service, "u", session.id, "hello") == "1 user message(s), last: hello"
    assert await turn(service, "u", session.id, "again") == "2 user message(s), last: again"
    got = await service.get_session(app_name=APP, user_id="u", session_id=session.id)
    assert got is not None
    assert [e.author for e in got.events] == ["user", "echo", "user", "echo"]


@pytest.mark.slow
async def test_a_runner_session_continues_in_a_new_process(
    s3_store: S3Store, s3_endpoint: Endpoint, s3_prefix: str
) -> None:
    service = AdkSessionService(SessionManager(s3_store))
    session = await service.create_session(app_name=APP, user_id="u")
    assert await turn(service, "u", session.id, "hello") == "1 user message(s), last: hello"
    later = run_script("adk_app.py", s3_endpoint.url, BUCKET, s3_prefix, "u", session.id,
                       "how are you?", env=endpoint_env(s3_endpoint))
    assert later == {"output": "2 user message(s), last: how are you?", "events": 4}
    got = await service.get_session(app_name=APP, user_id="u", session_id=session.id)
    assert got is not None
    assert len(got.events) == 4
