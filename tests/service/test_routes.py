"""Every route of the HTTP API, through the handler, against S3 over HTTP."""

from __future__ import annotations

import re

import pytest

from tests.service.conftest import Api

pytestmark = pytest.mark.s3

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_session_lifecycle(any_api: Api) -> None:
    api = any_api
    created = api.post("/sessions")
    assert created.status == 201
    session_id = created.body["id"]
    assert UUID7.match(session_id)
    assert set(created.body) == {"id", "created_at"}
    assert created.headers["location"] == f"/sessions/{session_id}"
    assert created.headers["content-type"] == "application/json"

    assert api.get(f"/sessions/{session_id}").body == created.body
    listed = api.get("/sessions")
    assert listed.status == 200
    assert listed.body == {"sessions": [created.body], "next_cursor": None}

    api.post(f"/sessions/{session_id}/messages", body={"role": "human", "content": "hi"})
    api.post(f"/sessions/{session_id}/checkpoints", body={"state": {"step": 1}})
    api.put(f"/sessions/{session_id}/summary", body={"summary": "greeting"})
    deleted = api.delete(f"/sessions/{session_id}")
    assert deleted.status == 204
    assert deleted.body is None
    assert api.object_keys() == []  # everything of the session is gone
    assert api.get(f"/sessions/{session_id}").code == "session_not_found"
    again = api.delete(f"/sessions/{session_id}")
    assert (again.status, again.code) == (404, "session_not_found")


def test_messages_round_trip(any_api: Api) -> None:
    api = any_api
    sid = api.new_session()
    one = api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "Hello"})
    assert one.status == 201
    [stored] = one.body["messages"]
    assert stored["role"] == "human"
    assert stored["content"] == "Hello"
    assert stored["id"]
    batch = {"messages": [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call-1", "name": "search", "arguments": {"q": "s3"}}]},
        {"role": "tool", "content": "found", "tool_call_id": "call-1"},
        {"role": "chat", "content": "note", "custom_role": "critic", "x-extra": [1, 2]},
        {"role": "system", "content": "be brief", "id": "fixed-id"},
    ]}
    appended = api.post(f"/sessions/{sid}/messages", body=batch)
    assert appended.status == 201
    assert len(appended.body["messages"]) == 4
    everything = api.get(f"/sessions/{sid}/messages").body["messages"]
    assert [m["role"] for m in everything] == ["human", "assistant", "tool", "chat", "system"]
    assert everything[1]["tool_calls"][0]["arguments"] == {"q": "s3"}
    assert everything[3]["x-extra"] == [1, 2]  # unknown fields survive, as in the Rust crate

    last_two = api.get(f"/sessions/{sid}/messages", query={"last": "2"}).body["messages"]
    assert [m["role"] for m in last_two] == ["chat", "system"]  # newest two, oldest first
    assert api.get(f"/sessions/{sid}/messages", query={"last": "0"}).body == {"messages": [],
                                                                      "prev_cursor": None}
    assert len(api.get(f"/sessions/{sid}/messages",
                       query={"last": "99"}).body["messages"]) == 5

    # idempotent by id: a retried append stores nothing twice
    retry = api.post(f"/sessions/{sid}/messages",
                     body={"role": "system", "content": "be brief", "id": "fixed-id"})
    assert retry.status == 201
    assert len(api.get(f"/sessions/{sid}/messages").body["messages"]) == 5

    cleared = api.delete(f"/sessions/{sid}/messages")
    assert cleared.status == 204
    assert api.get(f"/sessions/{sid}/messages").body == {"messages": [], "next_cursor": None}
    assert api.get(f"/sessions/{sid}").status == 200  # clear keeps the session


def test_summary(api: Api) -> None:
    sid = api.new_session()
    assert api.get(f"/sessions/{sid}/summary").body == {"summary": None}
    put = api.put(f"/sessions/{sid}/summary", body={"summary": "talked about S3"})
    assert (put.status, put.body) == (200, {"summary": "talked about S3"})
    assert api.get(f"/sessions/{sid}/summary").body == {"summary": "talked about S3"}
    api.delete(f"/sessions/{sid}/messages")  # clear removes the summary too
    assert api.get(f"/sessions/{sid}/summary").body == {"summary": None}
    for bad in ({"summary": None}, {"summary": 3}, {}, {"summary": "x", "other": 1}):
        reply = api.put(f"/sessions/{sid}/summary", body=bad)
        assert (reply.status, reply.code) == (422, "validation_error"), bad


def test_checkpoints(any_api: Api) -> None:
    api = any_api
    sid = api.new_session()
    none = api.get(f"/sessions/{sid}/checkpoints/latest")
    assert (none.status, none.code) == (404, "checkpoint_not_found")
    assert api.get(f"/sessions/{sid}/checkpoints").body == {"checkpoints": [], "next_cursor": None}

    first = api.post(f"/sessions/{sid}/checkpoints",
                     body={"state": {"n": 1}, "next_node": "agent", "metadata": {"k": "v"}})
    assert first.status == 201
    assert re.match(r"^[0-9a-f]{16}-[0-9a-f]{4}$", first.body["id"])
    second = api.post(f"/sessions/{sid}/checkpoints",
                      body={"state": {"n": 2}, "parent_id": first.body["id"]})
    assert second.body["parent_id"] == first.body["id"]
    named = api.post(f"/sessions/{sid}/checkpoints", body={"id": "0-manual", "state": None})
    assert named.status == 201
    assert named.body["id"] == "0-manual"
    assert named.headers["location"] == f"/sessions/{sid}/checkpoints/0-manual"

    listed = api.get(f"/sessions/{sid}/checkpoints").body["checkpoints"]
    assert [c["id"] for c in listed] == ["0-manual", first.body["id"], second.body["id"]]
    latest = api.get(f"/sessions/{sid}/checkpoints/latest")
    assert latest.body == second.body
    assert api.get(f"/sessions/{sid}/checkpoints/{first.body['id']}").body == first.body
    assert api.get(f"/sessions/{sid}/checkpoints/0-manual").body["state"] is None
    missing = api.get(f"/sessions/{sid}/checkpoints/ffff-0000")
    assert (missing.status, missing.code) == (404, "checkpoint_not_found")


def test_latest_route_wins_and_is_reserved(api: Api) -> None:
    sid = api.new_session()
    reserved = api.post(f"/sessions/{sid}/checkpoints", body={"id": "latest", "state": 1})
    assert (reserved.status, reserved.code) == (400, "invalid_id")
    unaddressable = api.post(f"/sessions/{sid}/checkpoints", body={"id": "a#b", "state": 1})
    assert (unaddressable.status, unaddressable.code) == (400, "invalid_id")
    api.post(f"/sessions/{sid}/checkpoints", body={"id": "zzz-last", "state": 2})
    assert api.get(f"/sessions/{sid}/checkpoints/latest").body["id"] == "zzz-last"


def test_pagination(api: Api) -> None:
    ids = [api.new_session() for _ in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.get("/sessions", query=query)
        assert page.status == 200
        assert len(page.body["sessions"]) <= 2
        seen.extend(s["id"] for s in page.body["sessions"])
        pages += 1
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids  # oldest first, each once
    assert pages == 3
    assert [s["id"] for s in api.get("/sessions").body["sessions"]] == ids


@pytest.mark.parametrize("cursor", [
    "garbage!", "czE6", "AAAA", "czE6Li4", "eDo" + "A" * 10, "czE6YWJj=", "é", "x" * 401,
])
def test_garbage_cursors_are_400(api: Api, cursor: str) -> None:
    reply = api.get("/sessions", query={"cursor": cursor})
    assert reply.status in (400, 422), reply.body
    assert reply.code in ("invalid_cursor", "validation_error")


@pytest.mark.parametrize("query", [
    {"limit": "0"}, {"limit": "1001"}, {"limit": "abc"}, {"limit": "-1"},
])
def test_bad_list_parameters_are_422(api: Api, query: dict[str, str]) -> None:
    reply = api.get("/sessions", query=query)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert "limit" in reply.body["error"]["message"]


def test_named_stage_and_base64_body(api: Api) -> None:
    sid = api.post("/sessions", stage="prod").body["id"]
    reply = api.post(f"/sessions/{sid}/messages", raw_body='{"role":"human","content":"b64"}',
                     base64_body=True, headers={"content-type": "application/json"},
                     stage="prod")
    assert reply.status == 201
    assert api.get(f"/sessions/{sid}/messages").body["messages"][0]["content"] == "b64"


ROUTES_ON_A_SESSION = [
    ("GET", "", None),
    ("DELETE", "", None),
    ("POST", "/messages", {"role": "human", "content": "x"}),
    ("GET", "/messages", None),
    ("DELETE", "/messages", None),
    ("GET", "/summary", None),
    ("PUT", "/summary", {"summary": "x"}),
    ("POST", "/checkpoints", {"state": 1}),
    ("GET", "/checkpoints", None),
    ("GET", "/checkpoints/latest", None),
    ("GET", "/checkpoints/0000-0000", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES_ON_A_SESSION)
def test_every_operation_on_a_missing_session_is_404(
    api: Api, method: str, suffix: str, body: object
) -> None:
    reply = api.call(method, f"/sessions/01900000-0000-7000-8000-000000000000{suffix}",
                     body=body)
    assert (reply.status, reply.code) == (404, "session_not_found")
    assert api.object_keys() == []  # never a silent write



def test_a_204_reply_carries_no_body_field(api: Api) -> None:
    deleted = api.delete(f"/sessions/{api.new_session()}")
    assert deleted.status == 204
    assert "body" not in deleted.raw
