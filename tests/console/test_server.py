"""The stdlib HTTP adapter: what reaches the app, and what it refuses before."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest

from synaptic_s3.console.server import MAX_BODY_BYTES, ConsoleServer, running
from synaptic_s3.service.store_url import parse_store_url


@pytest.fixture(scope="module")
def server() -> Iterator[ConsoleServer]:
    with running(parse_store_url("memory://"), allow_writes=True) as console:
        yield console


def _send(server: ConsoleServer, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def test_the_front_door_redirects_to_the_console(server: ConsoleServer) -> None:
    status, headers, _ = _send(server, "GET", "/")
    assert status == 303
    assert headers["location"] == "/console/"


def test_head_answers_headers_only(server: ConsoleServer) -> None:
    status, headers, body = _send(server, "HEAD", "/console/")
    assert status == 200
    assert body == b""
    assert int(headers["content-length"]) > 0


def test_a_body_over_the_limit_is_refused_unread(server: ConsoleServer) -> None:
    status, _, _ = _send(server, "POST", "/console/s/x/delete",
                         body=b"a" * (MAX_BODY_BYTES + 1),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413


def test_chunked_bodies_are_refused(server: ConsoleServer) -> None:
    # one write of the whole request: the server answers after the headers and closes
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST /console/s/x/delete HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n7\r\ntoken=x\r\n0\r\n\r\n")
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"411"


def test_a_non_numeric_length_is_a_bad_request(server: ConsoleServer) -> None:
    status, _, _ = _send(server, "POST", "/console/s/x/delete", body=b"",
                         headers={"Content-Length": "many"})
    assert status == 400
