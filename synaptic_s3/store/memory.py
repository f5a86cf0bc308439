"""``InMemoryStore``: a process-local store for tests, notebooks and the CLI's ``memory://``.

Values are kept as their JSON encoding, so a caller mutating a dict it stored or
read never changes what is stored (the same isolation S3 gives), and an
unserialisable value fails here exactly as it would on S3.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.core.keys import (
    Namespace,
    namespace_prefix,
    object_path,
    parse_path,
    path_order,
    validate_key,
    validate_namespace,
)
from synaptic_s3.core.store import (
    DEFAULT_PAGE_SIZE,
    Item,
    JSONValue,
    KeyPage,
    Store,
    decode_value,
    encode_value,
)


@dataclass(slots=True)
class _Entry:
    body: bytes
    created_at: datetime
    updated_at: datetime
    version: str


def content_version(body: bytes) -> str:
    """A version token derived from content (like S3's single-part ETag)."""
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


class InMemoryStore(Store):
    """A thread-safe dict of object paths; sorted key order kept for listings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._paths: list[str] = []  # sorted, for ordered prefix listings

    async def get(self, namespace: Sequence[str], key: str) -> Item | None:
        ns, key = validate_key(namespace, key)
        with self._lock:
            entry = self._entries.get(object_path(ns, key))
        if entry is None:
            return None
        return Item(ns, key, decode_value(entry.body, ns, key), entry.created_at,
                    entry.updated_at, entry.version)

    async def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: JSONValue,
        *,
        if_version: str | None = None,
        if_absent: bool = False,
    ) -> str:
        ns, key = validate_key(namespace, key)
        if if_absent and if_version is not None:
            raise ValueError("if_absent and if_version exclude each other")
        body = encode_value(value, ns, key)
        path = object_path(ns, key)
        now = datetime.now(UTC)
        version = content_version(body)
        with self._lock:
            current = self._entries.get(path)
            if if_absent and current is not None:
                raise ConflictError("an item already exists", namespace=ns, key=key)
            if if_version is not None and (current is None or current.version != if_version):
                raise ConflictError("the item changed since it was read", namespace=ns, key=key)
            if current is None:
                self._entries[path] = _Entry(body, now, now, version)
                bisect.insort(self._paths, path)
            else:
                current.body, current.updated_at, current.version = body, now, version
        return version

    async def delete(self, namespace: Sequence[str], key: str) -> None:
        ns, key = validate_key(namespace, key)
        path = object_path(ns, key)
        with self._lock:
            if self._entries.pop(path, None) is not None:
                del self._paths[bisect.bisect_left(self._paths, path)]

    def _paths_under(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self._paths, prefix)
        end = start
        while end < len(self._paths) and self._paths[end].startswith(prefix):
            end += 1
        return self._paths[start:end]

    async def list_keys(
        self, namespace: Sequence[str], *, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> KeyPage:
        ns = validate_namespace(namespace)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self._lock:
            paths = self._paths_under(namespace_prefix(ns))
        keys = []
        for path in paths:
            parsed = parse_path(path)
            if parsed is not None and parsed[0] == ns and (
                after is None or path_order(parsed[1]) > path_order(after)
            ):
                keys.append(parsed[1])
        keys.sort(key=path_order)
        page = keys[:limit]
        return KeyPage(page, page[-1] if len(keys) > limit else None)

    async def list_namespaces(self, prefix: Sequence[str] = ()) -> list[Namespace]:
        pre = validate_namespace(prefix, allow_empty=True)
        with self._lock:
            paths = self._paths_under(namespace_prefix(pre))
        found = {parsed[0] for path in paths if (parsed := parse_path(path)) is not None}
        return sorted(found)

    async def delete_namespace(self, namespace: Sequence[str]) -> int:
        ns = validate_namespace(namespace)
        with self._lock:
            doomed = self._paths_under(namespace_prefix(ns))
            for path in doomed:
                del self._entries[path]
            start = bisect.bisect_left(self._paths, namespace_prefix(ns))
            del self._paths[start : start + len(doomed)]
        return len(doomed)
