"""FileStore after a process was killed part-way (issue 11): a delete killed between
its rename and its removal left the deleted data in ``.trash-*`` for ever, and a
writer killed before its rename left its (multi-MB) temporary file. Both are now found
and removed (when a store first touches the root, and by the next namespace delete),
while a live process doing the same work is never raced.

Real child processes, stopped at an exact point (they report it on stdout, then wait
for a line on stdin) and killed with SIGKILL: no sleeps, no mocks of the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synaptic_s3 import FileStore

CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    import synaptic_s3.store.file as file_module
    from synaptic_s3 import FileStore

    root, mode = sys.argv[1], sys.argv[2]

    def pausing(original):
        state = {"paused": False}

        def pause(*args, **kwargs):
            if not state["paused"]:
                state["paused"] = True
                print("paused", flush=True)
                sys.stdin.readline()  # killed here, or told to go on
            return original(*args, **kwargs)
        return pause

    store = FileStore(root)
    if mode == "delete":
        file_module._remove_tree = pausing(file_module._remove_tree)
        result = asyncio.run(store.delete_namespace(("memory", "s1")))
    else:
        os.replace = pausing(os.replace)
        result = asyncio.run(store.put(("memory", "s1"), "messages", ["new" * 700_000]))
    print("done", result, flush=True)
    """
)

OLD = ["old"]


class Child:
    """A child process stopped at its pause point."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()

    async def resume(self) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(b"go\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        await self.process.wait()
        return line.decode().strip()


@pytest.fixture
async def paused() -> AsyncIterator[list[Child]]:
    children: list[Child] = []
    yield children
    for child in children:
        if child.process.returncode is None:
            await child.kill()


async def start(root: Path, mode: str, paused: list[Child]) -> Child:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(root), mode,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    child = Child(process)
    paused.append(child)
    assert process.stdout is not None
    assert await process.stdout.readline() == b"paused\n"
    return child


async def seeded(root: Path) -> FileStore:
    store = FileStore(root)
    await store.put(("memory", "s1"), "messages", OLD)
    await store.put(("memory", "s1"), "summary", "x" * 2_000_000)
    await store.put(("memory", "s1", "deeper"), "k", 1)
    await store.put(("memory", "s2"), "messages", ["kept"])
    return store


def trash(root: Path) -> list[str]:
    return sorted(name for name in os.listdir(root) if name.startswith(".trash-"))


def temps(directory: Path) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


async def test_a_killed_delete_leaves_trash_that_the_next_store_removes(
    tmp_path: Path, paused: list[Child]
) -> None:
    await seeded(tmp_path)
    child = await start(tmp_path, "delete", paused)
    await child.kill()
    assert len(trash(tmp_path)) == 1  # the deleted data is still on disk, out of sight

    reopened = FileStore(tmp_path)
    assert await reopened.get(("memory", "s1"), "messages") is None

    assert trash(tmp_path) == []
    kept = await reopened.get(("memory", "s2"), "messages")
    assert kept is not None
    assert kept.value == ["kept"]


async def test_the_next_namespace_delete_removes_what_a_killed_delete_left(
    tmp_path: Path, paused: list[Child]
) -> None:
    store = await seeded(tmp_path)  # opened (and swept) before the kill
    child = await start(tmp_path, "delete", paused)
    await child.kill()
    assert len(trash(tmp_path)) == 1

    assert await store.delete_namespace(("memory", "s2")) == 1  # counts only its own

    assert trash(tmp_path) == []


async def test_a_live_delete_in_another_process_is_left_to_finish(
    tmp_path: Path, paused: list[Child]
) -> None:
    await seeded(tmp_path)
    child = await start(tmp_path, "delete", paused)

    reopened = FileStore(tmp_path)
    assert await reopened.sweep_leftovers() == 0
    assert len(trash(tmp_path)) == 1  # still the live child's

    assert await child.resume() == "done 3"
    assert trash(tmp_path) == []


async def test_a_killed_writer_leaves_a_temp_file_that_the_next_store_removes(
    tmp_path: Path, paused: list[Child]
) -> None:
    await seeded(tmp_path)
    child = await start(tmp_path, "write", paused)
    await child.kill()
    [leftover] = temps(tmp_path / "memory" / "s1")
    assert (tmp_path / "memory" / "s1" / leftover).stat().st_size > 2_000_000

    reopened = FileStore(tmp_path)
    item = await reopened.get(("memory", "s1"), "messages")

    assert item is not None
    assert item.value == OLD  # the killed write never landed
    assert temps(tmp_path / "memory" / "s1") == []


async def test_a_live_writers_temp_file_is_left_alone(
    tmp_path: Path, paused: list[Child]
) -> None:
    await seeded(tmp_path)
    child = await start(tmp_path, "write", paused)

    reopened = FileStore(tmp_path)
    assert await reopened.sweep_leftovers() == 0
    assert len(temps(tmp_path / "memory" / "s1")) == 1

    assert (await child.resume()).startswith("done")
    item = await reopened.get(("memory", "s1"), "messages")
    assert item is not None
    assert item.value == ["new" * 700_000]
    assert temps(tmp_path / "memory" / "s1") == []


async def test_a_killed_delete_is_finished_by_deleting_the_namespace_again(
    tmp_path: Path, paused: list[Child]
) -> None:
    store = await seeded(tmp_path)
    child = await start(tmp_path, "delete", paused)
    await child.kill()

    assert await store.delete_namespace(("memory", "s1")) == 0  # already out of the tree
    assert trash(tmp_path) == []
    assert await store.list_namespaces() == [("memory", "s2")]
