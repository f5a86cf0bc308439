"""ISOLATION_MODE=jwt: each verified subject sees only its own sessions, whatever ids
it sends; a request without a subject is refused before any storage call."""

from __future__ import annotations

import pytest

from synaptic_s3.service.isolation import jwt_subject, subject_prefix, subject_scope
from tests.service.conftest import Api

pytestmark = pytest.mark.s3

ALICE = {"sub": "alice|42", "iss": "https://issuer.example", "aud": "synaptic"}
BOB = {"sub": "bob@example.com", "iss": "https://issuer.example", "aud": "synaptic"}


def test_two_subjects_never_see_each_other(jwt_api: Api) -> None:
    api = jwt_api
    alice_sid = api.new_session(claims=ALICE)
    api.post(f"/sessions/{alice_sid}/messages", claims=ALICE,
             body={"role": "human", "content": "alice's secret"})
    api.post(f"/sessions/{alice_sid}/checkpoints", claims=ALICE, body={"state": {"a": 1}})
    api.put(f"/sessions/{alice_sid}/summary", claims=ALICE, body={"summary": "alice"})
    bob_sid = api.new_session(claims=BOB)

    # listing: each sees exactly its own
    assert [s["id"] for s in api.get("/sessions", claims=ALICE).body["sessions"]] == [alice_sid]
    assert [s["id"] for s in api.get("/sessions", claims=BOB).body["sessions"]] == [bob_sid]

    # bob, using alice's id on every route: 404, and nothing of alice's changes
    base = f"/sessions/{alice_sid}"
    attempts = [
        ("GET", base, None), ("DELETE", base, None),
        ("GET", f"{base}/messages", None), ("DELETE", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"role": "human", "content": "bob was here"}),
        ("GET", f"{base}/summary", None), ("PUT", f"{base}/summary", {"summary": "bob"}),
        ("GET", f"{base}/checkpoints", None), ("GET", f"{base}/checkpoints/latest", None),
        ("POST", f"{base}/checkpoints", {"state": "bob"}),
    ]
    for method, path, body in attempts:
        reply = api.call(method, path, body=body, claims=BOB)
        assert (reply.status, reply.code) == (404, "session_not_found"), (method, path)

    messages = api.get(f"{base}/messages", claims=ALICE).body["messages"]
    assert [m["content"] for m in messages] == ["alice's secret"]
    assert api.get(f"{base}/summary", claims=ALICE).body == {"summary": "alice"}
    assert len(api.get(f"{base}/checkpoints", claims=ALICE).body["checkpoints"]) == 1

    # bob's cursor cannot page into alice's sessions either
    page = api.get("/sessions", claims=BOB, query={"limit": "1"})
    assert page.body["next_cursor"] is None

    # every object lives under its owner's prefix
    keys = api.object_keys()
    alice_prefix = subject_prefix(ALICE["sub"], api.prefix)
    bob_prefix = subject_prefix(BOB["sub"], api.prefix)
    assert keys
    assert all(k.startswith((alice_prefix, bob_prefix)) for k in keys)
    assert f"{alice_prefix}sessions/{alice_sid}.json" in keys
    assert f"{bob_prefix}sessions/{bob_sid}.json" in keys

    assert api.delete(base, claims=ALICE).status == 204
    assert all(k.startswith(bob_prefix) for k in api.object_keys())


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"sub": "   "}, {"sub": 7},
                                    {"email": "alice@example.com"}])
def test_requests_without_a_subject_are_401(jwt_api: Api, claims: dict | None) -> None:
    for method, path in (("POST", "/sessions"), ("GET", "/sessions"),
                         ("GET", "/sessions/x/messages")):
        reply = jwt_api.call(method, path, claims=claims)
        assert (reply.status, reply.code) == (401, "unauthorized")
    assert jwt_api.object_keys() == []


def test_without_isolation_claims_are_ignored(api: Api) -> None:
    sid = api.new_session(claims=ALICE)
    assert api.get(f"/sessions/{sid}", claims=BOB).status == 200
    assert api.object_keys() == [f"{api.prefix}/sessions/{sid}.json"]


def test_subject_scopes() -> None:
    assert subject_scope("alice") != subject_scope("alice ")
    assert subject_scope("a/b/../c")[0] == "users"
    assert len(subject_scope("x" * 10_000)[1]) == 32
    assert subject_prefix("alice", "/base/") == "base/" + "/".join(subject_scope("alice")) + "/"
    event = {"requestContext": {"authorizer": {"jwt": {"claims": {"sub": "s"}}}}}
    assert jwt_subject(event) == "s"
    assert jwt_subject({"requestContext": {"authorizer": {"lambda": {"sub": "s"}}}}) is None
    assert jwt_subject({"requestContext": None}) is None
