"""Store wrappers for tests: one that counts the requests each operation makes, one
that loses the answer to a write that landed (as a retried PUT on S3 can)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.store import DEFAULT_PAGE_SIZE, Item, JSONValue, KeyPage, Store
from synaptic_s3.core.wrapper import StoreWrapper


class WrappingStore(StoreWrapper):
    """Delegates every primitive to ``inner`` (the library's forwarding base)."""


class CountingStore(WrappingStore):
    """Counts calls per primitive; ``listings`` records each list_keys' arguments."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.calls: Counter[str] = Counter()
        self.listings: list[tuple[Namespace, str | None, int]] = []

    def reset(self) -> None:
        self.calls.clear()
        self.listings.clear()

    async def get(self, namespace: Sequence[str], key: str) -> Item | None:
        self.calls["get"] += 1
        return await super().get(namespace, key)

    async def put(self, namespace: Sequence[str], key: str, value: JSONValue, *,
                  if_version: str | None = None, if_absent: bool = False) -> str:
        self.calls["put"] += 1
        return await super().put(namespace, key, value, if_version=if_version,
                                 if_absent=if_absent)

    async def list_keys(self, namespace: Sequence[str], *, after: str | None = None,
                        limit: int = DEFAULT_PAGE_SIZE) -> KeyPage:
        self.calls["list_keys"] += 1
        self.listings.append((tuple(namespace), after, limit))
        return await super().list_keys(namespace, after=after, limit=limit)

    async def list_namespaces(self, prefix: Sequence[str] = ()) -> list[Namespace]:
        self.calls["list_namespaces"] += 1
        return await super().list_namespaces(prefix)


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
