"""``synaptic-s3 import`` finishes what it starts: the whole file is validated before
the first write, a re-run completes an interrupted import, and every malformed file is
a message and a non-zero exit, never a traceback or a half-imported session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from synaptic_s3 import FileStore, Message, SessionManager
from synaptic_s3.cli.main import main
from synaptic_s3.cli.transfer import imported_id, prepare_session

FIRST = "0193a6f2-6a1b-7c3d-9e4f-000000000001"
SECOND = "0193a6f2-6a1b-7c3d-9e4f-000000000002"


def entry(session_id: str, *, messages: Any = None, summary: Any = None,
          checkpoints: Any = None) -> dict[str, Any]:
    return {
        "session": {"id": session_id, "created_at": "2024-12-01T00:00:00.000Z"},
        "messages": messages if messages is not None else [
            {"role": "human", "content": f"q{n}", "id": f"{session_id}-{n}"} for n in range(5)],
        "summary": summary,
        "checkpoints": checkpoints if checkpoints is not None else [
            {"id": "0000000000000001-0000", "state": {"step": 1}}],
    }


def export(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"format": "synaptic-s3.sessions", "version": 1, "sessions": list(entries)}


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SYNAPTIC_STORE_URL", raising=False)
    return tmp_path / "data"


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--store", f"file://{data}"])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document, ensure_ascii=True), encoding="utf-8")
    return path


def stored_files(data: Path) -> list[str]:
    return sorted(str(p.relative_to(data)) for p in data.rglob("*.json")) if data.exists() else []


def messages_of(data: Path, session_id: str) -> list[str]:
    loaded = asyncio.run(SessionManager(FileStore(data)).memory().load(session_id))
    return [m.content or "" for m in loaded]


@pytest.mark.parametrize(("bad", "said"), [
    ({"checkpoints": [{"id": "a/b", "state": {}}]}, "checkpoints[0]"),
    ({"summary": "\ud800"}, "not valid Unicode"),
    ({"messages": 5}, "must be a list"),
    ({"checkpoints": {"id": "x"}}, "must be a list"),
    ({"summary": 7}, "summary"),
    ({"messages": [{"role": "human", "content": "a", "id": "x"},
                   {"role": "human", "content": "b", "id": "x"}]}, "share an id"),
    ({"messages": [{"role": "wizard", "content": "a"}]}, "messages[0]"),
    ({"checkpoints": [{"id": "c"}]}, "state"),
])
def test_a_bad_second_session_writes_nothing_at_all(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, bad: dict[str, Any],
    said: str,
) -> None:
    document = export(entry(FIRST), entry(SECOND, **bad))
    code, _, err = run(capsys, data, "import", str(write(tmp_path, document)))
    assert code != 0
    assert said in err
    assert "nothing was imported" in err
    assert "Traceback" not in err
    assert stored_files(data) == []


def test_the_same_session_twice_in_a_file_is_refused(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, data, "import", str(write(tmp_path, export(entry(FIRST),
                                                                          entry(FIRST)))))
    assert code != 0
    assert "same session id twice" in err
    assert stored_files(data) == []


@pytest.mark.parametrize(("content", "said"), [
    (b"\xff\xfe not utf-8", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"{", "not valid JSON"),
])
def test_malformed_files_are_a_message(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = run(capsys, data, "import", str(path))
    assert code != 0
    assert said in err
    assert "Traceback" not in err


def test_a_directory_is_a_message(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, data, "import", str(tmp_path))
    assert code != 0
    assert "is a directory" in err


def test_a_rerun_finishes_an_interrupted_import(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    """An import killed after its first messages: no metadata yet, so the session is
    not listed; the re-run appends the rest once and writes the metadata last."""
    document = export(entry(FIRST))
    first_two = [Message.from_dict(m) for m in document["sessions"][0]["messages"][:2]]
    asyncio.run(SessionManager(FileStore(data)).memory().append_many(FIRST, first_two))
    assert json.loads(run(capsys, data, "list", "--json")[1]) == []

    code, out, _ = run(capsys, data, "import", str(write(tmp_path, document)))

    assert code == 0
    assert out.split() == [FIRST]
    assert messages_of(data, FIRST) == [f"q{n}" for n in range(5)]
    assert [s["id"] for s in json.loads(run(capsys, data, "list", "--json")[1])] == [FIRST]


def test_importing_the_same_file_twice_changes_nothing(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, export(entry(FIRST, summary="s")))
    assert run(capsys, data, "import", str(path))[0] == 0
    before = {name: (data / name).read_bytes() for name in stored_files(data)}
    assert run(capsys, data, "import", str(path))[0] == 0
    assert {name: (data / name).read_bytes() for name in stored_files(data)} == before


def test_a_session_holding_other_messages_is_a_conflict(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    asyncio.run(SessionManager(FileStore(data)).memory().append(FIRST, Message.human("mine")))
    code, _, err = run(capsys, data, "import", str(write(tmp_path, export(entry(FIRST)))))
    assert code == 1
    assert "other messages" in err
    assert messages_of(data, FIRST) == ["mine"]


def test_new_ids_reruns_finish_the_same_new_session(
    capsys: pytest.CaptureFixture[str], data: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, export(entry(FIRST)))
    code, out, _ = run(capsys, data, "import", str(path), "--new-ids")
    assert code == 0
    new = out.split()[-1]
    assert new != FIRST
    assert run(capsys, data, "import", str(path), "--new-ids")[1].split()[-1] == new
    assert len(json.loads(run(capsys, data, "list", "--json")[1])) == 1
    assert messages_of(data, new) == [f"q{n}" for n in range(5)]


def test_the_derived_id_is_a_uuid7_stable_for_a_session() -> None:
    info = prepare_session(entry(FIRST), "s").info
    assert imported_id(info) == imported_id(info)
    assert imported_id(info)[14] == "7"
