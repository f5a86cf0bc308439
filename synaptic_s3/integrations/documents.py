"""``Documents``: compare-and-swap edits of whole JSON objects, with the last version
seen cached, for adapters that keep one framework record per object.

:func:`~synaptic_s3.core.retry.update_with_retry` always reads before it writes. An
adapter that appends to the same transcript or message log every few hundred
milliseconds knows the object's current version from its own last write, so here
the edit starts from the cached value and costs one conditional PUT; if another
writer moved the object meanwhile, the PUT is refused (412), the cache entry is
dropped and the edit runs again on a fresh read. Never a lost update, never a
doubled one (the edit decides on the value it is given).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.core.keys import Namespace, validate_key
from synaptic_s3.core.retry import DEFAULT_BACKOFF, Backoff, Edit
from synaptic_s3.core.store import Item, Store

R = TypeVar("R")
Address = tuple[Namespace, str]


class Documents:
    """Reads and conditional edits over ``store``; ``cache_size`` objects' versions
    are remembered (LRU, per instance)."""

    def __init__(self, store: Store, *, cache_size: int = 256, max_attempts: int = 64,
                 backoff: Backoff = DEFAULT_BACKOFF) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.store = store
        self._cache_size = cache_size
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._cache: OrderedDict[Address, tuple[str | None, Any]] = OrderedDict()

    def _remember(self, address: Address, version: str | None, value: Any) -> None:
        if self._cache_size <= 0:
            return
        self._cache[address] = (version, value)
        self._cache.move_to_end(address)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def exists(self, namespace: Sequence[str], key: str) -> bool:
        """Whether the object exists as far as this instance knows: from the cache,
        else one GET (whose version the next edit then uses)."""
        cached = self._cache.get((tuple(namespace), key))
        if cached is not None:
            return cached[0] is not None
        return await self.read(namespace, key) is not None

    def forget(self, namespace: Sequence[str], key: str) -> None:
        self._cache.pop((tuple(namespace), key), None)

    def forget_under(self, namespace: Sequence[str]) -> None:
        """Drop every cached object in ``namespace`` and below (after a delete)."""
        prefix = tuple(namespace)
        for address in [a for a in self._cache if a[0][:len(prefix)] == prefix]:
            del self._cache[address]

    async def read(self, namespace: Sequence[str], key: str) -> Item | None:
        """One GET; the version read is remembered for the next edit."""
        address = validate_key(namespace, key)
        item = await self.store.get(*address)
        if item is None:
            self._remember(address, None, None)  # known absent: the next edit creates it
        else:
            self._remember(address, item.version, item.value)
        return item

    async def edit(self, namespace: Sequence[str], key: str,
                   decide: Callable[[Any], Edit[R]]) -> R:
        """Run ``decide(current value or None)`` and write its value only if the object
        is still the one it saw; retry on a conflict. ``decide`` must not mutate what it
        is given (it may see the cached value) and may run more than once."""
        address = validate_key(namespace, key)
        for attempt in range(self._max_attempts):
            cached = self._cache.get(address)
            version: str | None
            if cached is not None:
                version, current = cached
            else:
                item = await self.read(*address)
                version = None if item is None else item.version
                current = None if item is None else item.value
            outcome = decide(current)
            if outcome.value is None:
                return outcome.result
            try:
                written = await self.store.put(*address, outcome.value, if_version=version,
                                               if_absent=version is None)
            except ConflictError:
                self._cache.pop(address, None)
                if cached is None or attempt > 0:  # a stale cache retries at once
                    await self._backoff.sleep(attempt)
                continue
            self._remember(address, written, outcome.value)
            return outcome.result
        raise ConflictError(
            f"edit kept losing to concurrent writers ({self._max_attempts} attempts)",
            namespace=address[0], key=address[1],
        )
