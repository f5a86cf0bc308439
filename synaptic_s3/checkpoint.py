"""``StoreCheckpointer``: graph-state checkpoints of a thread, one object each.

Checkpoint ``c`` of thread ``t`` lives at ``("checkpoints", t) / c.id``
(``checkpoints/<t>/<c.id>.json`` on S3). Generated ids are the Rust crate's
``<nanoseconds, 16 hex digits>-<counter, 4 hex digits>``, so key order is creation
order and "latest" is simply the greatest id.

Finding the greatest id must not cost a listing of the whole history (S3 lists in
ascending order only, 1,000 keys a page). :meth:`StoreCheckpointer.get` probes
with "keys after the id of time T": first T = an hour ago (one listing for any
thread written in the last hour), then further back (a day, 30 days, a year...);
when a probe finds more than one page, it uses that page's write rate to guess
where the newest keys are (:meth:`StoreCheckpointer._search_tail`). The number of
listings depends on the thread's age and write pattern, not on how many
checkpoints it holds. The bucket
holds only the checkpoints: no "latest" pointer object to keep consistent.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from synaptic_s3.core.errors import CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.messages import explain_validation_error
from synaptic_s3.core.store import KeyPage, Store
from synaptic_s3.ids import checkpoint_id_at, checkpoint_id_ns, new_checkpoint_id

NAMESPACE = "checkpoints"
_HOUR_NS = 3600 * 10**9
_PROBE_WINDOWS_NS = (
    _HOUR_NS, 24 * _HOUR_NS, 30 * 24 * _HOUR_NS, 366 * 24 * _HOUR_NS, 10 * 366 * 24 * _HOUR_NS,
)
_PROBE_PAGE = 1000


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


@dataclass(slots=True)
class TailSearch:
    """The pure part of finding the newest key when more than a page lies after
    ``low`` and nothing after ``high`` (nanosecond bounds): which probe to send next,
    and what a probe's answer teaches. Tested without a store
    (``tests/unit/test_latest_checkpoint.py``).

    The last full page tells the write rate (``span`` ns per page), so:

    1. "top": guess that the thread is still being written and probe half a page
       before now (an active thread: done in this one probe), or read on from the
       known keys when less than half a page is expected after them;
    2. "gallop": else step forward from the known keys by 1, 2, 4... spans;
    3. "bisect": once a probe came back empty, halve the window.

    Every step either ends the search or narrows ``[low, high]``.
    """

    low: int
    high: int
    now: int
    mode: Literal["top", "gallop", "bisect"] = "top"
    multiplier: int = 1

    def next_step(self, first_ns: int | None, last_ns: int | None
                  ) -> tuple[Literal["walk", "read_on", "probe"], int]:
        """The next action given the newest page's first and last key times:
        ``walk`` (list on to the end), ``read_on`` (list after the page) or
        ``probe`` at the returned nanosecond."""
        if last_ns is not None and self.low < last_ns < self.high:
            self.low = last_ns  # everything up to the page's last key is known to exist
        if self.high - self.low <= 1:
            return "walk", 0
        span = last_ns - first_ns if first_ns is not None and last_ns is not None else 0
        if span <= 0:
            self.mode = "bisect"
        if self.mode == "top":
            guess = min(self.high, self.now) - span // 2
            if guess <= self.low:
                return "read_on", 0
        elif self.mode == "gallop":
            guess = self.low + span * self.multiplier
            self.multiplier *= 2
        else:
            guess = (self.low + self.high) // 2
        if not self.low < guess < self.high:
            guess = (self.low + self.high) // 2
        return "probe", guess

    def read_on(self) -> None:
        """Reading on found more than a page: gallop from there."""
        self.mode = "gallop"

    def probed(self, guess: int, *, empty: bool) -> None:
        """A probe at ``guess`` found nothing (``empty``) or more than a page."""
        if empty:
            self.high = guess
            self.mode = "gallop" if self.mode == "top" else "bisect"
        else:
            self.low = guess
            if self.mode == "top":
                self.mode = "gallop"


class StoreCheckpointer:
    """Put, get (by id or latest) and list the checkpoints of a thread."""

    def __init__(self, store: Store, *, remembered_threads: int = 1024) -> None:
        self._store = store
        self._remembered_threads = remembered_threads
        self._newest: OrderedDict[str, str] = OrderedDict()

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
            self._newest.popitem(last=False)

    async def put(self, config: CheckpointConfig, checkpoint: Checkpoint) -> None:
        """Store ``checkpoint`` under ``config.thread_id`` (its key is its id; putting
        the same checkpoint again is harmless).

        A generated id that does not sort after its ``parent_id`` and after every id
        this instance has seen for the thread (this machine's clock is behind another
        writer's) is moved forward first, on the object passed in, so the checkpoint
        just written is the thread's latest. Ids given by the caller are kept as they
        are. Independent processes rely on their clocks agreeing (NTP keeps them well
        within the margin "latest" allows; see docs)."""
        if checkpoint.id_was_generated:
            floor = max(filter(None, (checkpoint.parent_id, self._newest.get(config.thread_id))),
                        default=None)
            if floor is not None and checkpoint.id <= floor:
                checkpoint.id = new_checkpoint_id(after=floor)
        await self._store.put((NAMESPACE, config.thread_id), checkpoint.id, checkpoint.to_dict())
        self._saw(config.thread_id, checkpoint.id)

    async def get(self, config: CheckpointConfig) -> Checkpoint | None:
        """The checkpoint named by ``config.checkpoint_id``, else the latest one."""
        if config.checkpoint_id is not None:
            return await self._load(config.thread_id, config.checkpoint_id)
        latest = await self.latest_id(config.thread_id)
        return None if latest is None else await self._load(config.thread_id, latest)

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

    async def latest_id(self, thread_id: str) -> str | None:
        """The greatest checkpoint id of the thread, found without a full listing."""
        latest = await self._find_latest_id(thread_id)
        self._saw(thread_id, latest)
        return latest

    async def _find_latest_id(self, thread_id: str) -> str | None:
        namespace = (NAMESPACE, thread_id)
        validate_key(namespace, "probe")

        async def probe(after_ns: int) -> KeyPage:
            return await self._store.list_keys(
                namespace, after=checkpoint_id_at(after_ns), limit=_PROBE_PAGE
            )

        now = time.time_ns()
        empty_above = now + _HOUR_NS  # an upper bound, allowing for writers' clock skew
        for window in _PROBE_WINDOWS_NS:
            low = now - window
            page = await probe(low)
            if not page.keys:
                empty_above = low
                continue
            if page.next_after is None:
                return page.keys[-1]
            return await self._search_tail(namespace, page, low, empty_above, now, probe)
        # Nothing after 10 years ago: only ids that sort below generated ones remain.
        return await self._walk_to_end(namespace, None)

    async def _search_tail(
        self,
        namespace: tuple[str, str],
        page: KeyPage,
        low: int,
        high: int,
        now: int,
        probe: Callable[[int], Awaitable[KeyPage]],
    ) -> str | None:
        """Find the last key when more than a page lies after ``low`` and nothing after
        ``high``: the I/O around :class:`TailSearch`'s decisions."""
        search = TailSearch(low=low, high=high, now=now)
        while True:
            action, guess = search.next_step(checkpoint_id_ns(page.keys[0]),
                                             checkpoint_id_ns(page.keys[-1]))
            if action == "walk":
                return await self._walk_to_end(namespace, page.keys[-1])
            if action == "read_on":
                # Less than half a page is expected after the known keys: read on
                # from the last of them, which also ends the search if it is right.
                found = await self._store.list_keys(
                    namespace, after=page.keys[-1], limit=_PROBE_PAGE)
                if found.next_after is None:
                    return found.keys[-1] if found.keys else page.keys[-1]
                page = found
                search.read_on()
                continue
            found = await probe(guess)
            if found.keys and found.next_after is None:
                return found.keys[-1]
            search.probed(guess, empty=not found.keys)
            if found.keys:
                page = found

    async def _walk_to_end(self, namespace: tuple[str, str], after: str | None) -> str | None:
        last: str | None = after
        while True:
            page = await self._store.list_keys(namespace, after=last, limit=_PROBE_PAGE)
            if page.keys:
                last = page.keys[-1]
            if page.next_after is None:
                return last

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
