"""The ``Store`` contract that every backend implements and the session layer uses.

The session layer never knows which backend it runs on: whatever it needs to be
correct under concurrency (create-if-absent, compare-and-swap, recursive delete,
ordered key listing, copy, listing with sizes and times) is a capability here with
one meaning on every backend. The shared conformance suite in ``tests/conformance``
holds every backend to it.

Validate once, implement primitives: the public methods of :class:`Store` are
concrete and final in spirit. They check names (:mod:`synaptic_s3.core.keys`) and
flags, encode and decode values, and then call a small set of ``_``-prefixed
primitives that take already-validated namespaces and keys and raw bytes. A backend
implements only the primitives; a wrapper (:class:`synaptic_s3.core.wrapper.StoreWrapper`)
forwards every primitive, so an optimisation a backend puts in a primitive (S3's
shared ``DeleteObjects`` batch, its server-side copy) is never lost behind a wrapper.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    NotFoundError,
)
from synaptic_s3.core.keys import Namespace, object_path, validate_key, validate_namespace

JSONValue = Any
"""Any value :func:`json.dumps` accepts without help: dict, list, str, int, float, bool, None."""

DEFAULT_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Item:
    """One stored value and what the backend knows about it.

    ``version`` is an opaque token for :meth:`Store.put` ``if_version`` (on S3, the
    ETag). ``created_at`` is the first write where the backend records it and the
    last write otherwise (see each backend's docs).
    """

    namespace: Namespace
    key: str
    value: JSONValue
    created_at: datetime
    updated_at: datetime
    version: str


@dataclass(frozen=True, slots=True)
class KeyPage:
    """One page of :meth:`Store.list_keys`.

    ``next_after`` is ``None`` when nothing follows; otherwise pass it as ``after`` to
    get the next page (which, on S3, may turn out empty: a full page is not followed
    by a look-ahead request)."""

    keys: list[str]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class RawItem:
    """What a backend's :meth:`Store._get_raw` returns: the stored bytes, undecoded,
    and the metadata :class:`Item` carries."""

    body: bytes
    created_at: datetime
    updated_at: datetime
    version: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored item as a listing sees it (:meth:`Store.iter_entries`): where it is,
    when it was last written (timezone-aware UTC) and its size in bytes, known without
    reading it (on S3, from ListObjectsV2's ``LastModified`` and ``Size``)."""

    namespace: Namespace
    key: str
    updated_at: datetime
    size: int


def encode_value(value: JSONValue, namespace: Namespace, key: str) -> bytes:
    """The object body: the value's compact JSON, UTF-8, readable by any S3 tool."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(
            f"value for {tuple(namespace)!r}/{key!r} is not JSON-serialisable: {exc}"
        ) from exc
    except RecursionError as exc:
        raise InvalidDataError(
            f"value for {tuple(namespace)!r}/{key!r} is nested too deeply to store"
        ) from exc
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates survive json.dumps(ensure_ascii=False)
        raise InvalidDataError(
            f"value for {tuple(namespace)!r}/{key!r} holds text that is not valid Unicode"
        ) from exc


def decode_value(body: bytes, namespace: Namespace, key: str) -> JSONValue:
    """Parse an object body; a body that is not JSON is corrupt data named by its key."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptDataError(f"stored object is not valid JSON: {exc}",
                               namespace=namespace, key=key) from exc
    except RecursionError as exc:
        raise CorruptDataError("stored object is nested too deeply to read",
                               namespace=namespace, key=key) from exc


def _matches(item: Item, query: str) -> bool:
    return query in item.key or query in json.dumps(item.value, ensure_ascii=False)


def _covering(namespaces: Sequence[Namespace]) -> list[Namespace]:
    """The namespaces not inside another one of the list (duplicates dropped): deleting
    ``("a",)`` already deletes ``("a", "b")``, and counting it twice would lie."""
    unique = sorted(set(namespaces))
    kept: list[Namespace] = []
    for ns in unique:  # sorted: a namespace comes right after any prefix of it is kept
        if not any(ns[: len(outer)] == outer for outer in kept):
            kept.append(ns)
    return kept


class Store(ABC):
    """A namespaced key/value store of JSON values.

    A namespace is a non-empty sequence of strings, a key a string, both checked by
    :mod:`synaptic_s3.core.keys` before any I/O. Stores are async context managers;
    ``close()`` releases network clients and is safe to call twice.

    Subclasses implement the ``_``-prefixed primitives only and leave the public
    methods alone (``tests/conformance`` checks that every backend does): whatever a
    public method promises is then kept the same way on every backend and behind
    every wrapper.
    """

    max_concurrency: int = 16
    """How many requests fan-out operations (search, bulk get) keep in flight."""

    # -- the primitives each backend implements ------------------------------------------
    # Names are validated and values encoded before these are called.

    @abstractmethod
    async def _get_raw(self, namespace: Namespace, key: str) -> RawItem | None:
        """The stored bytes and metadata, or ``None`` when nothing is stored there."""

    @abstractmethod
    async def _put_raw(
        self, namespace: Namespace, key: str, body: bytes, *,
        if_version: str | None, if_absent: bool,
    ) -> str:
        """Store ``body`` under the condition given (at most one of the two is set);
        return the new version or raise :class:`ConflictError`, writing nothing."""

    @abstractmethod
    async def _delete(self, namespace: Namespace, key: str) -> None:
        """Remove one item; a missing item is not an error."""

    @abstractmethod
    async def _list_keys(self, namespace: Namespace, after: str | None, limit: int) -> KeyPage:
        """One page of keys directly in ``namespace`` (``limit`` >= 1)."""

    @abstractmethod
    async def _list_namespaces(self, prefix: Namespace) -> list[Namespace]:
        """Sorted namespaces holding an item, under the whole labels of ``prefix``."""

    @abstractmethod
    async def _delete_namespaces(self, namespaces: Sequence[Namespace]) -> int:
        """Delete every item in and under each namespace (none inside another one);
        attempt all even if one fails, then raise the first error; return how many
        items went. Backends may share requests between the namespaces."""

    @abstractmethod
    def _iter_entries(self, prefix: Namespace) -> AsyncIterator[list[Entry]]:
        """Every item in and under ``prefix``, in object-path order, page by page,
        from the listing alone (no per-item reads)."""

    async def _copy(
        self, src_namespace: Namespace, src_key: str, dst_namespace: Namespace, dst_key: str,
        *, if_absent: bool,
    ) -> str:
        """Copy one item's bytes (two addresses that differ). This default reads the
        source and writes it with the store's own conditional put; backends that can
        copy server-side override it."""
        raw = await self._get_raw(src_namespace, src_key)
        if raw is None:
            raise NotFoundError("item", object_path(src_namespace, src_key))
        return await self._put_raw(dst_namespace, dst_key, raw.body,
                                   if_version=None, if_absent=if_absent)

    # -- the public interface: validation, flags and encoding, once --------------------

    async def get(self, namespace: Sequence[str], key: str) -> Item | None:
        """The item at ``namespace``/``key``, or ``None`` when there is none."""
        ns, key = validate_key(namespace, key)
        raw = await self._get_raw(ns, key)
        return None if raw is None else _item(ns, key, raw)

    async def get_raw(self, namespace: Sequence[str], key: str) -> RawItem | None:
        """The stored bytes at ``namespace``/``key``, undecoded, or ``None``: for
        readers with a faster decoder of their own (the message history)."""
        ns, key = validate_key(namespace, key)
        return await self._get_raw(ns, key)

    async def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: JSONValue,
        *,
        if_version: str | None = None,
        if_absent: bool = False,
    ) -> str:
        """Store ``value`` and return its new version token.

        ``if_absent=True`` creates only if nothing is stored there; ``if_version``
        replaces only the exact version read earlier (compare-and-swap). When the
        condition does not hold, :class:`~synaptic_s3.core.errors.ConflictError` is
        raised and nothing is written. Without either, the write is unconditional.
        """
        ns, key = validate_key(namespace, key)
        if if_absent and if_version is not None:
            raise ValueError("if_absent and if_version exclude each other")
        body = encode_value(value, ns, key)
        return await self._put_raw(ns, key, body, if_version=if_version, if_absent=if_absent)

    async def delete(self, namespace: Sequence[str], key: str) -> None:
        """Remove the item; deleting a missing item is not an error."""
        ns, key = validate_key(namespace, key)
        await self._delete(ns, key)

    async def copy(
        self,
        src_namespace: Sequence[str],
        src_key: str,
        dst_namespace: Sequence[str],
        dst_key: str,
        *,
        if_absent: bool = False,
    ) -> str:
        """Copy the item at ``src`` to ``dst`` byte for byte; return the copy's version.

        A missing source raises :class:`NotFoundError`. ``if_absent=True`` copies only
        if nothing is stored at ``dst`` (else :class:`ConflictError`, nothing written).
        On S3 an unconditional copy never moves the bytes through this process
        (``CopyObject``); see :class:`~synaptic_s3.store.s3.S3Store` for ``if_absent``.
        """
        src_ns, src_key = validate_key(src_namespace, src_key)
        dst_ns, dst_key = validate_key(dst_namespace, dst_key)
        if (src_ns, src_key) == (dst_ns, dst_key):
            raw = await self._get_raw(src_ns, src_key)
            if raw is None:
                raise NotFoundError("item", object_path(src_ns, src_key))
            if if_absent:
                raise ConflictError("an item already exists", namespace=dst_ns, key=dst_key)
            return raw.version
        return await self._copy(src_ns, src_key, dst_ns, dst_key, if_absent=if_absent)

    async def list_keys(
        self, namespace: Sequence[str], *, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> KeyPage:
        """Keys directly in ``namespace`` (not sub-namespaces), in ascending code-point
        order, starting after ``after``; at most ``limit`` per page."""
        ns = validate_namespace(namespace)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        return await self._list_keys(ns, after, limit)

    async def list_namespaces(self, prefix: Sequence[str] = ()) -> list[Namespace]:
        """Every namespace holding at least one item and starting with the whole
        labels of ``prefix``, sorted."""
        return await self._list_namespaces(validate_namespace(prefix, allow_empty=True))

    async def delete_namespace(self, namespace: Sequence[str]) -> int:
        """Delete every item in ``namespace`` and its sub-namespaces; return how many.

        Only whole labels match: deleting ``("memory", "abc")`` never touches
        ``("memory", "abcd")``. Safe to run again after an interruption.
        """
        return await self._delete_namespaces([validate_namespace(namespace)])

    async def delete_namespaces(self, namespaces: Sequence[Sequence[str]]) -> int:
        """:meth:`delete_namespace` for several namespaces; return how many items went.

        Every namespace is attempted even if one fails (the first error is raised
        after all have finished). Backends may share requests between them (S3 fills
        one ``DeleteObjects`` batch from several prefixes)."""
        validated = _covering([validate_namespace(namespace) for namespace in namespaces])
        return await self._delete_namespaces(validated) if validated else 0

    async def iter_entries(self, prefix: Sequence[str] = ()) -> AsyncIterator[list[Entry]]:
        """Every item in and under ``prefix`` (whole labels; ``()`` is everything), as
        :class:`Entry` pages (never empty) in object-path order. Made from listings
        only, so it costs what listing the keys costs (on S3, one request per 1,000)."""
        async for page in self._iter_entries(validate_namespace(prefix, allow_empty=True)):
            if page:
                yield page

    async def iter_keys(self, namespace: Sequence[str]) -> AsyncIterator[str]:
        """Every key of ``namespace`` in order, page by page."""
        ns = validate_namespace(namespace)
        after: str | None = None
        while True:
            page = await self._list_keys(ns, after, DEFAULT_PAGE_SIZE)
            for key in page.keys:
                yield key
            if page.next_after is None:
                return
            after = page.next_after

    async def get_many(self, namespace: Sequence[str], keys: Iterable[str]) -> list[Item]:
        """The items at ``keys`` (missing ones skipped), in the order given, fetched with
        at most :attr:`max_concurrency` requests in flight."""
        ns = validate_namespace(namespace)
        key_list = [validate_key(ns, key)[1] for key in keys]
        return await self._get_items(ns, key_list)

    async def _get_items(self, ns: Namespace, keys: list[str]) -> list[Item]:
        from synaptic_s3.core.retry import gather_bounded  # retry builds on this module

        raws = await gather_bounded((self._get_raw(ns, key) for key in keys),
                                    self.max_concurrency)
        return [_item(ns, key, raw) for key, raw in zip(keys, raws, strict=True)
                if raw is not None]

    async def search(
        self,
        namespace: Sequence[str],
        query: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Item]:
        """Items directly in ``namespace``, in key order; with ``query``, only those whose
        key or JSON value contains it (as the Rust crate's stores do)."""
        ns = validate_namespace(namespace)
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        found: list[Item] = []
        skip = offset
        after: str | None = None
        while len(found) < limit:
            page = await self._list_keys(ns, after, DEFAULT_PAGE_SIZE)
            for item in await self._get_items(ns, page.keys):
                if query is not None and not _matches(item, query):
                    continue
                if skip:
                    skip -= 1
                    continue
                found.append(item)
                if len(found) == limit:
                    break
            if page.next_after is None:
                break
            after = page.next_after
        return found

    # -- lifecycle -----------------------------------------------------------------------

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release clients and connections; the default has nothing to release."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _item(ns: Namespace, key: str, raw: RawItem) -> Item:
    return Item(ns, key, decode_value(raw.body, ns, key), raw.created_at, raw.updated_at,
                raw.version)


PUBLIC_METHODS = (
    "get", "get_raw", "put", "delete", "copy", "list_keys", "list_namespaces", "delete_namespace",
    "delete_namespaces", "iter_entries", "iter_keys", "get_many", "search",
)
"""The methods backends and wrappers leave to :class:`Store` (checked by the
conformance suite): they implement the primitives underneath instead."""
