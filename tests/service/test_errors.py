"""Every error class: what the client did wrong gets a 4xx that says so; what went
wrong inside gets a 5xx with the request id and no internals. Never a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from synaptic_s3 import ConflictError, StorageUnavailableError
from synaptic_s3.core.errors import AccessDeniedError, BucketNotFoundError
from synaptic_s3.memory import ChatMessageHistory
from synaptic_s3.service.requests import MAX_JSON_DEPTH
from tests.service.conftest import Api

pytestmark = pytest.mark.s3

JSON_HEADERS = {"content-type": "application/json"}
EMPTY = {"messages": [], "next_cursor": None}


@pytest.mark.parametrize(("body", "fragment"), [
    ({"role": "human"}, "needs a string 'content'"),
    ({"role": "human", "content": 5}, "content"),
    ({"role": "tool", "content": "x"}, "tool_call_id"),
    ({"role": "chat", "content": "x"}, "custom_role"),
    ({"role": "remove"}, "needs the 'id'"),
    ({"role": "robot", "content": "x"}, "unknown role 'robot'"),
    ({"content": "x"}, "needs a 'role'"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "human", "content": "ok"}, {"role": "tool", "content": "x"}]},
     "messages.1"),
    ({"messages": "nope"}, "messages"),
    ({"role": "assistant", "content": "", "tool_calls": [{"name": "x"}]}, "tool_calls.0.id"),
])
def test_invalid_messages_are_422_with_the_reason(api: Api, body: Any, fragment: str) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/messages", raw_body=json.dumps(body),
                     headers=JSON_HEADERS)
    assert (reply.status, reply.code) == (422, "validation_error"), reply.body
    assert fragment in reply.body["error"]["message"]
    assert api.get(f"/sessions/{sid}/messages").body == EMPTY


@pytest.mark.parametrize("body", [[{"role": "human", "content": "x"}], "text", 42, None, True])
def test_bodies_must_be_json_objects(api: Api, body: Any) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/messages", raw_body=json.dumps(body),
                     headers=JSON_HEADERS)
    assert (reply.status, reply.code) == (400, "invalid_json"), reply.body
    assert "must be a JSON object" in reply.body["error"]["message"]
    assert api.get(f"/sessions/{sid}/messages").body == EMPTY


def test_remove_marker_is_accepted(api: Api) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/messages", body={"role": "remove", "id": "m1"})
    assert reply.status == 201


@pytest.mark.parametrize(("raw", "fragment"), [
    ('{"role": "human", "content": "a"', "not valid JSON"),
    ("", None),  # an empty body is no body: the message is required -> 422
    ('{"role": "human", "content": "a", "content": "b"}', "duplicate key 'content'"),
    ('{"role": "human", "content": NaN}', "NaN"),
    ('{"role": "human", "content": "x", "n": 1e999}', "out of range"),
    ('{"role": "human", "content": "x", "n": ' + "9" * 5000 + "}", "not valid JSON"),
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "nested deeper"),
    ("[" * 100_000 + "]" * 100_000, "nested deeper"),
    ('{"a": ' * 5000 + "1" + "}" * 5000, "nested deeper"),
])
def test_malformed_json(api: Api, raw: str, fragment: str | None) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/messages", raw_body=raw, headers=JSON_HEADERS)
    if fragment is None:
        assert reply.status == 422
        return
    assert (reply.status, reply.code) == (400, "invalid_json"), reply.body
    assert fragment in reply.body["error"]["message"]


def test_invalid_utf8_and_base64(api: Api) -> None:
    sid = api.new_session()
    bad_utf8 = api.post(f"/sessions/{sid}/messages", raw_body=b'{"role":"human","content":"\xff"}',
                        headers=JSON_HEADERS)
    assert (bad_utf8.status, bad_utf8.code) == (400, "invalid_json")
    assert "UTF-8" in bad_utf8.body["error"]["message"]
    event_body = api.call("POST", f"/sessions/{sid}/messages", raw_body="%%%not base64",
                          base64_body=False, headers=JSON_HEADERS)
    assert event_body.status == 400
    from tests.service.events import Context, make_event

    event = make_event("POST", f"/sessions/{sid}/messages", raw_body="x", headers=JSON_HEADERS)
    event["body"], event["isBase64Encoded"] = "!!notbase64!!", True
    reply = api.app.handle(event, Context())
    assert reply["statusCode"] == 400
    assert "base64" in json.loads(reply["body"])["error"]["message"]


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/xml", "application/json; charset=latin-1",
])
def test_wrong_content_types_are_415(api: Api, content_type: str) -> None:
    sid = api.new_session()
    reply = api.post(f"/sessions/{sid}/messages", raw_body='{"role":"human","content":"x"}',
                     headers={"content-type": content_type})
    assert (reply.status, reply.code) == (415, "unsupported_media_type")


def test_json_content_type_variants_are_accepted(api: Api) -> None:
    sid = api.new_session()
    for content_type in ("application/json; charset=utf-8", "APPLICATION/JSON",
                         "application/vnd.synaptic+json"):
        reply = api.post(f"/sessions/{sid}/messages", raw_body='{"role":"human","content":"x"}',
                         headers={"content-type": content_type})
        assert reply.status == 201, content_type


def test_body_over_the_limit_is_413(api: Api) -> None:
    sid = api.new_session()
    limit = api.app.config.max_body_bytes  # type: ignore[union-attr]
    big = json.dumps({"role": "human", "content": "x" * limit})
    for base64_body in (False, True):
        reply = api.post(f"/sessions/{sid}/messages", raw_body=big, base64_body=base64_body,
                         headers=JSON_HEADERS)
        assert (reply.status, reply.code) == (413, "payload_too_large")
    just_under = json.dumps({"role": "human", "content": "y" * (limit - 100)})
    assert len(just_under.encode()) <= limit
    assert api.post(f"/sessions/{sid}/messages", raw_body=just_under,
                    headers=JSON_HEADERS).status == 201


@pytest.mark.parametrize("path", [
    "/sessions/..", "/sessions/.hidden", "/sessions/..%2F..%2Fetc", "/sessions/a%5Cb",
    "/sessions/" + "x" * 201, "/sessions/a\x01b", "/sessions/%2e%2e",
])
def test_hostile_ids_are_400(api: Api, path: str) -> None:
    # API Gateway hands the handler a decoded path; ids are checked by the key rules.
    from urllib.parse import unquote

    reply = api.get(unquote(path))
    assert reply.status in (400, 404), reply.body
    assert reply.code in ("invalid_id", "route_not_found")
    if reply.status == 400:
        assert reply.code == "invalid_id"
    assert api.object_keys() == []


def test_error_messages_never_echo_at_length(api: Api) -> None:
    sid = api.new_session()
    for body in ({"id": "." + "x" * 100_000, "state": 1}, {"summary": "s", "k" * 50_000: 1}):
        path = "checkpoints" if "state" in body else "summary"
        reply = api.call("POST" if path == "checkpoints" else "PUT",
                         f"/sessions/{sid}/{path}", body=body)
        assert 400 <= reply.status < 500
        assert len(reply.body["error"]["message"]) <= 1000


def test_traversal_into_checkpoint_ids_is_400(api: Api) -> None:
    sid = api.new_session()
    for checkpoint_id in ("..", ".x", "a\\b"):
        reply = api.get(f"/sessions/{sid}/checkpoints/{checkpoint_id}")
        assert (reply.status, reply.code) == (400, "invalid_id"), checkpoint_id


def test_decoded_slashes_only_reach_other_routes(api: Api) -> None:
    sid = api.new_session()
    # "/sessions/<sid>%2Fmessages" arrives decoded; it is just the messages route.
    assert api.get(f"/sessions/{sid}/messages").status == 200
    reply = api.get(f"/sessions/{sid}/x/y/z")
    assert (reply.status, reply.code) == (404, "route_not_found")


def test_unknown_routes_and_methods(api: Api) -> None:
    assert api.get("/").code == "route_not_found"
    assert api.get("/sessions/").code == "route_not_found"
    patch = api.call("PATCH", "/sessions/abc")
    assert (patch.status, patch.code) == (405, "method_not_allowed")
    assert patch.headers["allow"] == "DELETE, GET"
    put = api.put("/sessions", body={})
    assert (put.status, put.code) == (405, "method_not_allowed")
    assert put.headers["allow"] == "GET, POST"


def test_not_an_http_api_event(api: Api) -> None:
    from tests.service.events import Context

    for event in ({}, {"requestContext": "x"}, {"rawPath": "/sessions"}, [], "x", None):
        reply = api.app.handle(event, Context())
        assert 400 <= reply["statusCode"] < 500
        assert json.loads(reply["body"])["error"]["code"]


def test_not_an_http_api_event_in_jwt_mode(jwt_api: Api) -> None:
    from tests.service.events import Context

    for event in ({}, [], None, {"requestContext": {"authorizer": []}}):
        reply = jwt_api.app.handle(event, Context())  # type: ignore[arg-type]
        assert reply["statusCode"] in (400, 401)


def test_conflict_is_409(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = api.new_session()

    async def always_conflict(self: ChatMessageHistory, *args: Any) -> None:
        raise ConflictError("append kept losing", namespace=("memory", sid), key="messages")

    monkeypatch.setattr(ChatMessageHistory, "append_many", always_conflict)
    reply = api.post(f"/sessions/{sid}/messages", body={"role": "human", "content": "x"})
    assert (reply.status, reply.code) == (409, "conflict")
    assert reply.headers["retry-after"] == "1"
    assert "memory" not in reply.body["error"]["message"]


@pytest.mark.parametrize(("error", "status", "code"), [
    (StorageUnavailableError("SlowDown at s3://secret-bucket/p/", bucket="secret-bucket"), 503,
     "storage_unavailable"),
    (AccessDeniedError("GetObject s3://secret-bucket/x denied", bucket="secret-bucket"), 500,
     "internal_error"),
    (BucketNotFoundError("secret-bucket"), 500, "internal_error"),
    (RuntimeError("secret-bucket exploded"), 500, "internal_error"),
    (KeyError("secret-bucket"), 500, "internal_error"),
])
def test_server_errors_hide_internals(api: Api, monkeypatch: pytest.MonkeyPatch,
                                      error: Exception, status: int, code: str) -> None:
    sid = api.new_session()

    async def fail(self: ChatMessageHistory, session_id: str, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(ChatMessageHistory, "page_json", fail)  # the forward read
    reply = api.get(f"/sessions/{sid}/messages")
    assert (reply.status, reply.code) == (status, code)
    assert "secret" not in json.dumps(reply.body)
    assert reply.body["error"]["request_id"].startswith("req-")


def test_corrupt_stored_data_is_500_without_keys(api: Api) -> None:
    from tests.conftest import BUCKET
    from tests.service.conftest import s3_client

    sid = api.new_session()
    client = s3_client(api.endpoint)
    client.put_object(Bucket=BUCKET, Key=f"{api.prefix}/memory/{sid}/messages.json",
                      Body=b'{"not": "a list"')
    reply = api.get(f"/sessions/{sid}/messages")
    assert (reply.status, reply.code) == (500, "corrupt_data")
    assert "messages.json" not in reply.body["error"]["message"]
    # a planted object is data, never code: a pickle-looking payload is just bad JSON
    client.put_object(Bucket=BUCKET, Key=f"{api.prefix}/checkpoints/{sid}/0-evil.json",
                      Body=b"\x80\x04\x95cos\nsystem\n")
    reply = api.get(f"/sessions/{sid}/checkpoints/0-evil")
    assert (reply.status, reply.code) == (500, "corrupt_data")


def test_misconfiguration_is_500_with_request_id(runner: Any) -> None:
    from synaptic_s3.service.app import ServiceApp
    from tests.service.events import Context, make_event

    app = ServiceApp(None, runner, config_error="SESSIONS_BUCKET is not set")
    reply = app.handle(make_event("GET", "/sessions"), Context())
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 500
    assert body["error"]["code"] == "internal_error"
    assert "SESSIONS_BUCKET" not in body["error"]["message"]
    assert reply["headers"]["x-request-id"] == body["error"]["request_id"]
