"""``InMemoryStore``: a process-local store for tests, notebooks and the CLI's ``memory://``.

Values are kept as their JSON encoding, so a caller mutating a dict it stored or
read never changes what is stored (the same isolation S3 gives), and an
unserialisable value fails here exactly as it would on S3.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.core.keys import Namespace, namespace_prefix, object_path, parse_path, path_order
from synaptic_s3.core.store import DEFAULT_PAGE_SIZE, Entry, KeyPage, RawItem, Store


def content_version(body: bytes) -> str:
    """A version token derived from content (like S3's single-part ETag)."""
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


class InMemoryStore(Store):
    """A thread-safe dict of object paths; sorted key order kept for listings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, RawItem] = {}
        self._paths: list[str] = []  # sorted, for ordered prefix listings

    async def _get_raw(self, namespace: Namespace, key: str) -> RawItem | None:
        with self._lock:
            return self._entries.get(object_path(namespace, key))

    async def _put_raw(
        self, namespace: Namespace, key: str, body: bytes, *,
        if_version: str | None, if_absent: bool,
    ) -> str:
        path = object_path(namespace, key)
        now = datetime.now(UTC)
        version = content_version(body)
        with self._lock:
            current = self._entries.get(path)
            if if_absent and current is not None:
                raise ConflictError("an item already exists", namespace=namespace, key=key)
            if if_version is not None and (current is None or current.version != if_version):
                raise ConflictError("the item changed since it was read",
                                    namespace=namespace, key=key)
            if current is None:
                bisect.insort(self._paths, path)
            created = now if current is None else current.created_at
            self._entries[path] = RawItem(body, created, now, version)
        return version

    async def _delete(self, namespace: Namespace, key: str) -> None:
        path = object_path(namespace, key)
        with self._lock:
            if self._entries.pop(path, None) is not None:
                del self._paths[bisect.bisect_left(self._paths, path)]

    def _span(self, prefix: str) -> tuple[int, int]:
        """Where the sorted paths starting with ``prefix`` are (hold the lock)."""
        start = bisect.bisect_left(self._paths, prefix)
        end = start
        while end < len(self._paths) and self._paths[end].startswith(prefix):
            end += 1
        return start, end

    def _paths_under(self, prefix: str) -> list[str]:
        with self._lock:
            start, end = self._span(prefix)
            return self._paths[start:end]

    async def _list_keys(self, namespace: Namespace, after: str | None, limit: int) -> KeyPage:
        keys = []
        for path in self._paths_under(namespace_prefix(namespace)):
            parsed = parse_path(path)
            if parsed is not None and parsed[0] == namespace and (
                after is None or path_order(parsed[1]) > path_order(after)
            ):
                keys.append(parsed[1])
        keys.sort(key=path_order)
        page = keys[:limit]
        return KeyPage(page, page[-1] if len(keys) > limit else None)

    async def _list_namespaces(self, prefix: Namespace) -> list[Namespace]:
        paths = self._paths_under(namespace_prefix(prefix))
        return sorted({parsed[0] for path in paths if (parsed := parse_path(path)) is not None})

    async def _delete_namespaces(self, namespaces: Sequence[Namespace]) -> int:
        deleted = 0
        with self._lock:
            for namespace in namespaces:
                start, end = self._span(namespace_prefix(namespace))
                for path in self._paths[start:end]:
                    del self._entries[path]
                del self._paths[start:end]
                deleted += end - start
        return deleted

    async def _iter_entries(self, prefix: Namespace) -> AsyncIterator[list[Entry]]:
        with self._lock:
            start, end = self._span(namespace_prefix(prefix))
            snapshot = [(path, self._entries[path]) for path in self._paths[start:end]]
        for first in range(0, len(snapshot), DEFAULT_PAGE_SIZE):
            page = []
            for path, raw in snapshot[first : first + DEFAULT_PAGE_SIZE]:
                parsed = parse_path(path)
                if parsed is not None:
                    page.append(Entry(parsed[0], parsed[1], raw.updated_at, len(raw.body)))
            yield page
