"""``StoreCheckpointer``: graph-state checkpoints of a thread, one object each.

Checkpoint ``c`` of thread ``t`` lives at ``("checkpoints", t) / c.id``
(``checkpoints/<t>/<c.id>.json`` on S3). Generated ids are the Rust crate's
``<nanoseconds, 16 hex digits>-<counter, 4 hex digits>``, so key order is creation
order and "latest" is simply the greatest id.

Finding the greatest id must not cost a listing of the whole history (S3 lists in
ascending order only, 1,000 keys a page). :meth:`StoreCheckpointer.latest_id` sends
the listings :class:`~synaptic_s3.checkpoint_search.TailSearch` decides on: "keys
after the id of time T" for T an hour ago (one listing for a thread with at most
1,000 checkpoints in the last hour), the thread's start, then further back; once a
listing finds more than a page, the write rate it shows guides a few more (at most
5 listings for a burst of up to 10,000, however long the history; see that module).
A checkpointer that has seen the thread's newest id lists only what follows it
(:meth:`StoreCheckpointer.get`; docs/checkpoints.md has every cost). Every 100th
checkpoint an instance puts to a thread also updates the thread's "latest" hint
(:mod:`synaptic_s3.checkpoint_hint`), which lets a search that meets more than a page
list from just below it; it is a shortcut, never trusted, so nothing has to keep it
consistent.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from synaptic_s3.checkpoint_hint import HINT_EVERY, HINT_KEY, hint_body, hint_namespace, hinted_id
from synaptic_s3.checkpoint_search import PAGE, TailSearch
from synaptic_s3.core.errors import CorruptDataError, InvalidDataError, StorageUnavailableError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.messages import explain_validation_error
from synaptic_s3.core.store import Store
from synaptic_s3.ids import new_checkpoint_id

NAMESPACE = "checkpoints"

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckpointConfig:
    """Which thread, and optionally which checkpoint (``None`` means the latest)."""

    thread_id: str
    checkpoint_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckpointPage:
    """One page of a thread's checkpoints, oldest first; pass ``next_after`` as
    ``after`` for the next page (``None``: this was the last)."""

    checkpoints: list[Checkpoint]
    next_after: str | None


class Checkpoint(BaseModel):
    """A snapshot of graph state; JSON ``{id, state, next_node, parent_id, metadata}``
    as the Rust crate writes it (unknown fields are kept)."""

    model_config = ConfigDict(extra="allow")

    id: StrictStr = Field(default_factory=new_checkpoint_id)
    state: Any
    next_node: StrictStr | None = None
    parent_id: StrictStr | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, state: Any = None, /, **fields: Any) -> None:
        if "state" not in fields:
            fields["state"] = state
        generated = "id" not in fields
        if generated and isinstance(fields.get("parent_id"), str):
            # A generated id sorts after its parent's, even if this machine's clock is
            # behind the parent's writer: "latest" is the greatest id.
            fields["id"] = new_checkpoint_id(after=fields["parent_id"])
        super().__init__(**fields)
        if generated:
            self.__pydantic_fields_set__.discard("id")  # minted here, not given

    @property
    def id_was_generated(self) -> bool:
        """Whether the id was minted here rather than given by the caller (only a
        generated id may be moved forward by :meth:`StoreCheckpointer.put`)."""
        return "id" not in self.model_fields_set

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        """Parse the wire format; :class:`InvalidDataError` says what is wrong."""
        if not isinstance(data, dict):
            raise InvalidDataError(f"a checkpoint is a JSON object, not {type(data).__name__}")
        if "state" not in data:
            raise InvalidDataError("invalid checkpoint: state: Field required")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidDataError(f"invalid checkpoint: {explain_validation_error(exc)}") from exc

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class StoreCheckpointer:
    """Put, get (by id or latest) and list the checkpoints of a thread.

    ``remembered_threads``: how many threads' newest ids (and hint counts) this instance
    keeps, least recently used dropped first. ``hint_every``: write a thread's "latest"
    hint after every this many puts to it (default 100, 1% more PUTs; 1 keeps it exact,
    0 writes none, e.g. beside writers that must see only the Rust crate's objects)."""

    def __init__(self, store: Store, *, remembered_threads: int = 1024,
                 hint_every: int = HINT_EVERY) -> None:
        if isinstance(hint_every, bool) or not isinstance(hint_every, int):
            raise TypeError(f"hint_every must be an int, not {type(hint_every).__name__}")
        if hint_every < 0:
            raise ValueError(f"hint_every must not be negative, not {hint_every}")
        self._store = store
        self._remembered_threads = remembered_threads
        self._hint_every = hint_every
        self._newest: OrderedDict[str, str] = OrderedDict()
        self._unhinted: dict[str, int] = {}  # puts per remembered thread since its hint

    @property
    def store(self) -> Store:
        return self._store

    def _saw(self, thread_id: str, checkpoint_id: str | None) -> None:
        """Remember the greatest checkpoint id this process has seen for the thread."""
        if checkpoint_id is None or self._remembered_threads <= 0:
            return
        known = self._newest.get(thread_id)
        if known is None or checkpoint_id > known:
            self._newest[thread_id] = checkpoint_id
        self._newest.move_to_end(thread_id)
        while len(self._newest) > self._remembered_threads:
            forgotten, _ = self._newest.popitem(last=False)
            self._unhinted.pop(forgotten, None)

    async def put(self, config: CheckpointConfig, checkpoint: Checkpoint) -> None:
        """Store ``checkpoint`` under ``config.thread_id`` (its key is its id; putting
        the same checkpoint again is harmless).

        A generated id that does not sort after its ``parent_id`` and after every id
        this instance has seen for the thread (this machine's clock is behind another
        writer's) is moved forward first, on the object passed in, so the checkpoint
        just written is the thread's latest. Ids given by the caller are kept as they
        are. Independent processes rely on their clocks agreeing (NTP keeps them well
        within the margin "latest" allows; see docs).

        Every ``hint_every``-th (100th) put to a thread also writes the thread's
        "latest" hint, once the checkpoint is stored (:meth:`_count_towards_hint`):
        2 PUTs instead of 1."""
        if checkpoint.id_was_generated:
            floor = max(filter(None, (checkpoint.parent_id, self._newest.get(config.thread_id))),
                        default=None)
            if floor is not None and checkpoint.id <= floor:
                checkpoint.id = new_checkpoint_id(after=floor)
        await self._store.put((NAMESPACE, config.thread_id), checkpoint.id, checkpoint.to_dict())
        self._saw(config.thread_id, checkpoint.id)
        await self._count_towards_hint(config.thread_id)

    async def _count_towards_hint(self, thread_id: str) -> None:
        """Every ``hint_every``-th put to a remembered thread, write its "latest" hint:
        the greatest id this instance has seen.

        The checkpoint is stored by then. A hint that cannot be written because the
        store is unavailable (after the store's retries) does not fail the put: the
        hint is only a shortcut. It is logged, and the next put tries again. Any
        other error (denied, bad bucket) is raised, as the next put would hit it."""
        newest = self._newest.get(thread_id)
        if newest is None or self._hint_every == 0:
            return  # not remembered (remembered_threads=0), or hints off
        count = self._unhinted.get(thread_id, 0) + 1
        body = hint_body(newest)
        if count < self._hint_every or hinted_id(body) is None:  # not due, or unusable
            self._unhinted[thread_id] = count
            return
        self._unhinted[thread_id] = 0  # claimed before the await: concurrent puts count on
        try:
            await self._store.put(hint_namespace(thread_id), HINT_KEY, body)
        except StorageUnavailableError as exc:
            _LOG.warning("the latest-checkpoint hint of thread %r was not updated "
                         "(the next put retries): %s", thread_id, exc)
            if thread_id in self._newest:  # still remembered: the next put is due again
                self._unhinted[thread_id] = max(self._unhinted[thread_id],
                                                self._hint_every - 1)

    async def get(self, config: CheckpointConfig) -> Checkpoint | None:
        """The checkpoint named by ``config.checkpoint_id``, else the latest one."""
        if config.checkpoint_id is not None:
            return await self._load(config.thread_id, config.checkpoint_id)
        recent = await self._get_after_known(config.thread_id)
        if recent is not None:
            return recent
        latest = await self.latest_id(config.thread_id)
        return None if latest is None else await self._load(config.thread_id, latest)

    async def _get_after_known(self, thread_id: str) -> Checkpoint | None:
        """The latest checkpoint in one listing plus one GET when this process has seen
        the thread's newest id (it wrote or read it): list what sorts after that id.

        ``None`` (then the full search runs) when there is no such id, when more than a
        page was written since, or when the id was deleted since (by a prune or a
        delete elsewhere): the GET proves the answer still exists."""
        known = self._newest.get(thread_id)
        if known is None:
            return None
        newer = await self._store.list_keys((NAMESPACE, thread_id), after=known,
                                            limit=PAGE)
        if newer.next_after is not None:
            return None
        found = await self._load(thread_id, newer.keys[-1] if newer.keys else known)
        if found is None:
            self._newest.pop(thread_id, None)  # gone: forget it, search the store
            self._unhinted.pop(thread_id, None)
        return found

    async def list(self, config: CheckpointConfig) -> list[Checkpoint]:
        """Every checkpoint of the thread, oldest first (ascending id)."""
        namespace = (NAMESPACE, config.thread_id)
        keys = [key async for key in self._store.iter_keys(namespace)]
        items = await self._store.get_many(namespace, keys)
        return [self._parse(config.thread_id, item.key, item.value) for item in items]

    async def list_page(
        self, config: CheckpointConfig, *, limit: int = 100, after: str | None = None
    ) -> CheckpointPage:
        """One page of the thread's checkpoints, oldest first (ascending id), starting
        after checkpoint id ``after``: one listing plus ``limit`` reads in parallel,
        whatever the length of the thread. ``next_after`` is ``None`` on the last page."""
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"limit must be an int, not {type(limit).__name__}")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        namespace = (NAMESPACE, config.thread_id)
        if after is not None:
            validate_key(namespace, after)
        page = await self._store.list_keys(namespace, after=after, limit=limit)
        items = await self._store.get_many(namespace, page.keys)
        checkpoints = [self._parse(config.thread_id, item.key, item.value) for item in items]
        if page.keys:
            self._saw(config.thread_id, page.keys[-1])
        return CheckpointPage(checkpoints, page.next_after)

    async def prune(self, config: CheckpointConfig, *, keep_last: int) -> int:
        """Keep the newest ``keep_last`` checkpoints of the thread (0: none) and delete
        the rest, in batches; return how many were deleted. Cost: ceil(M/1000)
        listings, then ceil(deleted/1000) ``DeleteObjects`` on S3."""
        from synaptic_s3.lifecycle.pruning import prune_namespace

        deleted = await prune_namespace(self._store, (NAMESPACE, config.thread_id), keep_last)
        if keep_last == 0:  # no checkpoint left: nor a hint naming one
            await self._store.delete(hint_namespace(config.thread_id), HINT_KEY)
        return deleted

    async def latest_id(self, thread_id: str) -> str | None:
        """The greatest checkpoint id of the thread, found without a full listing."""
        latest = await self._find_latest_id(thread_id)
        self._saw(thread_id, latest)
        return latest

    async def _find_latest_id(self, thread_id: str) -> str | None:
        """Send :class:`TailSearch`'s probes until it knows the greatest key."""
        namespace = (NAMESPACE, thread_id)
        validate_key(namespace, "probe")
        search = TailSearch(time.time_ns())
        while not search.done:
            if search.wants_hint:
                search.offer_hint(await self._read_hint(thread_id))
                continue
            probe = search.next_probe()
            page = await self._store.list_keys(namespace, after=probe.after, limit=probe.limit)
            search.observe(probe, page)
        return search.answer

    async def _read_hint(self, thread_id: str) -> str | None:
        """The id the thread's "latest" hint names; ``None`` when there is none or it
        is unusable (a corrupt hint is logged and ignored: the search never relies on
        it, and the next hint write replaces it)."""
        try:
            item = await self._store.get(hint_namespace(thread_id), HINT_KEY)
        except CorruptDataError as exc:
            _LOG.warning("ignoring the unreadable latest-checkpoint hint of thread %r: %s",
                         thread_id, exc)
            return None
        return None if item is None else hinted_id(item.value)

    async def _load(self, thread_id: str, checkpoint_id: str) -> Checkpoint | None:
        item = await self._store.get((NAMESPACE, thread_id), checkpoint_id)
        if item is None:
            return None
        self._saw(thread_id, checkpoint_id)
        return self._parse(thread_id, checkpoint_id, item.value)

    @staticmethod
    def _parse(thread_id: str, key: str, value: Any) -> Checkpoint:
        try:
            return Checkpoint.from_dict(value)
        except InvalidDataError as exc:
            raise CorruptDataError(str(exc), namespace=(NAMESPACE, thread_id), key=key) from exc
