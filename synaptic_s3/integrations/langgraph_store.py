"""``SynapticStore``: LangGraph's ``BaseStore`` (long-term memory) over a synaptic Store.

LangGraph namespace ``("users", "alice/x")`` and key ``k`` live at
``("langgraph-store", "users", "!alice!2Fx") / k`` (``langgraph-store/users/!alice!2Fx/k.json``):
every label and key goes through
:func:`~synaptic_s3.integrations.codec.encode_label`, so a ``/`` in a label never
opens a level, and the core store's whole-label prefixes carry over: a search
under ``("tenant", "acme")`` never sees ``("tenant", "acme-corp")``.

An object is ``{"namespace", "key", "value", "created_at", "updated_at"}``: the
original labels are kept (labels too long for a key are stored as digests) and
``created_at`` survives updates (a put reads the item and writes it back with
compare-and-swap, so concurrent writers never lose it).

Behaviour follows LangGraph's ``InMemoryStore`` (checked by a differential test):
in a batch, reads see the state before the batch's writes and the last write to
a key wins; search filters support exact values, nested objects and ``$eq``,
``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``; results come in namespace order
(sorted by labels), then key order. Differences: there is no vector index (a
``query`` is ignored, as in LangGraph stores built without ``index``), no TTL, and
``list_namespaces`` lists only namespaces that hold items (``InMemoryStore`` also
lists namespaces that were emptied, or only read).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Coroutine, Iterable, Sequence
from datetime import UTC, datetime
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
)

from synaptic_s3.core import store as core
from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    InvalidKeyError,
)
from synaptic_s3.core.keys import MAX_DEPTH, Namespace, validate_namespace
from synaptic_s3.integrations.bridge import gather_limited, run_sync
from synaptic_s3.integrations.codec import decode_label, encode_label

DEFAULT_ROOT = "langgraph-store"
_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


def _check_labels(labels: Sequence[str], *, for_write: bool = False) -> tuple[str, ...]:
    """LangGraph's own label rules, for ops handed straight to ``batch``."""
    found = tuple(labels)
    for label in found:
        if not isinstance(label, str) or not label or "." in label or "\x00" in label:
            raise InvalidKeyError(
                f"namespace label {label!r} must be a non-empty string without '.' or NUL",
                namespace=None,
            )
    if for_write and (not found or found[0] == "langgraph"):
        raise InvalidKeyError(f"cannot write to namespace {found!r} (empty, or under 'langgraph')")
    return found


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


class SynapticStore(BaseStore):
    """LangGraph long-term memory in a synaptic :class:`~synaptic_s3.core.store.Store`.

    ``abatch`` runs on the caller's event loop, ``batch`` (and so ``get``, ``put``,
    ``search``...) on the shared sync loop of :mod:`synaptic_s3.integrations.bridge`.
    """

    def __init__(self, store: core.Store, *, root: str = DEFAULT_ROOT,
                 max_attempts: int = 16) -> None:
        validate_namespace((root,))
        if encode_label(root) != root:
            raise InvalidKeyError(f"root {root!r} must be a plain label ([A-Za-z0-9_.-])")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._store = store
        self._root = root
        self._max_attempts = max_attempts

    @property
    def store(self) -> core.Store:
        return self._store

    # -- addresses -------------------------------------------------------------------------

    def _namespace(self, labels: Sequence[str]) -> Namespace:
        if len(labels) >= MAX_DEPTH:
            raise InvalidKeyError(f"a namespace has at most {MAX_DEPTH - 1} labels here",
                                  namespace=tuple(labels))
        return (self._root, *(encode_label(label) for label in labels))

    async def _labels(self, namespace: Namespace) -> tuple[str, ...] | None:
        """The LangGraph labels of a stored namespace; digests are resolved by reading
        one of its items (``None`` if it emptied meanwhile)."""
        decoded = [decode_label(part) for part in namespace[1:]]
        if all(label is not None for label in decoded):
            return tuple(label for label in decoded if label is not None)
        page = await self._store.list_keys(namespace, limit=1)
        for item in await self._store.get_many(namespace, page.keys):
            return self._item(item).namespace
        return None

    @staticmethod
    def _item(item: core.Item) -> Item:
        value = item.value
        try:
            return Item(
                namespace=tuple(value["namespace"]),
                key=value["key"],
                value=value["value"],
                created_at=datetime.fromisoformat(value["created_at"]),
                updated_at=datetime.fromisoformat(value["updated_at"]),
            )
        except (TypeError, KeyError, ValueError) as exc:
            raise CorruptDataError(f"not a LangGraph store item: {exc!r}",
                                   namespace=item.namespace, key=item.key) from exc

    # -- operations ------------------------------------------------------------------------

    async def _get(self, op: GetOp) -> Item | None:
        labels = _check_labels(op.namespace)
        found = await self._store.get(self._namespace(labels), encode_label(op.key))
        return None if found is None else self._item(found)

    async def _put(self, op: PutOp) -> None:
        labels = _check_labels(op.namespace, for_write=op.value is not None)
        namespace, key = self._namespace(labels), encode_label(op.key)
        if op.value is None:
            await self._store.delete(namespace, key)
            return
        value = dict(op.value)
        for attempt in range(self._max_attempts):
            current = await self._store.get(namespace, key)
            now = datetime.now(UTC).isoformat()
            created = now
            if current is not None and isinstance(current.value, dict):
                # An object of another shape is simply replaced, as the caller asked.
                created = str(current.value.get("created_at", now))
            body = {"namespace": list(labels), "key": op.key, "value": value,
                    "created_at": created, "updated_at": now}
            try:
                await self._store.put(
                    namespace, key, body,
                    if_absent=current is None,
                    if_version=None if current is None else current.version,
                )
                return
            except ConflictError:
                await asyncio.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))
        raise ConflictError(f"put kept losing to concurrent writers ({self._max_attempts} "
                            "attempts)", namespace=namespace, key=key)

    async def _stored_namespaces(self, labels: Sequence[str]) -> list[tuple[tuple[str, ...],
                                                                               Namespace]]:
        """``(labels, namespace)`` of every namespace holding items under ``labels``,
        sorted by labels."""
        namespaces = await self._store.list_namespaces(self._namespace(labels))
        decoded = await gather_limited((self._labels(ns) for ns in namespaces),
                                       self._store.max_concurrency)
        return sorted((found, ns) for found, ns in zip(decoded, namespaces, strict=True)
                      if found is not None)

    async def _search(self, op: SearchOp) -> list[SearchItem]:
        labels = _check_labels(op.namespace_prefix)
        if op.limit < 0 or op.offset < 0:
            raise InvalidDataError("search limit and offset must not be negative")
        wanted = op.offset + op.limit
        found: list[Item] = []
        for _, namespace in await self._stored_namespaces(labels):
            async for item in self._items(namespace):
                if matches(item.value, op.filter):
                    found.append(item)
                    if len(found) >= wanted:
                        break
            if len(found) >= wanted:
                break
        return [
            SearchItem(namespace=item.namespace, key=item.key, value=item.value,
                       created_at=item.created_at, updated_at=item.updated_at)
            for item in found[op.offset:wanted]
        ]

    async def _items(self, namespace: Namespace) -> AsyncIterator[Item]:
        after: str | None = None
        while True:
            page = await self._store.list_keys(namespace, after=after)
            for item in await self._store.get_many(namespace, page.keys):
                yield self._item(item)
            if page.next_after is None:
                return
            after = page.next_after

    async def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conditions = tuple(op.match_conditions or ())
        head: list[str] = []
        for condition in conditions:
            _check_labels(condition.path)
        for condition in conditions:  # the literal start of a prefix narrows the listing
            if condition.match_type == "prefix":
                for label in condition.path:
                    if label == "*":
                        break
                    head.append(label)
                break
        found = [
            labels for labels, _ in await self._stored_namespaces(head)
            if all(_namespace_matches(condition, labels) for condition in conditions)
        ]
        if op.max_depth is not None:
            found = sorted({labels[: op.max_depth] for labels in found})
        return found[op.offset : op.offset + op.limit]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Reads first (concurrently, bounded), then the writes, the last per key."""
        ops = list(ops)
        results: list[Result] = [None] * len(ops)
        reads: list[tuple[int, Coroutine[Any, Any, Result]]] = []
        writes: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for index, op in enumerate(ops):
            if isinstance(op, GetOp):
                reads.append((index, self._get(op)))
            elif isinstance(op, SearchOp):
                reads.append((index, self._search(op)))
            elif isinstance(op, ListNamespacesOp):
                reads.append((index, self._list_namespaces(op)))
            elif isinstance(op, PutOp):
                writes[(tuple(op.namespace), op.key)] = op
            else:
                for _, pending in reads:
                    pending.close()
                raise InvalidDataError(f"unknown store operation {type(op).__name__}")
        limit = self._store.max_concurrency
        for (index, _), result in zip(
            reads, await gather_limited((c for _, c in reads), limit), strict=True
        ):
            results[index] = result
        await gather_limited((self._put(op) for op in writes.values()), limit)
        return results

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return run_sync(self.abatch(list(ops)))
