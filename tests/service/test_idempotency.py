"""Client retries with an ``Idempotency-Key``: a retry is a new API Gateway event (new
requestId, new timeEpoch), so the ids a write mints must come from the key and the
moment the key was first seen. Double invocation of one event is in
tests/reliability/test_double_invocation.py."""

from __future__ import annotations

import pytest

from tests.service.conftest import Api

pytestmark = pytest.mark.s3

KEY = {"Idempotency-Key": "retry-me-1"}


def test_a_retried_create_with_the_same_key_returns_the_same_session(api: Api) -> None:
    first = api.post("/sessions", headers=KEY)
    second = api.post("/sessions", headers=KEY)
    assert (first.status, second.status) == (201, 201)
    assert first.body == second.body
    assert [s["id"] for s in api.get("/sessions").body["sessions"]] == [first.body["id"]]


def test_creates_with_different_keys_make_different_sessions(api: Api) -> None:
    one = api.post("/sessions", headers={"Idempotency-Key": "a"})
    two = api.post("/sessions", headers={"Idempotency-Key": "b"})
    assert one.body["id"] != two.body["id"]


def test_the_same_key_of_two_callers_makes_two_sessions(jwt_api: Api) -> None:
    alice = jwt_api.post("/sessions", headers=KEY, claims={"sub": "alice"})
    bob = jwt_api.post("/sessions", headers=KEY, claims={"sub": "bob"})
    assert alice.body["id"] != bob.body["id"]


def test_a_retried_append_without_ids_stores_the_messages_once(api: Api) -> None:
    sid = api.new_session()
    body = {"messages": [{"role": "human", "content": "q"},
                         {"role": "assistant", "content": "a"}]}
    first = api.post(f"/sessions/{sid}/messages", body=body, headers=KEY)
    second = api.post(f"/sessions/{sid}/messages", body=body, headers=KEY)
    assert first.body == second.body
    assert len(api.get(f"/sessions/{sid}/messages").body["messages"]) == 2


def test_a_retried_checkpoint_without_id_is_stored_once(api: Api) -> None:
    sid = api.new_session()
    first = api.post(f"/sessions/{sid}/checkpoints", body={"state": 1}, headers=KEY)
    second = api.post(f"/sessions/{sid}/checkpoints", body={"state": 1}, headers=KEY)
    assert first.body["id"] == second.body["id"]
    assert len(api.get(f"/sessions/{sid}/checkpoints").body["checkpoints"]) == 1


def test_a_key_reused_for_another_request_is_refused(api: Api) -> None:
    sid = api.new_session()
    api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "one"},
             headers=KEY)
    reused = api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "two"},
                      headers=KEY)
    assert (reused.status, reused.code) == (422, "idempotency_key_reused")


@pytest.mark.parametrize("key", ["", "x" * 201, "caf\u00e9", "tab\there"])
def test_an_invalid_key_is_a_400(api: Api, key: str) -> None:
    reply = api.post("/sessions", headers={"Idempotency-Key": key})
    assert (reply.status, reply.code) == (400, "invalid_idempotency_key")


def test_a_key_of_200_printable_characters_is_accepted(api: Api) -> None:
    assert api.post("/sessions", headers={"Idempotency-Key": "~" * 200}).status == 201


def test_an_invalid_key_is_a_400_even_when_no_id_is_minted(api: Api) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/checkpoints", body={"id": "cp-1", "state": 1},
                     headers={"Idempotency-Key": ""})
    assert (reply.status, reply.code) == (400, "invalid_idempotency_key")
