"""End to end over real HTTP: ``synaptic-s3 serve`` on a free loopback port, the same
handler behind it, files (and, once, the moto S3 emulator) underneath."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synaptic_s3.cli.server import build_event, unverified_claims
from synaptic_s3.testing.servers import stop_process


class Server:
    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, reply_headers, text = response.status, dict(response.headers), \
                    response.read()
        except urllib.error.HTTPError as error:
            status, reply_headers, text = error.code, dict(error.headers), error.read()
        assert b"Traceback" not in text
        return status, {k.lower(): v for k, v in reply_headers.items()}, \
            (json.loads(text) if text else None)


def _start(args: list[str], cwd: Path) -> Iterator[Server]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SYNAPTIC_STORE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "synaptic_s3.cli", "serve", "--port", "0",
                                *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        banner = []
        assert process.stdout is not None
        for line in process.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(banner)
        match = re.search(r"API on (http://127\.0\.0\.1:\d+)", text)
        assert match, text
        assert "curl -s -X POST" in text  # a first example request is printed
        yield Server(match.group(1))
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    yield from _start(["--store", f"file://{root / 'data'}"], root)


def test_conversation_over_http(server: Server) -> None:
    status, headers, session = server.request("POST", "/sessions")
    assert status == 201
    assert headers["location"] == f"/sessions/{session['id']}"
    sid = session["id"]
    status, _, _ = server.request("POST", f"/sessions/{sid}/messages",
                                  {"messages": [{"role": "human", "content": "héllo"},
                                                {"role": "assistant", "content": "hi"}]})
    assert status == 201
    status, _, reply = server.request("GET", f"/sessions/{sid}/messages?last=1")
    assert status == 200
    assert [m["content"] for m in reply["messages"]] == ["hi"]
    assert server.request("PUT", f"/sessions/{sid}/summary", {"summary": "s"})[0] == 200
    status, _, checkpoint = server.request("POST", f"/sessions/{sid}/checkpoints",
                                           {"state": {"k": [1, 2]}})
    assert status == 201
    assert server.request("GET", f"/sessions/{sid}/checkpoints/latest")[2] == checkpoint
    status, _, listing = server.request("GET", "/sessions?limit=1")
    assert status == 200
    assert len(listing["sessions"]) == 1
    assert server.request("DELETE", f"/sessions/{sid}")[0] == 204
    status, headers, error = server.request("DELETE", f"/sessions/{sid}")
    assert status == 404
    assert error["error"]["code"] == "session_not_found"
    assert error["error"]["request_id"] == headers["x-request-id"]


def test_hostile_requests_over_http(server: Server) -> None:
    sid = server.request("POST", "/sessions")[2]["id"]
    cases = [
        ("GET", "/sessions/..%2F..%2Fetc%2Fpasswd", None, None),
        ("GET", "/sessions/%2e%2e", None, None),
        ("GET", "/sessions/%FF%FE", None, None),
        ("GET", "/sessions/a%00b", None, None),
        ("POST", f"/sessions/{sid}/messages", b"\xff\xfe{", {"Content-Type": "application/json"}),
        ("POST", f"/sessions/{sid}/messages", b'{"role":"human","content":"x"}',
         {"Content-Type": "text/plain"}),
        ("POST", f"/sessions/{sid}/messages", b"[" * 50_000, {"Content-Type": "application/json"}),
        ("POST", f"/sessions/{sid}/messages", b"x" * (2 * 1024 * 1024),
         {"Content-Type": "application/json"}),
        ("GET", "/sessions?cursor=%00%01", None, None),
        ("GET", "/sessions?limit=1e9", None, None),
        ("DELETE", "/sessions", None, None),
    ]
    for method, path, raw, headers in cases:
        status, _, reply = server.request(method, path, raw=raw, headers=headers)
        assert 400 <= status < 500, (method, path, status, reply)
        assert reply["error"]["code"], reply
    empty = {"messages": [], "next_cursor": None}
    assert server.request("GET", f"/sessions/{sid}/messages")[2] == empty


def test_s3_emulator_mode(tmp_path: Path) -> None:
    for server in _start(["--s3-emulator"], tmp_path):
        status, _, session = server.request("POST", "/sessions")
        assert status == 201
        status, _, _ = server.request("POST", f"/sessions/{session['id']}/messages",
                                      {"role": "human", "content": "on moto"})
        assert status == 201
        assert server.request("GET", f"/sessions/{session['id']}")[0] == 200


def test_event_translation() -> None:
    event = build_event("POST", "/sessions/a%20b/messages?last=1&last=2&x=%2F",
                        [("Content-Type", "application/json"), ("X-A", "1"), ("x-a", "2")],
                        b"\xff", "127.0.0.1", jwt_claims={"sub": "u"})
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/sessions/a b/messages"
    assert event["queryStringParameters"] == {"last": "1,2", "x": "/"}
    assert event["rawQueryString"] == "last=1&last=2&x=%2F"
    assert event["headers"]["x-a"] == "1,2"
    assert event["isBase64Encoded"] is True
    assert event["requestContext"]["authorizer"]["jwt"]["claims"] == {"sub": "u"}
    token = "e30." + "eyJzdWIiOiJhbGljZSJ9" + ".sig"
    assert unverified_claims(f"Bearer {token}") == {"sub": "alice"}
    assert unverified_claims("Basic abc") is None
    assert unverified_claims("Bearer not-a-jwt") is None
