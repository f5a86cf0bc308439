"""``StoreWrapper``: the one way to wrap a store (scoping, counting, fault injection).

A wrapper that re-implemented the public methods would quietly lose whatever a
backend does better underneath (S3 deleting a session's namespaces in one shared
``DeleteObjects`` batch, copying server-side). This base forwards every primitive of
:class:`~synaptic_s3.core.store.Store` to the wrapped store instead, so the public
methods (inherited, validating once) reach the backend's own primitives. A subclass
changes *where* things go by overriding :meth:`_inner_namespace` and
:meth:`_outer_namespace`, and observes or perturbs calls by overriding a primitive
and calling ``super()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.store import Entry, KeyPage, RawItem, Store

# A wrapper calls the wrapped store's primitives: that is its whole job (the
# primitives are "protected" against callers outside the Store family only).


class StoreWrapper(Store):
    """Forwards every primitive to ``inner``, mapping namespaces on the way."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.max_concurrency = inner.max_concurrency

    # -- namespace mapping (identity here; ScopedStore prefixes a scope) ---------------

    def _inner_namespace(self, namespace: Namespace) -> Namespace:
        """The wrapped store's name for ``namespace`` (may validate the result)."""
        return namespace

    def _inner_address(self, namespace: Namespace, key: str) -> Namespace:
        """The wrapped store's namespace for an item (may validate the whole path)."""
        return self._inner_namespace(namespace)

    def _outer_namespace(self, namespace: Namespace) -> Namespace | None:
        """The caller's name for an inner namespace; ``None`` hides it."""
        return namespace

    # -- the primitives, forwarded ---------------------------------------------------------

    async def _get_raw(self, namespace: Namespace, key: str) -> RawItem | None:
        return await self.inner._get_raw(self._inner_address(namespace, key), key)

    async def _put_raw(
        self, namespace: Namespace, key: str, body: bytes, *,
        if_version: str | None, if_absent: bool,
    ) -> str:
        return await self.inner._put_raw(self._inner_address(namespace, key), key, body,
                                         if_version=if_version, if_absent=if_absent)

    async def _delete(self, namespace: Namespace, key: str) -> None:
        await self.inner._delete(self._inner_address(namespace, key), key)

    async def _list_keys(self, namespace: Namespace, after: str | None, limit: int) -> KeyPage:
        return await self.inner._list_keys(self._inner_namespace(namespace), after, limit)

    async def _list_namespaces(self, prefix: Namespace) -> list[Namespace]:
        found = await self.inner._list_namespaces(self._inner_namespace(prefix))
        return [outer for ns in found if (outer := self._outer_namespace(ns)) is not None]

    async def _delete_namespaces(self, namespaces: Sequence[Namespace]) -> int:
        return await self.inner._delete_namespaces(
            [self._inner_namespace(ns) for ns in namespaces])

    async def _iter_entries(self, prefix: Namespace) -> AsyncIterator[list[Entry]]:
        async for page in self.inner._iter_entries(self._inner_namespace(prefix)):
            mapped = [
                Entry(outer, entry.key, entry.updated_at, entry.size)
                for entry in page
                if (outer := self._outer_namespace(entry.namespace)) is not None
            ]
            yield mapped

    async def _copy(
        self, src_namespace: Namespace, src_key: str, dst_namespace: Namespace, dst_key: str,
        *, if_absent: bool,
    ) -> str:
        return await self.inner._copy(
            self._inner_address(src_namespace, src_key), src_key,
            self._inner_address(dst_namespace, dst_key), dst_key, if_absent=if_absent)

    async def close(self) -> None:
        """Nothing: the wrapped store is shared and closed by whoever created it."""
