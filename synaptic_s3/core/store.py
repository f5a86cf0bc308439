"""The ``Store`` contract that every backend implements and the session layer uses.

The session layer never knows which backend it runs on: whatever it needs to be
correct under concurrency (create-if-absent, compare-and-swap, recursive delete,
ordered key listing) is a capability here with one meaning on every backend. The
shared conformance suite in ``tests/conformance`` holds every backend to it.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from synaptic_s3.core.errors import CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import Namespace, validate_key, validate_namespace

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


class Store(ABC):
    """A namespaced key/value store of JSON values.

    A namespace is a non-empty sequence of strings, a key a string, both checked by
    :mod:`synaptic_s3.core.keys` before any I/O. Stores are async context managers;
    ``close()`` releases network clients and is safe to call twice.
    """

    max_concurrency: int = 16
    """How many requests fan-out operations (search, bulk get) keep in flight."""

    # -- the primitives each backend implements ---------------------------------------

    @abstractmethod
    async def get(self, namespace: Sequence[str], key: str) -> Item | None:
        """The item at ``namespace``/``key``, or ``None`` when there is none."""

    @abstractmethod
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

    @abstractmethod
    async def delete(self, namespace: Sequence[str], key: str) -> None:
        """Remove the item; deleting a missing item is not an error."""

    @abstractmethod
    async def list_keys(
        self, namespace: Sequence[str], *, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> KeyPage:
        """Keys directly in ``namespace`` (not sub-namespaces), in ascending code-point
        order, starting after ``after``; at most ``limit`` per page."""

    @abstractmethod
    async def list_namespaces(self, prefix: Sequence[str] = ()) -> list[Namespace]:
        """Every namespace holding at least one item and starting with the whole
        labels of ``prefix``, sorted."""

    @abstractmethod
    async def delete_namespace(self, namespace: Sequence[str]) -> int:
        """Delete every item in ``namespace`` and its sub-namespaces; return how many.

        Only whole labels match: deleting ``("memory", "abc")`` never touches
        ``("memory", "abcd")``. Safe to run again after an interruption.
        """

    # -- conveniences built on the primitives ------------------------------------------

    async def delete_namespaces(self, namespaces: Sequence[Sequence[str]]) -> int:
        """:meth:`delete_namespace` for several namespaces; return how many items went.

        Every namespace is attempted even if one fails (the first error is raised
        after all have finished). Backends may share requests between them (S3 fills
        one ``DeleteObjects`` batch from several prefixes)."""
        outcomes = await asyncio.gather(
            *(self.delete_namespace(namespace) for namespace in namespaces),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return sum(outcome for outcome in outcomes if isinstance(outcome, int))

    async def iter_keys(self, namespace: Sequence[str]) -> AsyncIterator[str]:
        """Every key of ``namespace`` in order, page by page."""
        after: str | None = None
        while True:
            page = await self.list_keys(namespace, after=after)
            for key in page.keys:
                yield key
            if page.next_after is None:
                return
            after = page.next_after

    async def get_many(self, namespace: Sequence[str], keys: Iterable[str]) -> list[Item]:
        """The items at ``keys`` (missing ones skipped), in the order given, fetched with
        at most :attr:`max_concurrency` requests in flight."""
        ns = validate_namespace(namespace)
        key_list = list(keys)
        for key in key_list:
            validate_key(ns, key)
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def fetch(key: str) -> Item | None:
            async with semaphore:
                return await self.get(ns, key)

        results = await asyncio.gather(*(fetch(key) for key in key_list))
        return [item for item in results if item is not None]

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
            page = await self.list_keys(ns, after=after)
            for item in await self.get_many(ns, page.keys):
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
