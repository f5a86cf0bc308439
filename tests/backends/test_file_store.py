"""What is specific to FileStore: on-disk layout, atomic writes, many processes on one root."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from synaptic_s3 import ChatMessageHistory, FileStore, Message


async def test_items_are_plain_json_files_in_the_documented_layout(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    await store.put(("memory", "s1"), "messages", [{"role": "human", "content": "hi"}])
    path = tmp_path / "memory" / "s1" / "messages.json"
    assert json.loads(path.read_text()) == [{"role": "human", "content": "hi"}]


async def test_a_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    for i in range(5):
        await store.put(("things",), "k", i)
    assert sorted(os.listdir(tmp_path / "things")) == ["k.json"]


async def test_a_write_that_fails_before_the_rename_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path)
    await store.put(("things",), "k", {"version": 1})

    def crash(*args: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="unplugged"):
        await store.put(("things",), "k", {"version": 2, "padding": "x" * 10_000})
    monkeypatch.undo()
    item = await store.get(("things",), "k")
    assert item is not None
    assert item.value == {"version": 1}
    assert sorted(os.listdir(tmp_path / "things")) == ["k.json"]


async def test_hidden_files_and_lock_files_are_not_items(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    await store.put(("things",), "k", 1)
    (tmp_path / "things" / ".k.json.partial.tmp").write_text("{")
    (tmp_path / "things" / "notes.txt").write_text("hello")
    assert (await store.list_keys(("things",))).keys == ["k"]
    assert await store.list_namespaces() == [("things",)]


async def test_a_corrupt_file_is_reported_with_its_key(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    (tmp_path / "things").mkdir()
    (tmp_path / "things" / "k.json").write_bytes(b"\xff\xfe not json")
    from synaptic_s3 import CorruptDataError

    with pytest.raises(CorruptDataError, match="'k'"):
        await store.get(("things",), "k")


APPENDER = textwrap.dedent(
    """
    import asyncio, sys
    from synaptic_s3 import ChatMessageHistory, FileStore, Message

    async def main(root, worker):
        history = ChatMessageHistory(FileStore(root))
        for i in range(6):
            await history.append("shared", Message.human(f"w{worker}-{i}"))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_appends_from_several_processes_all_land(tmp_path: Path) -> None:
    workers = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", APPENDER, str(tmp_path), str(n))
        for n in range(4)
    ]
    assert await asyncio.gather(*(worker.wait() for worker in workers)) == [0, 0, 0, 0]
    loaded = await ChatMessageHistory(FileStore(tmp_path)).load("shared")
    assert sorted(m.content or "" for m in loaded) == sorted(
        f"w{n}-{i}" for n in range(4) for i in range(6)
    )
    for n in range(4):  # each writer's own messages stay in the order it appended them
        mine = [m.content for m in loaded if (m.content or "").startswith(f"w{n}-")]
        assert mine == [f"w{n}-{i}" for i in range(6)]


async def test_a_store_root_is_created_on_first_write(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    store = FileStore(root)
    assert await store.get(("things",), "k") is None
    await store.put(("things",), "k", 1)
    assert (root / "things" / "k.json").exists()
    assert store.root == root


async def test_messages_survive_a_new_store_instance(tmp_path: Path) -> None:
    await ChatMessageHistory(FileStore(tmp_path)).append("s", Message.human("persisted"))
    loaded = await ChatMessageHistory(FileStore(tmp_path)).load("s")
    assert [m.content for m in loaded] == ["persisted"]
