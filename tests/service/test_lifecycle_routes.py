"""The lifecycle routes (leases, forks, pruning checkpoints) through the handler,
against S3 over HTTP."""

from __future__ import annotations

import pytest

from tests.service.conftest import Api

pytestmark = pytest.mark.s3


def with_history(api: Api, messages: int = 3, checkpoints: int = 3) -> tuple[str, list[str]]:
    session_id = api.new_session()
    for number in range(messages):
        api.post(f"/sessions/{session_id}/messages", body={"role": "human",
                                                           "content": f"m{number}"})
    api.put(f"/sessions/{session_id}/summary", body={"summary": "s"})
    ids = []
    for step in range(checkpoints):
        reply = api.post(f"/sessions/{session_id}/checkpoints", body={"state": {"n": step}})
        ids.append(reply.body["id"])
    return session_id, ids


# -- leases -----------------------------------------------------------------------------------


def test_a_lease_is_taken_held_renewed_and_released(any_api: Api) -> None:
    api = any_api
    session_id = api.new_session()
    taken = api.post(f"/sessions/{session_id}/lease", body={"ttl_seconds": 60, "owner": "w1"})
    assert taken.status == 201, taken.body
    assert set(taken.body) == {"token", "owner", "expires_at", "generation"}
    assert taken.body["owner"] == "w1"
    held = api.post(f"/sessions/{session_id}/lease", body={"ttl_seconds": 60, "owner": "w2"})
    assert (held.status, held.code) == (409, "lease_held")
    assert "w1" in held.body["error"]["message"]
    token = taken.body["token"]
    renewed = api.put(f"/sessions/{session_id}/lease/{token}", body={"ttl_seconds": 120})
    assert renewed.status == 200
    assert renewed.body["expires_at"] > taken.body["expires_at"]
    released = api.delete(f"/sessions/{session_id}/lease/{token}")
    assert released.status == 204
    again = api.delete(f"/sessions/{session_id}/lease/{token}")
    assert (again.status, again.code) == (409, "lease_lost")
    assert api.post(f"/sessions/{session_id}/lease", body={"ttl_seconds": 60}).status == 201


def test_a_repeated_lease_request_gets_the_same_lease(api: Api) -> None:
    session_id = api.new_session()
    headers = {"Idempotency-Key": "lease-1"}
    first = api.post(f"/sessions/{session_id}/lease", body={"ttl_seconds": 60},
                     headers=headers)
    again = api.post(f"/sessions/{session_id}/lease", body={"ttl_seconds": 60},
                     headers=headers)
    assert first.status == again.status == 201
    assert first.body["token"] == again.body["token"]


def test_renewing_with_a_token_that_does_not_hold_it_is_lease_lost(api: Api) -> None:
    session_id = api.new_session()
    api.post(f"/sessions/{session_id}/lease", body={"ttl_seconds": 60})
    reply = api.put(f"/sessions/{session_id}/lease/not-mine")
    assert (reply.status, reply.code) == (409, "lease_lost")


@pytest.mark.parametrize("body", [{}, {"ttl_seconds": 0}, {"ttl_seconds": 604801},
                                  {"ttl_seconds": "60"}, {"ttl_seconds": 60, "extra": 1}])
def test_a_bad_lease_body_is_refused(api: Api, body: dict[str, object]) -> None:
    session_id = api.new_session()
    assert api.post(f"/sessions/{session_id}/lease", body=body).status == 422


def test_the_longest_ttl_is_accepted(api: Api) -> None:
    session_id = api.new_session()
    assert api.post(f"/sessions/{session_id}/lease",
                    body={"ttl_seconds": 604800}).status == 201


def test_a_lease_on_a_missing_session_is_404_and_writes_nothing(api: Api) -> None:
    reply = api.post("/sessions/missing/lease", body={"ttl_seconds": 60})
    assert (reply.status, reply.code) == (404, "session_not_found")
    assert api.object_keys() == []


# -- forks ------------------------------------------------------------------------------------


def test_a_fork_is_a_new_session_with_the_copies(any_api: Api) -> None:
    api = any_api
    source, ids = with_history(api)
    reply = api.post(f"/sessions/{source}/fork", body={"messages": 2, "checkpoint_id": ids[1]})
    assert reply.status == 201, reply.body
    fork = reply.body["id"]
    assert reply.headers["location"] == f"/sessions/{fork}"
    assert [m["content"] for m in api.get(f"/sessions/{fork}/messages").body["messages"]] \
        == ["m0", "m1"]
    assert [c["id"] for c in api.get(f"/sessions/{fork}/checkpoints").body["checkpoints"]] \
        == ids[:2]
    assert api.get(f"/sessions/{fork}/summary").body["summary"] == "s"
    assert len(api.get(f"/sessions/{source}/messages").body["messages"]) == 3


def test_a_fork_without_a_body_copies_everything(api: Api) -> None:
    source, ids = with_history(api)
    fork = api.post(f"/sessions/{source}/fork").body["id"]
    assert [c["id"] for c in api.get(f"/sessions/{fork}/checkpoints").body["checkpoints"]] \
        == ids


def test_a_repeated_fork_request_is_one_fork(api: Api) -> None:
    source, _ = with_history(api)
    headers = {"Idempotency-Key": "fork-1"}
    first = api.post(f"/sessions/{source}/fork", headers=headers)
    again = api.post(f"/sessions/{source}/fork", headers=headers)
    assert first.body == again.body
    assert len(api.get("/sessions").body["sessions"]) == 2


def test_forking_a_missing_session_or_checkpoint_is_404(api: Api) -> None:
    source, _ = with_history(api)
    missing = api.post("/sessions/missing/fork")
    assert (missing.status, missing.code) == (404, "session_not_found")
    no_checkpoint = api.post(f"/sessions/{source}/fork", body={"checkpoint_id": "nope"})
    assert (no_checkpoint.status, no_checkpoint.code) == (404, "checkpoint_not_found")
    assert len(api.get("/sessions").body["sessions"]) == 1


# -- pruning checkpoints ----------------------------------------------------------------------


@pytest.mark.parametrize("keep_last", [0, 1, 3, 4])
def test_prune_keeps_the_newest_checkpoints(api: Api, keep_last: int) -> None:
    session_id, ids = with_history(api, messages=0)
    reply = api.delete(f"/sessions/{session_id}/checkpoints",
                       query={"keep_last": str(keep_last)})
    assert reply.status == 204, reply.body
    listed = [c["id"] for c in api.get(f"/sessions/{session_id}/checkpoints").body[
        "checkpoints"]]
    assert listed == ids[len(ids) - min(keep_last, len(ids)):]


@pytest.mark.parametrize("query", [{}, {"keep_last": "-1"}, {"keep_last": "x"}])
def test_prune_needs_a_valid_keep_last(api: Api, query: dict[str, str]) -> None:
    session_id, _ = with_history(api, messages=0)
    assert api.delete(f"/sessions/{session_id}/checkpoints", query=query).status == 422


def test_prune_of_a_missing_session_is_404(api: Api) -> None:
    reply = api.delete("/sessions/missing/checkpoints", query={"keep_last": "1"})
    assert (reply.status, reply.code) == (404, "session_not_found")


# -- Lambda double invocation: the same event twice -------------------------------------------


@pytest.mark.parametrize(("suffix", "body"), [("fork", None), ("lease", {"ttl_seconds": 60})])
def test_the_same_event_twice_acts_once(api: Api, suffix: str, body: object) -> None:
    import json

    from tests.service.events import Context, make_event

    source, _ = with_history(api, messages=1, checkpoints=1)
    event = make_event("POST", f"/sessions/{source}/{suffix}", body=body)
    first = api.app.handle(event, Context())
    second = api.app.handle(event, Context())
    assert first["statusCode"] == second["statusCode"] == 201
    assert json.loads(first["body"]) == json.loads(second["body"])
    sessions = api.get("/sessions").body["sessions"]
    assert len(sessions) == (2 if suffix == "fork" else 1)


def test_a_replayed_fork_after_the_fork_was_deleted_does_not_bring_it_back(api: Api) -> None:
    source, _ = with_history(api, messages=1, checkpoints=1)
    headers = {"Idempotency-Key": "fork-gone"}
    first = api.post(f"/sessions/{source}/fork", headers=headers)
    assert api.delete(f"/sessions/{first.body['id']}").status == 204
    again = api.post(f"/sessions/{source}/fork", headers=headers)
    assert (again.status, again.body) == (201, first.body)
    assert api.get(f"/sessions/{first.body['id']}").code == "session_not_found"
