"""The ``synaptic-s3`` command line: every command, on a file store (and S3 once)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synaptic_s3.cli.main import main
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET

COMMANDS = ["create", "list", "show", "delete", "append", "export", "import", "serve"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("SYNAPTIC_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return f"file://{tmp_path / 'data'}"


def test_every_command(capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "create", "--count", "2", "--store", store)
    assert code == 0
    first, second = out.split()
    code, out, _ = run(capsys, "--store", store, "append", first, "--content", "Hello S3")
    assert code == 0
    assert out.strip()
    run(capsys, "append", first, "--store", store, "--role", "assistant", "--content", "Hi!")
    run(capsys, "append", first, "--store", store, "--json",
        '{"messages": [{"role": "tool", "content": "42", "tool_call_id": "c1"}]}')
    message_file = tmp_path / "m.json"
    message_file.write_text(json.dumps([{"role": "chat", "content": "c", "custom_role": "r"}]))
    assert run(capsys, "append", first, "--store", store, "--file", str(message_file))[0] == 0

    code, out, _ = run(capsys, "list", "--store", store, "--messages")
    assert code == 0
    assert first in out
    assert second in out
    assert "messages" in out
    code, out, _ = run(capsys, "list", "--store", store, "--json", "--limit", "1")
    assert [row["id"] for row in json.loads(out)] == [first]

    code, out, _ = run(capsys, "show", first, "--store", store)
    assert code == 0
    for text in ("Hello S3", "assistant", "Hi!", "→ call c1", "r"):
        assert text in out
    code, out, _ = run(capsys, "show", first, "--store", store, "--json", "--last", "1")
    assert [m["role"] for m in json.loads(out)["messages"]] == ["chat"]

    backup = tmp_path / "backup.json"
    code, _, err = run(capsys, "export", "--all", "-o", str(backup), "--store", store)
    assert code == 0
    assert "exported 2 session(s)" in err
    document = json.loads(backup.read_text())
    assert document["format"] == "synaptic-s3.sessions"
    assert len(document["sessions"]) == 2

    code, _, err = run(capsys, "delete", "--all", "--yes", "--store", store)
    assert code == 0
    assert "deleted 2 session(s)" in err
    assert json.loads(run(capsys, "list", "--json", "--store", store)[1]) == []

    code, out, _ = run(capsys, "import", str(backup), "--store", store)
    assert code == 0
    assert set(out.split()) == {first, second}
    restored = json.loads(run(capsys, "show", first, "--json", "--store", store)[1])
    assert restored["messages"] == document["sessions"][0]["messages"]
    code, out, _ = run(capsys, "import", str(backup), "--store", store)  # same content again
    assert code == 0
    assert set(out.split()) == {first, second}
    code, out, _ = run(capsys, "import", str(backup), "--new-ids", "--store", store)
    assert code == 0
    assert "->" in out
    assert len(json.loads(run(capsys, "list", "--json", "--store", store)[1])) == 4

    code, _, err = run(capsys, "delete", first, "nope", "--store", store)
    assert code == 1
    assert "no session nope" in err
    assert "deleted 1" in err


def test_errors_are_messages_not_tracebacks(capsys: pytest.CaptureFixture[str], store: str,
                                            tmp_path: Path) -> None:
    cases = [
        (["show", "missing", "--store", store], "not found"),
        (["append", "missing", "--content", "x", "--store", store], "not found"),
        (["append", "x", "--store", store], "--content"),
        (["append", "x", "--json", "{", "--store", store], "not valid JSON"),
        (["append", "x", "--json", '{"role": "tool", "content": "x"}', "--store", store],
         "tool_call_id"),
        (["list", "--store", "ftp://nowhere"], "--store"),
        (["show", "..", "--store", store], "invalid name"),
        (["delete", "--store", store], "--all"),
        (["export", "--store", store], "--all"),
        (["import", str(tmp_path / "absent.json"), "--store", store], "no such file"),
    ]
    for args, fragment in cases:
        code, out, err = run(capsys, *args)
        assert code == 1, args
        assert fragment in err, (args, err)
        assert "Traceback" not in out + err
    not_export = tmp_path / "x.json"
    not_export.write_text('{"hello": 1}')
    code, _, err = run(capsys, "import", str(not_export), "--store", store)
    assert code == 1
    assert "not a synaptic-s3 export" in err


@pytest.mark.s3
def test_s3_store_url(capsys: pytest.CaptureFixture[str], moto_endpoint: Endpoint,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_endpoint.credentials["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY",
                       moto_endpoint.credentials["aws_secret_access_key"])
    url = f"s3://{BUCKET}/cli-test?endpoint_url={moto_endpoint.url}&region=us-east-1"
    code, out, _ = run(capsys, "create", "--store", url)
    assert code == 0
    assert out.strip() in run(capsys, "list", "--json", "--store", url)[1]
    assert run(capsys, "delete", out.strip(), "--store", url)[0] == 0


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    top = subprocess.run([sys.executable, "-m", "synaptic_s3.cli", "--help"],
                         capture_output=True, text=True, check=True)
    for command in COMMANDS:
        assert command in top.stdout
    assert "s3://BUCKET/PREFIX" in top.stdout
    for command in COMMANDS:
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0, command
        out = capsys.readouterr().out
        assert "--store" in out
        assert f"usage: synaptic-s3 {command}" in out


def test_show_pages_through_a_long_session(
    capsys: pytest.CaptureFixture[str], store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``show`` reads page by page (never ``load``), forwards and, with --last, backwards."""
    from synaptic_s3.cli import main as cli
    from synaptic_s3.memory import ChatMessageHistory

    sid = run(capsys, "create", "--store", store)[1].strip()
    contents = [f"m{index}" for index in range(7)]
    for content in contents:
        run(capsys, "append", sid, "--content", content, "--store", store)
    capsys.readouterr()

    async def no_whole_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("show must page, not load the whole history")

    monkeypatch.setattr(ChatMessageHistory, "load", no_whole_load)
    monkeypatch.setattr(cli, "SHOW_PAGE", 3)
    entry = json.loads(run(capsys, "show", sid, "--json", "--store", store)[1])
    assert [m["content"] for m in entry["messages"]] == contents
    for last, expected in ((5, contents[2:]), (7, contents), (9, contents), (0, [])):
        out = run(capsys, "show", sid, "--json", "--last", str(last), "--store", store)[1]
        assert [m["content"] for m in json.loads(out)["messages"]] == expected, last
    code, out, _ = run(capsys, "show", sid, "--store", store)
    assert code == 0
    assert "7 message(s)" in out
    assert all(content in out for content in contents)
