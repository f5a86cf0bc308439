"""``FileStore``: one JSON file per item under a root directory (``root/<ns...>/<key>.json``).

Durability and concurrency rules, because several processes may share one root:

* every write goes to a temporary file in the same directory, is fsync'ed, then
  renamed over the target (and the directory fsync'ed): a reader sees the old file
  or the new one, never a truncated one, even after a crash;
* conditional writes (create-if-absent, compare-and-swap) hold an exclusive
  ``flock`` on one of 256 lock files in ``root/.locks`` (chosen by hashing the
  path), so check-then-write is atomic across threads, store instances and
  processes on one machine (POSIX only; network filesystems may not honour flock);
* ``delete_namespace`` holds every lock stripe while it renames the namespace's
  directory out of the tree, so each concurrent write lands wholly before it (and is
  deleted) or wholly after it (in a fresh directory), never half-checked across it.
* leftovers of killed processes are found again and removed: a delete renames the
  namespace to ``root/.trash-<id>`` and then empties it, holding an ``flock`` on that
  directory while it works; a writer's temporary file lives only while the writer
  holds its path's lock stripe. So whatever is neither locked nor in use belongs to
  a process that died, and is removed when a store first touches the root
  (:meth:`FileStore.sweep_leftovers`) and, for trash, after every namespace delete;
  a live delete or write in another process is never raced (its locks are held).

The version token is the MD5 of the content, like a single-part S3 ETag.
``created_at`` and ``updated_at`` are both the file's modification time: POSIX
filesystems do not reliably record a creation time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from synaptic_s3.core.errors import ConflictError, StorageUnavailableError
from synaptic_s3.core.keys import (
    SUFFIX,
    Namespace,
    namespace_prefix,
    object_path,
    parse_path,
    path_order,
)
from synaptic_s3.core.store import DEFAULT_PAGE_SIZE, Entry, KeyPage, RawItem, Store
from synaptic_s3.store.memory import content_version

_LOCK_STRIPES = 256
_LOCK_DIR = ".locks"
_TRASH_PREFIX = ".trash-"
_TEMP_SUFFIX = ".tmp"
P = ParamSpec("P")
T = TypeVar("T")


class FileStore(Store):
    """A store of JSON files under ``root``, safe for many processes on one host."""

    max_concurrency = 8

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = Path(root)
        self._swept = False
        self._sweep_guard = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root

    # -- helpers (run in worker threads) ----------------------------------------------

    def _lock_fd(self, stripe: int, *, wait: bool = True) -> int | None:
        """An open descriptor holding the stripe's flock (``None``: busy, not waiting)."""
        lock_dir = self._root / _LOCK_DIR
        lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_dir / f"{stripe:03d}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextmanager
    def _locked(self, path: str) -> Iterator[None]:
        """Hold the stripe lock of one object path."""
        fd = self._lock_fd(_stripe(path))
        assert fd is not None
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    @contextmanager
    def _locked_all(self) -> Iterator[None]:
        """Hold every stripe (always taken in stripe order, so no deadlock): no write
        anywhere can interleave with a namespace delete."""
        fds: list[int] = []
        try:
            for stripe in range(_LOCK_STRIPES):
                fd = self._lock_fd(stripe)
                assert fd is not None
                fds.append(fd)
            yield
        finally:
            for fd in fds:
                os.close(fd)

    def _read(self, path: str) -> tuple[bytes, os.stat_result] | None:
        try:
            with open(self._root / path, "rb") as handle:
                return handle.read(), os.fstat(handle.fileno())
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _write_atomically(self, ns: Namespace, key: str, body: bytes, conditional: bool) -> None:
        target = self._root / object_path(ns, key)
        for _ in range(10):
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}{_TEMP_SUFFIX}"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(body)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except FileNotFoundError:
                # delete_namespace renamed the directory away under us. A conditional
                # write checked a state that no longer exists: it must not land.
                tmp.unlink(missing_ok=True)
                if conditional:
                    raise ConflictError("the namespace was deleted during the write",
                                        namespace=ns, key=key) from None
                continue
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)
            return
        raise StorageUnavailableError(f"could not write {target}: its directory kept vanishing")

    def _get(self, ns: Namespace, key: str) -> RawItem | None:
        found = self._read(object_path(ns, key))
        if found is None:
            return None
        body, stat = found
        moment = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        return RawItem(body, moment, moment, content_version(body))

    def _put(
        self, ns: Namespace, key: str, body: bytes, if_version: str | None, if_absent: bool
    ) -> str:
        path = object_path(ns, key)
        with self._locked(path):
            if if_absent or if_version is not None:
                found = self._read(path)
                if if_absent and found is not None:
                    raise ConflictError("an item already exists", namespace=ns, key=key)
                if if_version is not None and (
                    found is None or content_version(found[0]) != if_version
                ):
                    raise ConflictError("the item changed since it was read",
                                        namespace=ns, key=key)
            self._write_atomically(ns, key, body, if_absent or if_version is not None)
        return content_version(body)

    def _delete_file(self, ns: Namespace, key: str) -> None:
        path = object_path(ns, key)
        with self._locked(path):
            try:
                (self._root / path).unlink()
            except (FileNotFoundError, NotADirectoryError):
                return

    def _list_keys_sync(self, ns: Namespace, after: str | None, limit: int) -> KeyPage:
        directory = self._root / namespace_prefix(ns)
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return KeyPage([], None)
        keys = sorted(
            (
                parsed[1]
                for name in names
                if name.endswith(SUFFIX)
                and (parsed := parse_path(namespace_prefix(ns) + name)) is not None
                and (after is None or path_order(parsed[1]) > path_order(after))
                and (directory / name).is_file()
            ),
            key=path_order,
        )
        page = keys[:limit]
        return KeyPage(page, page[-1] if len(keys) > limit else None)

    def _list_namespaces_sync(self, prefix: Namespace) -> list[Namespace]:
        start = self._root / namespace_prefix(prefix) if prefix else self._root
        found: set[Namespace] = set()
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self._root).as_posix()
            for name in filenames:
                parsed = parse_path(f"{relative}/{name}")
                if parsed is not None:
                    found.add(parsed[0])
                    break
        return sorted(found)

    def _delete_namespace(self, ns: Namespace) -> int:
        deleted = self._delete_tree(ns)
        self._sweep_trash()  # and whatever deletes killed before us left behind
        return deleted

    def _delete_tree(self, ns: Namespace) -> int:
        directory = self._root / namespace_prefix(ns)
        trash = self._root / f"{_TRASH_PREFIX}{uuid.uuid4().hex}"
        with self._locked_all():
            try:
                # The flock follows the directory through the rename: a sweeper in
                # another process sees this trash as in use until we are done.
                trash_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            except (FileNotFoundError, NotADirectoryError):
                return 0
            try:
                fcntl.flock(trash_fd, fcntl.LOCK_EX)
                os.rename(directory, trash)
            except BaseException:
                os.close(trash_fd)
                raise
        try:
            count = sum(
                1
                for _, _, files in os.walk(trash)
                for name in files
                if name.endswith(SUFFIX) and not name.startswith(".")
            )
            _remove_tree(trash)
        finally:
            os.close(trash_fd)
        return count

    # -- leftovers of killed processes ------------------------------------------------

    def _sweep_trash(self) -> int:
        """Remove ``.trash-*`` directories no live delete holds (their deleter died)."""
        try:
            names = [n for n in os.listdir(self._root) if n.startswith(_TRASH_PREFIX)]
        except (FileNotFoundError, NotADirectoryError):
            return 0
        removed = 0
        for name in names:
            try:
                fd = os.open(self._root / name, os.O_RDONLY | os.O_DIRECTORY)
            except (FileNotFoundError, NotADirectoryError):
                continue  # another sweeper got there first
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live delete is still emptying it
                _remove_tree(self._root / name)
                removed += 1
            finally:
                os.close(fd)
        return removed

    def _sweep_temps(self) -> int:
        """Remove temporary files of writers that died: a writer holds its path's lock
        stripe for as long as its temporary file exists, so a temporary file whose
        stripe can be taken at once belongs to nobody."""
        removed = 0
        for dirpath, dirnames, filenames in os.walk(self._root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self._root).as_posix()
            for name in filenames:
                target = _temp_target(name)
                if target is None or relative == ".":
                    continue
                fd = self._lock_fd(_stripe(f"{relative}/{target}"), wait=False)
                if fd is None:
                    continue  # a writer of that stripe is at work: leave it
                try:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(dirpath, name))
                        removed += 1
                finally:
                    os.close(fd)
        return removed

    def _sweep_once(self) -> None:
        with self._sweep_guard:
            if not self._swept:
                self._sweep_trash()
                self._sweep_temps()
                self._swept = True

    async def sweep_leftovers(self) -> int:
        """Remove what killed processes left under the root: half-deleted namespaces
        (``.trash-*``) and temporary files of interrupted writes; return how many.
        Runs by itself the first time a store touches the root; never touches what a
        live process is still working on."""
        removed = await asyncio.to_thread(self._sweep_trash)
        removed += await asyncio.to_thread(self._sweep_temps)
        self._swept = True
        return removed

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking file I/O in a worker thread (after the first-use sweep)."""
        if not self._swept:
            await asyncio.to_thread(self._sweep_once)
        return await asyncio.to_thread(function, *args, **kwargs)

    def _delete_each(self, namespaces: Sequence[Namespace]) -> int:
        deleted = 0
        first_error: BaseException | None = None
        for ns in namespaces:
            try:
                deleted += self._delete_namespace(ns)
            except Exception as exc:  # noqa: BLE001 - every namespace is attempted, then raised
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
        return deleted

    def _entries(self, prefix: Namespace) -> list[Entry]:
        start = self._root / namespace_prefix(prefix) if prefix else self._root
        found: list[tuple[str, Entry]] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self._root).as_posix()
            for name in filenames:
                path = f"{relative}/{name}" if relative != "." else name
                parsed = parse_path(path)
                if parsed is None:
                    continue
                try:
                    stat = os.stat(os.path.join(dirpath, name))
                except (FileNotFoundError, NotADirectoryError):
                    continue  # deleted since the directory was read
                moment = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                found.append((path, Entry(parsed[0], parsed[1], moment, stat.st_size)))
        found.sort(key=lambda pair: pair[0])
        return [entry for _, entry in found]

    # -- the primitives ------------------------------------------------------------------

    async def _get_raw(self, namespace: Namespace, key: str) -> RawItem | None:
        return await self._run(self._get, namespace, key)

    async def _put_raw(
        self, namespace: Namespace, key: str, body: bytes, *,
        if_version: str | None, if_absent: bool,
    ) -> str:
        return await self._run(self._put, namespace, key, body, if_version, if_absent)

    async def _delete(self, namespace: Namespace, key: str) -> None:
        await self._run(self._delete_file, namespace, key)

    async def _list_keys(self, namespace: Namespace, after: str | None, limit: int) -> KeyPage:
        return await self._run(self._list_keys_sync, namespace, after, limit)

    async def _list_namespaces(self, prefix: Namespace) -> list[Namespace]:
        return await self._run(self._list_namespaces_sync, prefix)

    async def _delete_namespaces(self, namespaces: Sequence[Namespace]) -> int:
        return await self._run(self._delete_each, namespaces)

    async def _iter_entries(self, prefix: Namespace) -> AsyncIterator[list[Entry]]:
        entries = await self._run(self._entries, prefix)
        for first in range(0, len(entries), DEFAULT_PAGE_SIZE):
            yield entries[first : first + DEFAULT_PAGE_SIZE]


def _stripe(path: str) -> int:
    return int.from_bytes(hashlib.sha256(path.encode()).digest()[:2]) % _LOCK_STRIPES


def _temp_target(name: str) -> str | None:
    """``".k.json.<32 hex>.tmp"`` (a writer's temporary file) -> ``"k.json"``."""
    if not (name.startswith(".") and name.endswith(_TEMP_SUFFIX)):
        return None
    target, _, token = name[1 : -len(_TEMP_SUFFIX)].rpartition(".")
    if len(token) != 32 or not target.endswith(SUFFIX):
        return None
    try:
        int(token, 16)
    except ValueError:
        return None
    return target


def _remove_tree(path: Path) -> None:
    """``rmtree`` that tolerates another sweeper removing the same files."""
    def ignore_missing(function: Any, target: str, exc: BaseException) -> None:
        if not isinstance(exc, FileNotFoundError):
            raise exc

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=ignore_missing)
    else:
        shutil.rmtree(path, onerror=lambda f, t, info: ignore_missing(f, t, info[1]))


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: the directory entry itself must reach the disk."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)
