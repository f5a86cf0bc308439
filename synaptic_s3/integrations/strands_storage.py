"""``StrandsStorage``: Strands' unified ``Storage`` protocol (bytes under ``/`` keys) over a
synaptic Store, for ``SnapshotSessionManager(session_id, storage=StrandsStorage(manager))``
and anything else in Strands that takes a ``Storage``.

Keys are split on ``/`` (normalised as Strands' own backends do: runs collapsed, ends
stripped, ``..`` and ``\\`` refused) and every segment goes through
:func:`~synaptic_s3.integrations.codec.encode_label`. The snapshot manager's keys,
``session/<S>/...``, land under that session's own prefix, so
``SessionManager.delete_session(S)`` removes its snapshots::

    session/S/scopes/agent/a/snapshots/snapshot_latest.json
      -> memory/S/strands-storage/scopes/agent/a/snapshots/snapshot_latest.json.json
    any/other/key -> strands-storage/any/other/key.json

A value is stored as ``{"key": <the Strands key>, "data": <base64>}``: the original key
is always readable from the object, also for segments too long to keep as they are.
Writes replace the object (the protocol is last-writer-wins); each snapshot id is its
own key, so immutable snapshots never overwrite each other.

``list(prefix)`` lists the namespaces under the prefix's complete segments and filters
by the prefix string. The protocol's methods are async, and Strands awaits them on a
fresh event loop per synchronous agent call, so every store call runs on the process's
sync loop (:func:`~synaptic_s3.integrations.bridge.on_sync_loop`): an ``S3Store`` given
here keeps one client.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import re
from typing import Any

from strands.storage.search.keyword import KeywordSearchStrategy
from strands.storage.storage import StorageSearchResult
from strands.types.exceptions import StorageError as StrandsStorageError

from synaptic_s3.core.errors import CorruptDataError, InvalidKeyError
from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.core.store import Store
from synaptic_s3.integrations.bridge import on_sync_loop
from synaptic_s3.integrations.codec import decode_label, encode_label
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager

LABEL = "strands-storage"
_SESSIONS = "session"


class StrandsKeyError(InvalidKeyError, StrandsStorageError):
    """A key Strands' own backends refuse too (empty, ``..`` segment, backslash)."""


def _segments(key: str, *, prefix: bool = False) -> list[str]:
    if not isinstance(key, str):
        raise StrandsKeyError(f"a storage key is a string, not {type(key).__name__}")
    if "\\" in key:
        raise StrandsKeyError(f"storage key {key!r}: backslashes are not allowed")
    normalized = re.sub(r"/+", "/", key).lstrip("/")
    if not prefix:
        normalized = normalized.rstrip("/")
        if not normalized:
            raise StrandsKeyError("storage key must not be empty")
    parts = [part for part in normalized.split("/") if part]  # a prefix's trailing "/"
    if ".." in parts:
        raise StrandsKeyError(f"storage key {key!r}: '..' segments are not allowed")
    return parts


class StrandsStorage:
    """Strands' ``Storage`` (``write``/``read``/``delete``/``list``/``search``) over
    ``source``, a :class:`SessionManager` or its store."""

    def __init__(self, source: SessionManager | Store) -> None:
        self._store = source.store if isinstance(source, SessionManager) else source

    @property
    def store(self) -> Store:
        return self._store

    # -- addresses ----------------------------------------------------------------------

    @staticmethod
    def _namespace_of(parts: list[str]) -> Namespace:
        """Where the segments ``parts`` (all but the last of a key) live."""
        if len(parts) >= 2 and parts[0] == _SESSIONS:
            return (MEMORY, encode_label(parts[1], keep_valid=True), LABEL,
                    *(encode_label(part) for part in parts[2:]))
        return (LABEL, *(encode_label(part) for part in parts))

    def _address(self, key: str) -> tuple[Namespace, str, str]:
        parts = _segments(key)
        return self._namespace_of(parts[:-1]), encode_label(parts[-1]), "/".join(parts)

    # -- the protocol -------------------------------------------------------------------

    async def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        if not isinstance(data, bytes | bytearray):
            raise StrandsStorageError(f"data must be bytes, not {type(data).__name__}")
        namespace, label, normalized = self._address(key)
        value = {"key": normalized, "data": base64.b64encode(bytes(data)).decode("ascii")}
        await on_sync_loop(self._store.put(namespace, label, value))

    async def read(self, key: str) -> bytes | None:
        namespace, label, _ = self._address(key)
        item = await on_sync_loop(self._store.get(namespace, label))
        if item is None:
            return None
        return self._decode(item.value, namespace, label)[1]

    async def delete(self, key: str) -> None:
        namespace, label, _ = self._address(key)
        await on_sync_loop(self._store.delete(namespace, label))

    async def list(self, query: str = "") -> builtins.list[str]:
        """Every key starting with ``query``, sorted."""
        return await on_sync_loop(self._list(query))

    async def search(self, query: str) -> builtins.list[StorageSearchResult]:
        """Strands' default keyword search over every key (no index here)."""
        return await KeywordSearchStrategy().search(self, query)

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _decode(value: Any, namespace: Namespace, label: str) -> tuple[str, bytes]:
        if not isinstance(value, dict) or not isinstance(value.get("key"), str) or (
                not isinstance(value.get("data"), str)):
            raise CorruptDataError("expected {key, data}", namespace=namespace, key=label)
        try:
            return value["key"], base64.b64decode(value["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CorruptDataError(f"data is not base64: {exc}", namespace=namespace,
                                   key=label) from exc

    async def _list(self, query: str) -> builtins.list[str]:
        parts = _segments(query, prefix=True)
        complete = parts if query.endswith("/") else parts[:-1]
        roots: builtins.list[Namespace]
        if not complete or complete == [_SESSIONS]:  # every session's part (and the rest)
            sessions = [ns[:3] for ns in await self._store.list_namespaces((MEMORY,))
                        if len(ns) >= 3 and ns[2] == LABEL]
            roots = [(LABEL,) if not complete else (LABEL, _SESSIONS), *sessions]
        else:
            roots = [self._namespace_of(complete)]
        namespaces = sorted({ns for root in dict.fromkeys(roots)
                             for ns in await self._store.list_namespaces(root)})
        keys: builtins.list[str] = []
        for namespace in namespaces:
            labels = [label async for label in self._store.iter_keys(namespace)]
            plain = self._plain_keys(namespace, labels)
            if plain is not None:
                keys.extend(plain)
                continue
            items = await gather_bounded((self._store.get(namespace, label) for label in labels),
                                         self._store.max_concurrency)
            keys.extend(self._decode(item.value, namespace, item.key)[0]
                        for item in items if item is not None)
        wanted = "/".join(parts) + ("/" if query.endswith("/") and parts else "")
        return sorted(key for key in keys if key.startswith(wanted))

    @staticmethod
    def _plain_keys(namespace: Namespace, labels: builtins.list[str]) -> builtins.list[str] | None:
        """The Strands keys of ``labels`` in ``namespace`` decoded from the names alone,
        or ``None`` when one of them is a digest (then the objects are read)."""
        if namespace[0] == MEMORY:
            session = decode_label(namespace[1])
            decoded = [session, *(decode_label(part) for part in namespace[3:])]
            head = [_SESSIONS]
        else:
            decoded = [decode_label(part) for part in namespace[1:]]
            head = []
        names = [decode_label(label) for label in labels]
        if any(part is None for part in decoded) or any(name is None for name in names):
            return None
        base = "/".join([*head, *(part for part in decoded if part is not None)])
        return [f"{base}/{name}" if base else str(name) for name in names]
