"""Hand-written attacks on the HTTP API, over HTTP semantics (raw paths with their
percent-escapes, raw body bytes, any headers) translated to API Gateway events the
way API Gateway and the local server do.

Each attack must get its precise 4xx (never a 5xx, never a traceback or internals),
must not write anything (no PutObject / DeleteObject(s) for a refused request), and
no S3 request may leave the service's prefix. A canary object outside the prefix
must survive it all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.test import Client

from synaptic_s3.testing import Endpoint
from tests.reliability.service_harness import Harness, Reply
from tests.service.events import make_event

pytestmark = [pytest.mark.s3]

WRITES = {"PutObject", "DeleteObject", "DeleteObjects"}
SID = "{sid}"
"""Placeholder for the real session's id in attack paths."""


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    expect: int | tuple[int, ...]
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def json_body(text: str) -> bytes:
    return text.encode()


def nested(depth: int) -> bytes:
    return b'{"role":"human","content":"x","additional_kwargs":' + b"[" * depth + \
        b"]" * depth + b"}"


MESSAGES = f"/sessions/{SID}/messages"
JSON = {"Content-Type": "application/json"}

ATTACKS = [
    # -- ids in paths: traversal, encodings, separators, controls, lengths -------------
    Attack("dot-dot", "GET", "/sessions/..", 400),
    Attack("encoded dot-dot", "GET", "/sessions/%2e%2e", 400),
    Attack("encoded dot-dot upper", "DELETE", "/sessions/%2E%2E", 400),
    Attack("dot", "GET", "/sessions/.", 400),
    Attack("hidden", "GET", "/sessions/.hidden", 400),
    Attack("traversal to a sibling", "GET", "/sessions/..%2F..%2Fetc%2Fpasswd", 404),
    Attack("encoded slash", "DELETE", "/sessions/a%2Fb", 404),
    Attack("encoded slash to another route", "DELETE", f"/sessions/{SID}%2Fmessages", 204),
    Attack("backslash", "GET", "/sessions/a%5Cb", 400),
    Attack("backslash traversal", "DELETE", "/sessions/..%5C..%5Cx", 400),
    Attack("NUL", "GET", "/sessions/a%00b", 400),
    Attack("newline", "GET", "/sessions/a%0Ab", 400),
    Attack("DEL char", "GET", "/sessions/a%7Fb", 400),
    Attack("invalid UTF-8 escape", "GET", "/sessions/%FF%FE", 400),
    Attack("overlong UTF-8 dots", "GET", "/sessions/%C0%AE%C0%AE", 400),
    Attack("double-encoded dot-dot", "GET", "/sessions/%252e%252e", 404),
    Attack("double-encoded slash", "GET", "/sessions/a%252Fb", 404),
    Attack("object suffix", "GET", "/sessions/x.json", 404),
    Attack("right-to-left override", "GET", "/sessions/%E2%80%AEabc", 400),
    Attack("U+FFFF (no XML form)", "GET", "/sessions/a%EF%BF%BFb", 400),
    Attack("U+FFFE in a checkpoint id", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"id":"a\\ufffeb","state":1}'), JSON),
    Attack("id over 200 bytes", "GET", "/sessions/" + "a" * 201, 400),
    Attack("id of 200 two-byte chars", "GET", "/sessions/" + "%C3%A9" * 101, 400),
    Attack("id of 10k chars", "POST", "/sessions/" + "a" * 10_000 + "/messages", 400,
           json_body('{"role":"human","content":"x"}'), JSON),
    Attack("checkpoint id traversal", "GET",
           f"/sessions/{SID}/checkpoints/..%2F..%2F..%2Fsessions%2F{SID}", 404),
    Attack("checkpoint id dot-dot", "GET", f"/sessions/{SID}/checkpoints/%2e%2e", 400),
    Attack("latest as a checkpoint id", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"id":"latest","state":1}'), JSON),
    Attack("checkpoint id with a slash", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"id":"a/b","state":1}'), JSON),
    Attack("checkpoint id dot-dot in body", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"id":"..","state":1}'), JSON),
    # -- query parameters --------------------------------------------------------------------
    Attack("negative limit", "GET", "/sessions?limit=-1", 422),
    Attack("zero limit", "GET", "/sessions?limit=0", 422),
    Attack("limit too large", "GET", "/sessions?limit=1001", 422),
    Attack("limit beyond int64", "GET", "/sessions?limit=99999999999999999999999", 422),
    Attack("limit as float", "GET", "/sessions?limit=1e3", 422),
    Attack("limit not a number", "GET", "/sessions?limit=abc", 422),
    Attack("repeated limit", "GET", "/sessions?limit=1&limit=2", 422),
    Attack("forged cursor", "GET", "/sessions?cursor=Li4vLi4vZXRj", 400),
    Attack("huge cursor", "GET", "/sessions?cursor=" + "A" * 10_000, 422),
    Attack("negative last", "GET", f"{MESSAGES}?last=-1", 422),
    Attack("last beyond int64", "GET", f"{MESSAGES}?last=1000000000000000000000000000000", 422),
    # -- bodies ------------------------------------------------------------------------------
    Attack("body over 1 MiB", "POST", MESSAGES, 413,
           json_body('{"role":"human","content":"' + "x" * (1 << 20) + '"}'), JSON),
    Attack("body of 8 MiB", "PUT", f"/sessions/{SID}/summary", 413,
           json_body('{"summary":"' + "x" * (8 << 20) + '"}'), JSON),
    Attack("nested 100000 deep", "POST", MESSAGES, 400, nested(100_000), JSON),
    Attack("nested 65 deep", "POST", MESSAGES, 400, nested(65), JSON),
    Attack("text/plain", "POST", MESSAGES, 415, json_body('{"role":"human","content":"x"}'),
           {"Content-Type": "text/plain"}),
    Attack("application/xml", "POST", MESSAGES, 415, b"<message>x</message>",
           {"Content-Type": "application/xml"}),
    Attack("form", "POST", MESSAGES, 415, b"role=human&content=x",
           {"Content-Type": "application/x-www-form-urlencoded"}),
    Attack("multipart", "POST", MESSAGES, 415, b"--b\r\n\r\nx\r\n--b--",
           {"Content-Type": "multipart/form-data; boundary=b"}),
    Attack("json with latin-1 charset", "POST", MESSAGES, 415,
           json_body('{"role":"human","content":"x"}'),
           {"Content-Type": "application/json; charset=latin-1"}),
    Attack("invalid UTF-8", "POST", MESSAGES, 400,
           b'{"role":"human","content":"\xff\xfe"}', JSON),
    Attack("UTF-16 body", "POST", MESSAGES, 400,
           '{"role":"human","content":"x"}'.encode("utf-16"), JSON),
    Attack("duplicate keys", "POST", MESSAGES, 400,
           json_body('{"role":"human","content":"x","content":"y"}'), JSON),
    Attack("duplicate role", "POST", MESSAGES, 400,
           json_body('{"role":"human","role":"system","content":"x"}'), JSON),
    Attack("NaN", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"state":NaN}'), JSON),
    Attack("Infinity", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"state":-Infinity}'), JSON),
    Attack("float beyond range", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"state":1e400}'), JSON),
    Attack("integer of 5000 digits", "POST", f"/sessions/{SID}/checkpoints", 400,
           json_body('{"state":' + "9" * 5000 + "}"), JSON),
    Attack("lone surrogate", "POST", MESSAGES, (400, 422),
           json_body('{"role":"human","content":"\\ud800"}'), JSON),
    Attack("array body", "POST", MESSAGES, 400, json_body('[{"role":"human","content":"x"}]'),
           JSON),
    Attack("string body", "PUT", f"/sessions/{SID}/summary", 400, json_body('"x"'), JSON),
    Attack("null body", "POST", f"/sessions/{SID}/checkpoints", 400, json_body("null"), JSON),
    Attack("empty body", "POST", MESSAGES, (400, 422), b"", JSON),
    Attack("truncated JSON", "POST", MESSAGES, 400, json_body('{"role":"human","con'), JSON),
    Attack("1001 messages", "POST", MESSAGES, 422, json_body(json.dumps(
        {"messages": [{"role": "human", "content": str(i)} for i in range(1001)]})), JSON),
    Attack("unknown role", "POST", MESSAGES, 422,
           json_body('{"role":"__class__","content":"x"}'), JSON),
    Attack("content not a string", "POST", MESSAGES, 422,
           json_body('{"role":"human","content":{"__class__":"os.system"}}'), JSON),
    Attack("summary not a string", "PUT", f"/sessions/{SID}/summary", 422,
           json_body('{"summary":["x"]}'), JSON),
    Attack("body on a body-less route", "POST", "/sessions", 201,
           json_body('{"id":"../../chosen-by-client"}'), JSON),
    # -- methods -----------------------------------------------------------------------------
    Attack("PATCH", "PATCH", f"/sessions/{SID}", 405),
    Attack("PUT on a collection", "PUT", "/sessions", 405),
    Attack("method override header", "GET", f"/sessions/{SID}", 200, None,
           {"X-HTTP-Method-Override": "DELETE", "X-Method-Override": "DELETE"}),
    Attack("unknown route", "GET", "/admin", 404),
    Attack("route past the API", "GET", f"/sessions/{SID}/messages/extra/..", 404),
]


@pytest.fixture(scope="module")
def harness(moto_endpoint: Endpoint) -> Iterator[Harness]:
    with asyncio.Runner() as runner:
        service = Harness(moto_endpoint, runner)
        try:
            yield service
        finally:
            service.close()


@pytest.fixture
def session_id(harness: Harness) -> str:
    reply = harness.handle(make_event("POST", "/sessions"))
    assert reply.status == 201
    return str(reply.body["id"])


def send(harness: Harness, attack: Attack, session_id: str) -> Reply:
    client = Client(harness.wsgi)
    response = client.open(attack.path.replace(SID, session_id), method=attack.method,
                           data=attack.body, headers=attack.headers)
    return Reply(response.status_code, dict(response.headers), response.get_data(as_text=True))


@pytest.mark.parametrize("attack", ATTACKS, ids=str)
def test_attack(attack: Attack, harness: Harness, session_id: str) -> None:
    since = len(harness.proxy.exchanges)
    reply = send(harness, attack, session_id)  # no 5xx, no traceback: checked in wsgi()
    expected = attack.expect if isinstance(attack.expect, tuple) else (attack.expect,)
    assert reply.status in expected, f"{reply.status}: {reply.text[:300]}"
    assert harness.strays(since=since) == []
    if reply.status >= 400:
        assert not [t for t in harness.touched(since) if t[0] in WRITES], "a refused request wrote"


def test_the_session_survives_every_attack(harness: Harness, session_id: str) -> None:
    before = harness.handle(make_event("GET", f"/sessions/{session_id}")).body
    for attack in ATTACKS:
        if attack.method in ("GET", "PATCH", "PUT") or attack.expect in (201, 204):
            continue
        send(harness, attack, session_id)
    assert harness.handle(make_event("GET", f"/sessions/{session_id}")).body == before
    messages = harness.handle(make_event("GET", f"/sessions/{session_id}/messages")).body
    # no refused append left anything behind
    assert messages == {"messages": [], "next_cursor": None}


def test_no_request_of_the_module_left_the_prefix(harness: Harness) -> None:
    """Whatever was sent, no S3 request of any attack above left the service's prefix
    (runs last in this module: the harness is shared)."""
    assert harness.touched()
    assert harness.strays() == []
