"""``SynapticStore``: LangGraph's ``BaseStore`` (long-term memory) over a synaptic Store.

LangGraph namespace ``("users", "alice/x")`` and key ``k`` live at
``("langgraph-store", "users", "!alice!2Fx") / k`` (``langgraph-store/users/!alice!2Fx/k.json``):
every label and key goes through
:func:`~synaptic_s3.integrations.codec.encode_label`, so a ``/`` in a label never
opens a level, and the core store's whole-label prefixes carry over: a search
under ``("tenant", "acme")`` never sees ``("tenant", "acme-corp")``.

An object is ``{"namespace", "key", "value", "created_at", "updated_at"}`` plus,
for an item with a TTL, ``"ttl"`` (minutes) and ``"expires_at"``: the original
labels are kept (labels too long for a key are stored as digests) and
``created_at`` survives updates (a put reads the item and writes it back with
compare-and-swap through :func:`~synaptic_s3.core.retry.update_with_retry`, so
concurrent writers never lose it).

Behaviour follows LangGraph's ``InMemoryStore`` (checked by a differential test):
in a batch, reads see the state before the batch's writes and the last write to
a key wins; ops handed straight to ``batch`` may write under the reserved root
label ``"langgraph"`` and to the empty namespace, as ``InMemoryStore`` allows
(the public ``put`` refuses both, in ``BaseStore``); labels are checked with
LangGraph's ``validate_op_namespace``. Search filters support exact values, nested
objects and ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``; results come in
namespace order (sorted by labels), then key order. There is no vector index (a
``query`` is ignored, as in LangGraph stores built without ``index``), and
``list_namespaces`` lists only namespaces that hold live items.

TTL (``supports_ttl``): ``put(..., ttl=minutes)`` (or ``TTLConfig.default_ttl``)
sets ``expires_at``; an expired item is invisible to get, search and
list_namespaces at once, and :meth:`SynapticStore.sweep_ttl` (or the sweeper
started by :meth:`SynapticStore.start_ttl_sweeper`) deletes it. A read with
``refresh_ttl`` (default: ``TTLConfig.refresh_on_read``, else true) pushes
``expires_at`` to now + ttl; to spare a PUT per read, a refresh that would move it
by less than ``min(60 s, 1% of the ttl)`` is skipped. Every item with a TTL also has
a marker at ``("langgraph-store.ttl", <labels...>) / <key>``, written BEFORE the
item, so the sweeper visits only items that may expire and ``list_namespaces``
checks liveness only in namespaces that hold such items.

Concurrent identical reads (the same get, the same namespace listing, the same
page of a namespace) share one request (:class:`~synaptic_s3.integrations.inflight.InFlight`),
never across a completed write.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)

from synaptic_s3.core import store as core
from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    InvalidKeyError,
    SynapticError,
)
from synaptic_s3.core.keys import MAX_DEPTH, Namespace, validate_namespace
from synaptic_s3.core.retry import Edit, gather_bounded, update_with_retry
from synaptic_s3.integrations.bridge import run_sync, submit
from synaptic_s3.integrations.codec import decode_label, encode_label
from synaptic_s3.integrations.inflight import InFlight

DEFAULT_ROOT = "langgraph-store"
TTL_SUFFIX = ".ttl"
"""The TTL markers of root ``R`` live under root ``R + ".ttl"``."""
REFRESH_CAP_SECONDS = 60.0
REFRESH_FRACTION = 0.01
_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
_LOG = logging.getLogger(__name__)


def _compare(value: Any, expected: Any) -> bool:
    """One filter clause, as LangGraph's ``InMemoryStore`` evaluates it (JSONB-like)."""
    if isinstance(expected, dict):
        if any(name.startswith("$") for name in expected):
            return all(_apply(value, name, operand) for name, operand in expected.items())
        return isinstance(value, dict) and all(
            _compare(value.get(name), inner) for name, inner in expected.items()
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(expected)
            and all(_compare(a, b) for a, b in zip(value, expected, strict=True))
        )
    return bool(value == expected)


def _apply(value: Any, operator: str, operand: Any) -> bool:
    if operator == "$eq":
        return bool(value == operand)
    if operator == "$ne":
        return bool(value != operand)
    if operator not in _OPERATORS:
        raise InvalidDataError(f"unsupported filter operator {operator!r}")
    try:
        left, right = float(value), float(operand)
    except (TypeError, ValueError) as exc:
        raise InvalidDataError(f"{operator} compares numbers, not {value!r} and {operand!r}"
                               ) from exc
    return {"$gt": left > right, "$gte": left >= right,
            "$lt": left < right, "$lte": left <= right}[operator]


def matches(value: dict[str, Any], filter: dict[str, Any] | None) -> bool:
    """Whether an item's value passes a LangGraph search ``filter``."""
    return not filter or all(_compare(value.get(name), exp) for name, exp in filter.items())


def _namespace_matches(condition: MatchCondition, labels: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(labels) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(labels, path, strict=False)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(labels), reversed(path), strict=False)
    else:
        raise InvalidDataError(f"unsupported match type {condition.match_type!r}")
    return all(want == "*" or have == want for have, want in pairs)


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored LangGraph item with what its object says about expiry."""

    item: Item
    raw: core.Item
    ttl: float | None
    expires_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


class SynapticStore(BaseStore):
    """LangGraph long-term memory in a synaptic :class:`~synaptic_s3.core.store.Store`.

    ``abatch`` runs on the caller's event loop, ``batch`` (and so ``get``, ``put``,
    ``search``...) on the shared sync loop of :mod:`synaptic_s3.integrations.bridge`.
    ``ttl`` is LangGraph's ``TTLConfig`` (``default_ttl`` minutes, ``refresh_on_read``,
    ``sweep_interval_minutes``); ``clock`` (an aware ``datetime`` factory) exists so
    tests can move time without sleeping.
    """

    supports_ttl = True

    def __init__(self, store: core.Store, *, root: str = DEFAULT_ROOT,
                 ttl: TTLConfig | None = None, max_attempts: int = 16,
                 clock: Callable[[], datetime] | None = None) -> None:
        validate_namespace((root,))
        if encode_label(root) != root or root.endswith(TTL_SUFFIX):
            raise InvalidKeyError(f"root {root!r} must be a plain label ([A-Za-z0-9_.-]) "
                                  f"not ending in {TTL_SUFFIX!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._store = store
        self._root = root
        self._ttl_root = root + TTL_SUFFIX
        self._max_attempts = max_attempts
        self._clock = clock or (lambda: datetime.now(UTC))
        self._inflight = InFlight()
        self._sweeper: concurrent.futures.Future[None] | asyncio.Task[None] | None = None
        self.ttl_config = ttl

    @property
    def store(self) -> core.Store:
        return self._store

    # -- addresses -------------------------------------------------------------------------

    def _namespace(self, labels: Sequence[str], root: str | None = None) -> Namespace:
        if len(labels) >= MAX_DEPTH:
            raise InvalidKeyError(f"a namespace has at most {MAX_DEPTH - 1} labels here",
                                  namespace=tuple(labels))
        return (root or self._root, *(encode_label(label) for label in labels))

    async def _labels(self, namespace: Namespace) -> tuple[str, ...] | None:
        """The LangGraph labels of a stored namespace; digests are resolved by reading
        one of its items (``None`` if it emptied meanwhile)."""
        decoded = [decode_label(part) for part in namespace[1:]]
        if all(label is not None for label in decoded):
            return tuple(label for label in decoded if label is not None)
        page = await self._store.list_keys(namespace, limit=1)
        for item in await self._store.get_many(namespace, page.keys):
            return self._parse(item).item.namespace
        return None

    @staticmethod
    def _parse(raw: core.Item) -> _Stored:
        value = raw.value
        try:
            item = Item(
                namespace=tuple(value["namespace"]),
                key=value["key"],
                value=value["value"],
                created_at=datetime.fromisoformat(value["created_at"]),
                updated_at=datetime.fromisoformat(value["updated_at"]),
            )
            ttl, expires = value.get("ttl"), value.get("expires_at")
            return _Stored(item, raw, None if ttl is None else float(ttl),
                           None if expires is None else datetime.fromisoformat(expires))
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise CorruptDataError(f"not a LangGraph store item: {exc!r}",
                                   namespace=raw.namespace, key=raw.key) from exc

    def _now(self) -> datetime:
        return self._clock()

    # -- shared reads ----------------------------------------------------------------------

    def _shared(self, key: tuple[Any, ...], compute: Callable[[], Awaitable[Any]]) -> Any:
        return self._inflight.run(key, compute)

    async def _read(self, namespace: Namespace, key: str) -> core.Item | None:
        found: core.Item | None = await self._shared(
            ("get", namespace, key), lambda: self._store.get(namespace, key))
        return found

    async def _page(self, namespace: Namespace, after: str | None
                    ) -> tuple[list[core.Item], str | None]:
        async def compute() -> tuple[list[core.Item], str | None]:
            page = await self._store.list_keys(namespace, after=after)
            return await self._store.get_many(namespace, page.keys), page.next_after

        found: tuple[list[core.Item], str | None] = await self._shared(
            ("page", namespace, after), compute)
        return found

    async def _stored_namespaces(self, labels: Sequence[str], root: str | None = None
                                 ) -> list[tuple[tuple[str, ...], Namespace]]:
        """``(labels, namespace)`` of every namespace holding items under ``labels``,
        sorted by labels."""
        prefix = self._namespace(labels, root)

        async def compute() -> list[tuple[tuple[str, ...], Namespace]]:
            namespaces = await self._store.list_namespaces(prefix)
            if root is not None:  # markers: their labels decode, digests never need reading
                return [(tuple(decode_label(p) or p for p in ns[1:]), ns) for ns in namespaces]
            decoded = await gather_bounded((self._labels(ns) for ns in namespaces),
                                           self._store.max_concurrency)
            return sorted((found, ns) for found, ns in zip(decoded, namespaces, strict=True)
                          if found is not None)

        found: list[tuple[tuple[str, ...], Namespace]] = await self._shared(
            ("namespaces", prefix), compute)
        return found

    # -- TTL -------------------------------------------------------------------------------

    async def _refresh(self, stored: _Stored, now: datetime) -> None:
        """Push ``expires_at`` to now + ttl (skipped when it would barely move); a
        conflict means a newer write set its own expiry, so it is not retried."""
        if stored.ttl is None:
            return
        expires = now + timedelta(minutes=stored.ttl)
        slack = min(REFRESH_CAP_SECONDS, stored.ttl * 60 * REFRESH_FRACTION)
        if stored.expires_at is not None and (expires - stored.expires_at).total_seconds() < slack:
            return
        raw = stored.raw

        async def write() -> None:
            try:
                await self._store.put(raw.namespace, raw.key,
                                      {**raw.value, "expires_at": expires.isoformat()},
                                      if_version=raw.version)
            except ConflictError:
                return
            self._inflight.wrote()

        await self._shared(("refresh", raw.namespace, raw.key, raw.version), write)

    async def _mark(self, labels: Sequence[str], key: str) -> None:
        """The TTL marker of an item: written before the item, so that no expiring
        item exists without one (a process may die between the two writes)."""
        await self._store.put(self._namespace(labels, self._ttl_root), encode_label(key),
                              {"namespace": list(labels), "key": key})

    async def _sweep_marker(self, marker_namespace: Namespace, marker: str, now: datetime
                            ) -> int:
        namespace = (self._root, *marker_namespace[1:])
        raw = await self._store.get(namespace, marker)
        stored = None if raw is None else self._parse(raw)
        if stored is not None and stored.expires_at is not None and stored.live(now):
            return 0
        removed = 0
        if stored is not None and stored.expires_at is not None:
            await self._store.delete(namespace, marker)
            removed = 1
        await self._store.delete(marker_namespace, marker)  # last: a retry finds it again
        return removed

    async def asweep_ttl(self) -> int:
        """Delete every expired item (and markers of items that no longer expire);
        return how many items were deleted. Safe to run from several processes."""
        now = self._now()
        removed = 0
        for marker_namespace in await self._store.list_namespaces((self._ttl_root,)):
            async for keys in _pages(self._store, marker_namespace):
                counts = await gather_bounded(
                    (self._sweep_marker(marker_namespace, key, now) for key in keys),
                    self._store.max_concurrency)
                removed += sum(counts)
        self._inflight.wrote()
        return removed

    def sweep_ttl(self) -> int:
        """:meth:`asweep_ttl` from synchronous code."""
        return run_sync(self.asweep_ttl())

    def _interval(self, minutes: float | None) -> float:
        if minutes is None and self.ttl_config is not None:
            minutes = self.ttl_config.get("sweep_interval_minutes")
        if minutes is None or minutes <= 0:
            raise InvalidDataError("a sweeper needs sweep_interval_minutes > 0 "
                                   "(argument or TTLConfig)")
        return float(minutes) * 60

    async def _sweep_forever(self, seconds: float) -> None:
        while True:
            try:
                await self.asweep_ttl()
            except SynapticError:
                _LOG.warning("TTL sweep failed; retrying in %.0f s", seconds, exc_info=True)
            await asyncio.sleep(seconds)

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None
                          ) -> concurrent.futures.Future[None]:
        """Sweep now and every ``sweep_interval_minutes`` (default: the TTLConfig's) on
        the shared sync loop, until :meth:`stop_ttl_sweeper`. For an ``S3Store`` also
        used from your own event loop, use :meth:`astart_ttl_sweeper` there instead."""
        seconds = self._interval(sweep_interval_minutes)
        self.stop_ttl_sweeper()
        future = submit(self._sweep_forever(seconds))
        self._sweeper = future
        return future

    async def astart_ttl_sweeper(self, sweep_interval_minutes: float | None = None
                                 ) -> asyncio.Task[None]:
        """:meth:`start_ttl_sweeper` as a task on the running event loop."""
        seconds = self._interval(sweep_interval_minutes)
        self.stop_ttl_sweeper()
        task = asyncio.get_running_loop().create_task(self._sweep_forever(seconds))
        self._sweeper = task
        return task

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper (if any); ``True`` once it has stopped (a task on an event
        loop stops at its next step: ``True`` means the cancellation was requested)."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is None:
            return True
        sweeper.cancel()
        if isinstance(sweeper, concurrent.futures.Future):
            concurrent.futures.wait([sweeper], timeout=timeout)
        return sweeper.done() or isinstance(sweeper, asyncio.Task)

    # -- operations ------------------------------------------------------------------------

    async def _get(self, op: GetOp) -> Item | None:
        raw = await self._read(self._namespace(op.namespace), encode_label(op.key))
        if raw is None:
            return None
        stored, now = self._parse(raw), self._now()
        if not stored.live(now):
            return None
        if op.refresh_ttl:
            await self._refresh(stored, now)
        return stored.item

    async def _put(self, op: PutOp) -> None:
        labels = tuple(op.namespace)
        namespace, key = self._namespace(labels), encode_label(op.key)
        if op.value is None:
            await self._store.delete(namespace, key)
            self._inflight.wrote()
            return
        ttl = op.ttl
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)
                                or not ttl > 0):
            raise InvalidDataError(f"ttl must be a positive number of minutes, not {ttl!r}")
        value = dict(op.value)

        async def decide(current: core.Item | None) -> Edit[None]:
            now = self._now()
            created, expiring = now.isoformat(), False
            if current is not None and isinstance(current.value, dict):
                try:
                    stored: _Stored | None = self._parse(current)
                except CorruptDataError:  # another shape: simply replaced, as asked
                    stored = None
                if stored is not None and stored.live(now):
                    created = stored.item.created_at.isoformat()
                    expiring = stored.expires_at is not None
            body: dict[str, Any] = {"namespace": list(labels), "key": op.key, "value": value,
                                    "created_at": created, "updated_at": now.isoformat()}
            if ttl is not None:
                body["ttl"] = ttl
                body["expires_at"] = (now + timedelta(minutes=ttl)).isoformat()
                if not expiring:
                    await self._mark(labels, op.key)
            return Edit(body, None)

        try:
            await update_with_retry(self._store, namespace, key, decide,
                                    max_attempts=self._max_attempts)
        finally:
            self._inflight.wrote()

    async def _search(self, op: SearchOp) -> list[SearchItem]:
        if op.limit < 0 or op.offset < 0:
            raise InvalidDataError("search limit and offset must not be negative")
        wanted, now = op.offset + op.limit, self._now()
        found: list[_Stored] = []
        for _, namespace in await self._stored_namespaces(op.namespace_prefix):
            after: str | None = None
            while len(found) < wanted:
                items, after = await self._page(namespace, after)
                for raw in items:
                    stored = self._parse(raw)
                    if stored.live(now) and matches(stored.item.value, op.filter):
                        found.append(stored)
                        if len(found) >= wanted:
                            break
                if after is None:
                    break
            if len(found) >= wanted:
                break
        window = found[op.offset:wanted]
        if op.refresh_ttl:
            await gather_bounded((self._refresh(s, now) for s in window if s.ttl is not None),
                                 self._store.max_concurrency)
        return [
            SearchItem(namespace=s.item.namespace, key=s.item.key, value=s.item.value,
                       created_at=s.item.created_at, updated_at=s.item.updated_at)
            for s in window
        ]

    async def _holds_live_items(self, namespace: Namespace, now: datetime) -> bool:
        after: str | None = None
        while True:
            items, after = await self._page(namespace, after)
            if any(self._parse(raw).live(now) for raw in items):
                return True
            if after is None:
                return False

    async def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = tuple(op.match_conditions or ())
        head: list[str] = []
        for condition in conditions:  # the literal start of a prefix narrows the listing
            if condition.match_type == "prefix":
                for label in condition.path:
                    if label == "*":
                        break
                    head.append(label)
                break
        candidates = [
            (labels, namespace) for labels, namespace in await self._stored_namespaces(head)
            if all(_namespace_matches(condition, labels) for condition in conditions)
        ]
        # Only namespaces holding TTL markers can hold nothing but expired items.
        expiring = {ns[1:] for _, ns in await self._stored_namespaces(head, self._ttl_root)}
        checked = [namespace for _, namespace in candidates if namespace[1:] in expiring]
        if checked:
            now = self._now()
            alive = await gather_bounded((self._holds_live_items(ns, now) for ns in checked),
                                         self._store.max_concurrency)
            dead = {ns for ns, live in zip(checked, alive, strict=True) if not live}
            candidates = [(labels, ns) for labels, ns in candidates if ns not in dead]
        found = [labels for labels, _ in candidates]
        if op.max_depth is not None:
            found = sorted({labels[: op.max_depth] for labels in found})
        return found[op.offset : op.offset + op.limit]

    async def _read_op(self, op: GetOp | SearchOp | ListNamespacesOp) -> Result:
        if isinstance(op, GetOp):
            return await self._get(op)
        if isinstance(op, SearchOp):
            return await self._search(op)
        return await self._list_namespaces(op)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Reads first (concurrently, bounded), then the writes, the last per key."""
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        reads: list[tuple[int, GetOp | SearchOp | ListNamespacesOp]] = []
        writes: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for index, op in enumerate(ops):
            if not isinstance(op, GetOp | SearchOp | ListNamespacesOp | PutOp):
                raise InvalidDataError(f"unknown store operation {type(op).__name__}")
            validate_op_namespace(op)
            if isinstance(op, PutOp):
                writes[(tuple(op.namespace), op.key)] = op
            else:
                reads.append((index, op))
        limit = self._store.max_concurrency
        answers = await gather_bounded((self._read_op(op) for _, op in reads), limit)
        for (index, _), result in zip(reads, answers, strict=True):
            results[index] = result
        await gather_bounded((self._put(op) for op in writes.values()), limit)
        return results

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return run_sync(self.abatch(list(ops)))


async def _pages(store: core.Store, namespace: Namespace) -> AsyncIterator[list[str]]:
    """The keys of ``namespace``, one listing page at a time."""
    after: str | None = None
    while True:
        page = await store.list_keys(namespace, after=after)
        yield page.keys
        if page.next_after is None:
            return
        after = page.next_after
