"""Store wrappers for tests: one that counts the requests each operation makes, one
that loses the answer to a write that landed (as a retried PUT on S3 can)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.store import JSONValue, KeyPage, RawItem, Store
from synaptic_s3.core.wrapper import StoreWrapper


class WrappingStore(StoreWrapper):
    """Delegates every primitive to ``inner`` (the library's forwarding base)."""


class CountingStore(WrappingStore):
    """Counts the primitives that reach the wrapped store (on S3, one request each,
    bar list_namespaces' pages): ``get``, ``put``, ``delete``, ``list_keys``,
    ``list_namespaces``; ``listings`` records each listing's (namespace, after, limit).
    Counting primitives rather than public methods sees the reads that ``get_many``,
    ``search`` and friends make."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.calls: Counter[str] = Counter()
        self.listings: list[tuple[Namespace, str | None, int]] = []

    def reset(self) -> None:
        self.calls.clear()
        self.listings.clear()

    async def _get_raw(self, namespace: Namespace, key: str) -> RawItem | None:
        self.calls["get"] += 1
        return await super()._get_raw(namespace, key)

    async def _put_raw(self, namespace: Namespace, key: str, body: bytes, *,
                       if_version: str | None, if_absent: bool) -> str:
        self.calls["put"] += 1
        return await super()._put_raw(namespace, key, body, if_version=if_version,
                                      if_absent=if_absent)

    async def _delete(self, namespace: Namespace, key: str) -> None:
        self.calls["delete"] += 1
        await super()._delete(namespace, key)

    async def _list_keys(self, namespace: Namespace, after: str | None, limit: int) -> KeyPage:
        self.calls["list_keys"] += 1
        self.listings.append((tuple(namespace), after, limit))
        return await super()._list_keys(namespace, after, limit)

    async def _list_namespaces(self, prefix: Namespace) -> list[Namespace]:
        self.calls["list_namespaces"] += 1
        return await super()._list_namespaces(prefix)


class LostAnswerStore(WrappingStore):
    """The next ``losses`` conditional writes land, then report a conflict."""

    def __init__(self, inner: Store, losses: int = 1) -> None:
        super().__init__(inner)
        self.losses = losses

    async def put(self, namespace: Sequence[str], key: str, value: JSONValue, *,
                  if_version: str | None = None, if_absent: bool = False) -> str:
        version = await super().put(namespace, key, value, if_version=if_version,
                                    if_absent=if_absent)
        if self.losses and (if_absent or if_version is not None):
            self.losses -= 1
            raise ConflictError("answer lost after the write landed", namespace=namespace,
                                key=key)
        return version
