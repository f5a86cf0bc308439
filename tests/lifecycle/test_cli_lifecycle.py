"""``synaptic-s3 prune``, ``orphans``, ``fork`` and ``delete`` of leftovers, on files."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from synaptic_s3 import FileStore, Message, SessionManager
from synaptic_s3.cli.main import main
from tests.lifecycle.aging import age


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SYNAPTIC_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "data"


def url(root: Path) -> str:
    return f"file://{root}"


def setup(root: Path, sessions: int, *, orphan: bool = False) -> list[str]:
    async def work() -> list[str]:
        manager = SessionManager(FileStore(root))
        ids = [await manager.create_session() for _ in range(sessions)]
        for session_id in ids:
            await manager.memory().append(session_id, Message.human("hi"))
        if orphan:
            await manager.store.delete(("sessions",), ids[-1])
        return ids

    return asyncio.run(work())


def test_prune_dry_run_lists_and_deletes_nothing(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    ids = setup(root, 2)
    age(FileStore(root), timedelta(days=40))
    code, out, err = run(capsys, "prune", "--idle", "30d", "--dry-run", "--store", url(root))
    assert code == 0
    assert sorted(out.split()) == sorted(ids)
    assert "would delete 2 session(s) idle for more than 30d" in err
    assert len(run(capsys, "list", "--json", "--store", url(root))[1].split('"id"')) == 3


def test_prune_deletes_idle_sessions_only(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    old = setup(root, 2)
    age(FileStore(root), timedelta(days=40))
    fresh = setup(root, 1)
    code, out, err = run(capsys, "prune", "--idle", "30d", "--store", url(root))
    assert code == 0
    assert sorted(out.split()) == sorted(old)
    assert "deleted 2 session(s)" in err
    code, out, _ = run(capsys, "list", "--json", "--store", url(root))
    assert fresh[0] in out
    assert old[0] not in out


@pytest.mark.parametrize("bad", ["30", "0d", "3y", "-1d", ""])
def test_prune_refuses_a_bad_duration(capsys: pytest.CaptureFixture[str], root: Path,
                                      bad: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["prune", f"--idle={bad}", "--store", url(root)])
    assert caught.value.code == 2
    assert "duration" in capsys.readouterr().err


def test_orphans_dry_run_then_delete(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    ids = setup(root, 2, orphan=True)
    code, _, err = run(capsys, "orphans", "--store", url(root))
    assert code == 0
    assert ids[-1] in err
    assert "1 orphaned object(s) of 1 id(s) (dry run" in err
    code, _, err = run(capsys, "orphans", "--delete", "--store", url(root))
    assert "kept 1 id(s) written in the last 10m" in err  # just written: within the grace
    age(FileStore(root), timedelta(hours=1))
    code, _, err = run(capsys, "orphans", "--delete", "--store", url(root))
    assert code == 0
    assert "deleted those of 1 id(s)" in err
    code, _, err = run(capsys, "orphans", "--store", url(root))
    assert "0 orphaned object(s) of 0 id(s)" in err


def test_delete_removes_a_session_whose_metadata_is_gone(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    ids = setup(root, 1, orphan=True)
    code, _, err = run(capsys, "delete", ids[0], "--store", url(root))
    assert code == 0
    assert "no session" not in err
    assert not (root / "memory" / ids[0]).exists() or not any((root / "memory" / ids[0]).rglob(
        "*.json"))
    code, _, err = run(capsys, "delete", ids[0], "--store", url(root))
    assert code == 1
    assert f"no session {ids[0]}" in err


def test_fork_prints_the_new_session(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    [original] = setup(root, 1)
    code, out, _ = run(capsys, "fork", original, "--messages", "1", "--store", url(root))
    assert code == 0
    fork = out.strip()
    code, out, _ = run(capsys, "show", fork, "--json", "--store", url(root))
    assert '"hi"' in out
    code, _, err = run(capsys, "fork", "missing", "--store", url(root))
    assert code == 1
    assert "session 'missing' not found" in err
    code, _, err = run(capsys, "fork", original, "--checkpoint", "nope", "--store", url(root))
    assert code == 1
    assert "checkpoint 'nope' not found" in err
