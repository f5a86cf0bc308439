"""``synaptic-s3 console`` and ``/console`` on ``synaptic-s3 serve``, as real processes."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from synaptic_s3 import FileStore, SessionManager
from synaptic_s3.cli.main import build_parser
from synaptic_s3.testing.servers import stop_process
from tests.console.seed import TOOLS_ID, seed


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("console-cli") / "data"

    async def fill() -> None:
        async with FileStore(root) as store:
            await seed(SessionManager(store))

    asyncio.run(fill())
    return root


def _start(args: list[str], pattern: str) -> Iterator[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SYNAPTIC_STORE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "synaptic_s3.cli", *args, "--port", "0"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        match = re.search(pattern, "".join(lines))
        assert match, "".join(lines)
        yield match.group(1)
    finally:
        stop_process(process)


def _get(url: str, host: str | None = None) -> tuple[int, str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    headers = {"Host": host} if host is not None else {}
    connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                       headers=headers)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    assert "Traceback" not in body
    return response.status, body


@pytest.fixture(scope="module")
def console_url(store_root: Path) -> Iterator[str]:
    yield from _start(["console", "--store", f"file://{store_root}"],
                      r"console on (http://127\.0\.0\.1:\d+/console/)")


def test_console_command_serves_the_store(console_url: str) -> None:
    status, body = _get(console_url)
    assert status == 200
    assert TOOLS_ID in body
    assert "read-only" in body
    status, body = _get(console_url + "s/" + TOOLS_ID)
    assert status == 200
    assert "get_weather" in body


def test_console_front_door_redirects(console_url: str) -> None:
    root = console_url.removesuffix("console/")
    status, _ = _get(root)
    assert status == 303


def test_console_refuses_a_foreign_host(console_url: str) -> None:
    status, body = _get(console_url, host="attacker.example")
    assert status == 400
    assert TOOLS_ID not in body


def test_serve_mounts_the_console_beside_the_api(store_root: Path) -> None:
    for api in _start(["serve", "--store", f"file://{store_root}"],
                      r"API on (http://127\.0\.0\.1:\d+)"):
        status, body = _get(api + "/console/")
        assert status == 200
        assert TOOLS_ID in body
        assert "Delete" not in body  # read-only there
        status, body = _get(api + "/sessions")
        assert status == 200
        assert TOOLS_ID in body  # the API answers as before


def test_console_options() -> None:
    args = build_parser().parse_args(["console", "--allow-writes", "--port", "9000"])
    assert (args.host, args.port, args.allow_writes) == ("127.0.0.1", 9000, True)
    defaults = build_parser().parse_args(["console"])
    assert (defaults.port, defaults.allow_writes) == (8090, False)
