"""The service defects of issue 11, each pinned by a test that failed before its fix."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest

from synaptic_s3.core.errors import StorageError, StorageUnavailableError
from synaptic_s3.memory import ChatMessageHistory
from synaptic_s3.session import SessionManager
from tests.service.conftest import Api

pytestmark = pytest.mark.s3

KEY = {"Idempotency-Key": "hardening-1"}


# -- Idempotency-Key ------------------------------------------------------------------------


def test_the_key_is_checked_when_every_message_has_an_id(api: Api) -> None:
    sid = api.new_session()
    first = api.post(f"/sessions/{sid}/messages", headers=KEY,
                     body={"role": "human", "content": "one", "id": "m1"})
    assert first.status == 201
    reused = api.post(f"/sessions/{sid}/messages", headers=KEY,
                      body={"role": "human", "content": "two", "id": "m2"})
    assert (reused.status, reused.code) == (422, "idempotency_key_reused")
    listed = api.get(f"/sessions/{sid}/messages").body["messages"]
    assert [m["id"] for m in listed] == ["m1"]


def test_the_same_request_reserialised_is_the_same_request(api: Api) -> None:
    sid = api.new_session()
    compact = '{"messages":[{"role":"human","content":"q"},{"content":"a","role":"assistant"}]}'
    spaced = json.dumps({"messages": [{"content": "q", "role": "human"},
                                      {"role": "assistant", "content": "a"}]}, indent=4)
    headers = {**KEY, "content-type": "application/json"}
    first = api.post(f"/sessions/{sid}/messages", raw_body=compact, headers=headers)
    again = api.post(f"/sessions/{sid}/messages", raw_body=spaced, headers=headers)
    assert (first.status, again.status) == (201, 201), again.body
    assert first.body == again.body
    assert len(api.get(f"/sessions/{sid}/messages").body["messages"]) == 2


def test_a_replayed_create_never_brings_a_deleted_session_back(api: Api) -> None:
    first = api.post("/sessions", headers=KEY)
    assert api.delete(f"/sessions/{first.body['id']}").status == 204
    replay = api.post("/sessions", headers=KEY)
    assert (replay.status, replay.body) == (201, first.body)  # answered as the first time
    assert api.get(f"/sessions/{first.body['id']}").code == "session_not_found"
    assert api.get("/sessions").body["sessions"] == []


def test_a_replayed_append_never_brings_cleared_messages_back(api: Api) -> None:
    sid = api.new_session()
    body = {"role": "human", "content": "secret"}
    first = api.post(f"/sessions/{sid}/messages", headers=KEY, body=body)
    assert api.delete(f"/sessions/{sid}/messages").status == 204
    replay = api.post(f"/sessions/{sid}/messages", headers=KEY, body=body)
    assert (replay.status, replay.body) == (201, first.body)
    assert api.get(f"/sessions/{sid}/messages").body["messages"] == []


# -- bodies ---------------------------------------------------------------------------------


def test_a_checkpoint_without_state_is_422(api: Api) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/checkpoints", body={"next_node": "agent"})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert "state" in reply.body["error"]["message"]
    assert api.get(f"/sessions/{sid}/checkpoints").body["checkpoints"] == []


def test_a_checkpoint_with_null_state_is_stored(api: Api) -> None:
    sid = api.new_session()
    assert api.post(f"/sessions/{sid}/checkpoints", body={"state": None}).status == 201


def test_duplicate_ids_in_one_request_are_422_and_write_nothing(api: Api) -> None:
    sid = api.new_session()
    before = sorted(api.object_keys())
    reply = api.post(f"/sessions/{sid}/messages", headers=KEY, body={"messages": [
        {"role": "human", "content": "a", "id": "same"},
        {"role": "human", "content": "b", "id": "same"}]})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert "same" in reply.body["error"]["message"]
    assert sorted(api.object_keys()) == before


def test_an_id_stored_with_other_content_is_409_message_conflict(api: Api) -> None:
    sid = api.new_session()
    api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "a", "id": "x"})
    same = api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "a",
                                                      "id": "x"})
    assert same.status == 201  # the same content again: an idempotent no-op
    other = api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "b",
                                                       "id": "x"})
    assert (other.status, other.code) == (409, "message_conflict")
    assert "x" in other.body["error"]["message"]
    assert [m["content"] for m in api.get(f"/sessions/{sid}/messages").body["messages"]] \
        == ["a"]


# -- every listed id is addressable ---------------------------------------------------------

ODD_IDS = ["price-€", "emoji-😀", "hash#1", "q?x", 'a"b', "nb\u00a0space", "100%", "a+b c"]


def _library_session(api: Api, session_id: str) -> None:
    api.app.runner.run(SessionManager(api.app.store).create_session(session_id=session_id))


@pytest.mark.parametrize("session_id", ODD_IDS)
def test_every_listed_id_is_addressable(api: Api, session_id: str) -> None:
    _library_session(api, session_id)
    assert [s["id"] for s in api.get("/sessions").body["sessions"]] == [session_id]
    # API Gateway hands the handler the percent-decoded path (rawPath)
    assert api.get(f"/sessions/{session_id}").body["id"] == session_id
    appended = api.post(f"/sessions/{session_id}/messages",
                        body={"role": "human", "content": "hi"})
    assert appended.status == 201, appended.body
    assert len(api.get(f"/sessions/{session_id}/messages").body["messages"]) == 1
    checkpoint = api.post(f"/sessions/{session_id}/checkpoints",
                          body={"id": session_id, "state": 1})
    assert checkpoint.status == 201
    assert checkpoint.headers["location"] == \
        f"/sessions/{quote(session_id, safe='')}/checkpoints/{quote(session_id, safe='')}"
    assert api.get(f"/sessions/{session_id}/checkpoints/{session_id}").body["state"] == 1
    assert api.delete(f"/sessions/{session_id}").status == 204
    assert api.object_keys() == []


def test_a_created_session_location_is_percent_encoded(api: Api) -> None:
    created = api.post("/sessions")
    assert created.headers["location"] == f"/sessions/{created.body['id']}"


# -- created_at -----------------------------------------------------------------------------


def test_list_and_get_agree_on_created_at(api: Api) -> None:
    session_id = "01900000-0000-7000-8000-000000000000"
    api.app.runner.run(api.app.store.put(("sessions",), session_id, {
        "id": session_id, "created_at": "2020-01-01T00:00:00.000Z"}))  # e.g. imported
    listed = api.get("/sessions").body["sessions"]
    got = api.get(f"/sessions/{session_id}").body
    assert listed == [got]


# -- storage errors -------------------------------------------------------------------------


class _S3Failure(StorageError):
    def __init__(self) -> None:
        super().__init__("InvalidArgument from s3://secret-bucket", bucket="secret-bucket")
        self.request_id = "S3REQ123"


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    async def fail(self: ChatMessageHistory, session_id: str, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(ChatMessageHistory, "page_json", fail)  # the forward read


def test_a_storage_error_is_500_logged_with_the_s3_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sid = api.new_session()
    _fail_with(monkeypatch, _S3Failure())
    with caplog.at_level(logging.ERROR):
        reply = api.get(f"/sessions/{sid}/messages")
    assert (reply.status, reply.code) == (500, "internal_error")
    assert "retry-after" not in reply.headers
    assert "secret" not in json.dumps(reply.body)
    assert any(getattr(record, "s3_request_id", None) == "S3REQ123"
               for record in caplog.records)


def test_storage_unavailable_is_503_with_retry_after(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = api.new_session()
    _fail_with(monkeypatch, StorageUnavailableError("SlowDown"))
    reply = api.get(f"/sessions/{sid}/messages")
    assert (reply.status, reply.code) == (503, "storage_unavailable")
    assert reply.headers["retry-after"] == "1"


def test_a_minted_checkpoint_id_sorts_after_a_parent_from_a_fast_clock(api: Api) -> None:
    import time

    sid = api.new_session()
    ahead = f"{time.time_ns() + 2 * 3600 * 10**9:016x}-0000"  # a writer 2 hours ahead
    api.post(f"/sessions/{sid}/checkpoints", body={"id": ahead, "state": 1})
    body = {"state": 2, "parent_id": ahead}
    child = api.post(f"/sessions/{sid}/checkpoints", body=body, headers=KEY)
    assert child.body["id"] > ahead
    assert api.get(f"/sessions/{sid}/checkpoints/latest").body["state"] == 2
    again = api.post(f"/sessions/{sid}/checkpoints", body=body, headers=KEY)
    assert again.body["id"] == child.body["id"]  # still derived from the request
