"""Paged reads over HTTP (issue 9): messages forwards and backwards, checkpoints, the
reply size limit, and signed cursors -- at every edge of every limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from synaptic_s3.service.pagination import reply_bytes
from synaptic_s3.testing import Endpoint
from tests.service.conftest import Api, _make_api

pytestmark = pytest.mark.s3


def _fill(api: Api, sid: str, count: int, *, content: str = "m") -> list[str]:
    """``count`` messages m0..m<count-1>, appended in batches of 1000; their ids."""
    ids = [f"id-{index:05d}" for index in range(count)]
    for first in range(0, count, 1000):
        batch = [{"role": "human", "content": f"{content}{index}", "id": ids[index]}
                 for index in range(first, min(first + 1000, count))]
        assert api.post(f"/sessions/{sid}/messages", body={"messages": batch}).status == 201
    return ids


def _forward(api: Api, sid: str, limit: int | None = None) -> tuple[list[str], int]:
    """Every message id, following next_cursor; and the number of pages."""
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query: dict[str, str] = {}
        if limit is not None:
            query["limit"] = str(limit)
        if cursor is not None:
            query["cursor"] = cursor
        reply = api.get(f"/sessions/{sid}/messages", query=query)
        assert reply.status == 200, reply.body
        assert set(reply.body) == {"messages", "next_cursor"}
        seen.extend(m["id"] for m in reply.body["messages"])
        pages += 1
        cursor = reply.body["next_cursor"]
        if cursor is None:
            return seen, pages


# -- forwards -----------------------------------------------------------------------------


def test_an_empty_session_is_one_empty_page(api: Api) -> None:
    sid = api.new_session()
    reply = api.get(f"/sessions/{sid}/messages")
    assert reply.body == {"messages": [], "next_cursor": None}


@pytest.mark.parametrize(("count", "limit", "pages"), [
    (3, 1, 3),       # limit 1
    (4, 4, 1),       # exactly L messages: one page, no cursor
    (5, 4, 2),       # L + 1
    (3, 4, 1),       # fewer than L
])
def test_following_next_cursor_reads_every_message_once(
    api: Api, count: int, limit: int, pages: int
) -> None:
    sid = api.new_session()
    ids = _fill(api, sid, count)
    assert _forward(api, sid, limit) == (ids, pages)


def test_the_default_and_largest_limit_is_1000(api: Api) -> None:
    sid = api.new_session()
    ids = _fill(api, sid, 1001)
    first = api.get(f"/sessions/{sid}/messages").body
    assert len(first["messages"]) == 1000
    assert first["next_cursor"] is not None
    assert _forward(api, sid, 1000) == (ids, 2)


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "x"])
def test_a_limit_outside_1_to_1000_is_422(api: Api, limit: str) -> None:
    sid = api.new_session()
    reply = api.get(f"/sessions/{sid}/messages", query={"limit": limit})
    assert (reply.status, reply.code) == (422, "validation_error")


# -- backwards -----------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "last", "expected"), [
    (5, 3, ["id-00002", "id-00003", "id-00004"]),   # fewer than there are
    (5, 5, [f"id-{i:05d}" for i in range(5)]),       # exactly as many
    (5, 6, [f"id-{i:05d}" for i in range(5)]),       # more (the old negative slice)
    (5, 9, [f"id-{i:05d}" for i in range(5)]),
    (0, 3, []),
])
def test_last_is_the_newest_n_oldest_first(
    api: Api, count: int, last: int, expected: list[str]
) -> None:
    sid = api.new_session()
    _fill(api, sid, count)
    reply = api.get(f"/sessions/{sid}/messages", query={"last": str(last)})
    assert reply.status == 200
    assert [m["id"] for m in reply.body["messages"]] == expected
    assert set(reply.body) == {"messages", "prev_cursor"}
    assert (reply.body["prev_cursor"] is None) == (count <= last)


def test_prev_cursor_walks_back_to_the_start(api: Api) -> None:
    sid = api.new_session()
    ids = _fill(api, sid, 7)
    pages: list[list[str]] = []
    query = {"last": "3"}
    while True:
        body = api.get(f"/sessions/{sid}/messages", query=query).body
        pages.append([m["id"] for m in body["messages"]])
        if body["prev_cursor"] is None:
            break
        query = {"last": "3", "cursor": body["prev_cursor"]}
    assert pages == [ids[4:7], ids[1:4], ids[0:1]]


def test_last_and_limit_together_are_422(api: Api) -> None:
    sid = api.new_session()
    reply = api.get(f"/sessions/{sid}/messages", query={"last": "2", "limit": "2"})
    assert (reply.status, reply.code) == (422, "validation_error")


def test_a_forward_cursor_is_refused_backwards_and_the_reverse(api: Api) -> None:
    sid = api.new_session()
    _fill(api, sid, 4)
    forward = api.get(f"/sessions/{sid}/messages", query={"limit": "2"}).body["next_cursor"]
    backward = api.get(f"/sessions/{sid}/messages", query={"last": "2"}).body["prev_cursor"]
    assert api.get(f"/sessions/{sid}/messages",
                   query={"last": "2", "cursor": forward}).code == "invalid_cursor"
    assert api.get(f"/sessions/{sid}/messages",
                   query={"cursor": backward}).code == "invalid_cursor"


# -- cursors --------------------------------------------------------------------------------


def _cursor(api: Api, sid: str) -> str:
    cursor = api.get(f"/sessions/{sid}/messages", query={"limit": "1"}).body["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


def test_a_cursor_cut_short_by_one_character_is_400(api: Api) -> None:
    sid = api.new_session()
    _fill(api, sid, 3)
    cursor = _cursor(api, sid)
    for bad in (cursor[:-1], cursor[1:]):
        reply = api.get(f"/sessions/{sid}/messages", query={"cursor": bad})
        assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_an_altered_cursor_is_400(api: Api) -> None:
    sid = api.new_session()
    _fill(api, sid, 3)
    cursor = _cursor(api, sid)
    position, _, mac = cursor.partition(".")
    import base64

    forged = base64.urlsafe_b64encode(b"2").decode().rstrip("=") + "." + mac
    assert position != forged.partition(".")[0]
    reply = api.get(f"/sessions/{sid}/messages", query={"cursor": forged})
    assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_a_cursor_of_another_session_is_400(api: Api) -> None:
    one, two = api.new_session(), api.new_session()
    _fill(api, one, 3)
    _fill(api, two, 3)
    reply = api.get(f"/sessions/{two}/messages", query={"cursor": _cursor(api, one)})
    assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_a_cursor_of_another_caller_is_400(jwt_api: Api) -> None:
    alice, bob = {"sub": "alice"}, {"sub": "bob"}
    sid = jwt_api.post("/sessions", claims=alice, headers={"Idempotency-Key": "same"}).body["id"]
    for claims in (alice, bob):
        jwt_api.post("/sessions", claims=claims, headers={"Idempotency-Key": "x"})
    pages = [jwt_api.get("/sessions", query={"limit": "1"}, claims=alice).body]
    cursor = pages[0]["next_cursor"]
    assert cursor is not None
    assert sid
    reply = jwt_api.get("/sessions", query={"cursor": cursor}, claims=bob)
    assert (reply.status, reply.code) == (400, "invalid_cursor")


def test_a_cursor_of_the_sessions_listing_is_refused_for_messages(api: Api) -> None:
    sid = api.new_session()
    api.new_session()
    cursor = api.get("/sessions", query={"limit": "1"}).body["next_cursor"]
    reply = api.get(f"/sessions/{sid}/messages", query={"cursor": cursor})
    assert (reply.status, reply.code) == (400, "invalid_cursor")


# -- the reply size limit -------------------------------------------------------------------

LIMIT = 4096


@pytest.fixture
def small_api(moto_endpoint: Endpoint, runner: asyncio.Runner) -> Iterator[Api]:
    """The API with MAX_REPLY_BYTES = 4096."""
    yield from _make_api(moto_endpoint, runner, "none", max_reply_bytes=LIMIT)


def _one_message_body(message: dict[str, Any], cursor_key: str) -> str:
    return '{"messages":[' + json.dumps(message, ensure_ascii=False, separators=(",", ":")) \
        + f'],"{cursor_key}":null}}'


def _message_of_reply_size(size: int) -> dict[str, Any]:
    """A message whose one-message reply (with a null cursor) is exactly ``size`` bytes,
    with quotes in it (escaped in Lambda's response: counted twice)."""
    message = {"role": "human", "content": '"', "id": "big"}
    base = reply_bytes(_one_message_body(message, "next_cursor"))
    message["content"] = '"' + "x" * (size - base)
    assert reply_bytes(_one_message_body(message, "next_cursor")) == size
    return message


def test_a_message_of_exactly_the_limit_is_returned(small_api: Api) -> None:
    sid = small_api.new_session()
    message = _message_of_reply_size(LIMIT)
    assert small_api.post(f"/sessions/{sid}/messages", body=message).status == 201
    reply = small_api.get(f"/sessions/{sid}/messages")
    assert reply.status == 200
    assert reply.body == {"messages": [message], "next_cursor": None}
    assert reply_bytes(reply.raw["body"]) == LIMIT


def test_a_message_one_byte_over_the_limit_is_a_422_naming_it(small_api: Api) -> None:
    sid = small_api.new_session()
    message = _message_of_reply_size(LIMIT + 1)
    assert small_api.post(f"/sessions/{sid}/messages", body=message).status == 201
    for query in ({}, {"last": "1"}):
        reply = small_api.get(f"/sessions/{sid}/messages", query=query)
        assert (reply.status, reply.code) == (422, "reply_too_large")
        assert str(LIMIT) in reply.body["error"]["message"]
        assert "MAX_REPLY_BYTES" in reply.body["error"]["message"]


def test_a_page_ends_before_it_would_cross_the_limit(small_api: Api) -> None:
    sid = small_api.new_session()
    ids = _fill(small_api, sid, 40, content="y" * 300)
    seen: list[str] = []
    cursor = None
    while True:
        reply = small_api.get(f"/sessions/{sid}/messages",
                              query={"cursor": cursor} if cursor else {})
        assert reply_bytes(reply.raw["body"]) <= LIMIT
        assert 1 <= len(reply.body["messages"]) < 40
        seen.extend(m["id"] for m in reply.body["messages"])
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


def test_a_backward_page_keeps_the_newest_that_fit(small_api: Api) -> None:
    sid = small_api.new_session()
    ids = _fill(small_api, sid, 40, content="y" * 300)
    seen: list[str] = []
    query = {"last": "1000"}
    while True:
        reply = small_api.get(f"/sessions/{sid}/messages", query=query)
        assert reply_bytes(reply.raw["body"]) <= LIMIT
        seen[:0] = [m["id"] for m in reply.body["messages"]]
        if reply.body["prev_cursor"] is None:
            break
        query = {"last": "1000", "cursor": reply.body["prev_cursor"]}
    assert seen == ids


def test_checkpoint_pages_respect_the_limit(small_api: Api) -> None:
    sid = small_api.new_session()
    for index in range(12):
        small_api.post(f"/sessions/{sid}/checkpoints",
                       body={"id": f"cp-{index:02d}", "state": "z" * 900})
    seen: list[str] = []
    cursor = None
    while True:
        reply = small_api.get(f"/sessions/{sid}/checkpoints",
                              query={"cursor": cursor} if cursor else {})
        assert reply.status == 200
        assert reply_bytes(reply.raw["body"]) <= LIMIT
        seen.extend(c["id"] for c in reply.body["checkpoints"])
        cursor = reply.body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"cp-{index:02d}" for index in range(12)]


def test_a_checkpoint_too_large_alone_is_a_422(small_api: Api) -> None:
    sid = small_api.new_session()
    small_api.post(f"/sessions/{sid}/checkpoints", body={"id": "cp", "state": "z" * LIMIT})
    reply = small_api.get(f"/sessions/{sid}/checkpoints")
    assert (reply.status, reply.code) == (422, "reply_too_large")


# -- checkpoints -----------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "limit", "pages"), [(0, 2, 1), (2, 2, 1), (3, 2, 2),
                                                        (3, 1, 3)])
def test_checkpoint_pages_follow_next_cursor(api: Api, count: int, limit: int,
                                             pages: int) -> None:
    sid = api.new_session()
    for index in range(count):
        api.post(f"/sessions/{sid}/checkpoints", body={"id": f"cp-{index}", "state": index})
    seen: list[str] = []
    cursor = None
    taken = 0
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        body = api.get(f"/sessions/{sid}/checkpoints", query=query).body
        seen.extend(c["id"] for c in body["checkpoints"])
        taken += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"cp-{index}" for index in range(count)]
    assert taken == pages


@pytest.mark.parametrize("limit", ["0", "1001"])
def test_a_checkpoint_limit_outside_1_to_1000_is_422(api: Api, limit: str) -> None:
    sid = api.new_session()
    reply = api.get(f"/sessions/{sid}/checkpoints", query={"limit": limit})
    assert (reply.status, reply.code) == (422, "validation_error")


def test_a_checkpoint_cursor_of_another_session_is_400(api: Api) -> None:
    one, two = api.new_session(), api.new_session()
    for sid in (one, two):
        for index in range(2):
            api.post(f"/sessions/{sid}/checkpoints", body={"id": f"cp-{index}", "state": 1})
    cursor = api.get(f"/sessions/{one}/checkpoints", query={"limit": "1"}).body["next_cursor"]
    reply = api.get(f"/sessions/{two}/checkpoints", query={"cursor": cursor})
    assert (reply.status, reply.code) == (400, "invalid_cursor")
    cut = api.get(f"/sessions/{one}/checkpoints", query={"cursor": cursor[:-1]})
    assert (cut.status, cut.code) == (400, "invalid_cursor")


# -- messages go out as stored ---------------------------------------------------------------


def _store_raw_history(api: Api, sid: str, messages: list[Any]) -> None:
    from tests.conftest import BUCKET
    from tests.service.conftest import s3_client

    s3_client(api.endpoint).put_object(
        Bucket=BUCKET, Key=f"{api.prefix}/memory/{sid}/messages.json",
        Body=json.dumps(messages).encode())


@pytest.mark.parametrize("query", [{}, {"last": "5"}])
def test_messages_are_passed_through_as_stored(api: Api, query: dict[str, str]) -> None:
    """Fields this service does not know, and a writer's explicit nulls, reach the
    client unchanged: the reply is not rebuilt through the message model."""
    sid = api.new_session()
    stored = [{"role": "human", "content": "hi", "name": None, "future": {"x": [1, 2.5]}},
              {"role": "assistant", "content": "yo",
               "tool_calls": [{"id": "c", "name": "f"}]}]
    _store_raw_history(api, sid, stored)
    reply = api.get(f"/sessions/{sid}/messages", query=query)
    assert reply.status == 200
    assert reply.body["messages"] == stored


def test_an_invalid_stored_message_is_a_corrupt_data_error_not_passed_on(api: Api) -> None:
    sid = api.new_session()
    _store_raw_history(api, sid, [{"role": "human", "content": "ok"},
                                  {"role": "tool", "content": "no tool_call_id"}])
    reply = api.get(f"/sessions/{sid}/messages")
    assert (reply.status, reply.code) == (500, "corrupt_data")
