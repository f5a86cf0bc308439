"""``ChatMessageHistory``: a session's messages and running summary, in the shared store.

Messages of session ``id`` start as one JSON array at ``("memory", id) / "messages"``
(``memory/<id>/messages.json`` on S3, the Rust crate's layout), so restoring a short
conversation is one read. Past ``segment_bytes`` the oldest messages are sealed into
immutable segments under ``("memory", id, "segments")`` and the array keeps the newest
ones (the *tail*): an append costs what it touches, however long the session grows.
The protocol and why it is safe: docs/segments.md.

Every change of the tail is a compare-and-swap: read it and its version, write the new
tail only if the version is unchanged, and on a conflict read again and retry (bounded,
jittered backoff). Many writers, in many processes, never lose a message. The tail last
seen is cached per session (bounded LRU), so an append to a history this instance
already knows costs one conditional write; a stale cache costs a conflict and a
re-read, never a lost or doubled message.

Appends are idempotent by message id: a message without an ``id`` is given one (a
UUIDv7, set on the object passed in); a message whose id is already stored with the
same content is not stored again (retrying an append with the same message objects is
safe), and one whose id is stored with *other* content is refused with
:class:`MessageConflictError` (nothing is written).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from synaptic_s3.core.decode import build_all as build_messages
from synaptic_s3.core.decode import encode_each
from synaptic_s3.core.decode import loads as fast_loads
from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    MessageConflictError,
    NotFoundError,
)
from synaptic_s3.core.messages import Message
from synaptic_s3.core.retry import DEFAULT_BACKOFF, Backoff, gather_bounded
from synaptic_s3.core.store import Store
from synaptic_s3.core.wire_check import accepts
from synaptic_s3.ids import uuid7
from synaptic_s3.segments import (
    MARKER,
    SEGMENTS,
    SegmentName,
    TailMarker,
    message_size,
    new_epoch,
    seal_cuts,
)

NAMESPACE = "memory"
MESSAGES_KEY = "messages"
SUMMARY_KEY = "summary"
DEFAULT_SEGMENT_BYTES = 1_048_576
_CHAIN_READS = 3  # a tail whose segments vanish under a reader is read again this often

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MessagePage:
    """A run of consecutive messages of one history, as read at one moment.

    ``start`` is the position (0 = the oldest message) of ``messages[0]``, or where
    the page would have started when it is empty; ``total`` is how many messages
    the history held when it was read. Positions never change while the history
    is only appended to, so ``start``/``end`` work as resumable cursors.
    """

    messages: list[Message]
    start: int
    total: int

    @property
    def end(self) -> int:
        """The position just after the last message of the page."""
        return self.start + len(self.messages)


@dataclass(frozen=True, slots=True)
class JsonPage:
    """A page of messages as their wire-format JSON, for code that only passes them on
    (the HTTP service): validated exactly as :meth:`ChatMessageHistory.page` validates,
    but no :class:`Message` is built and nothing is re-serialised through one.

    Each item is one message's stored JSON object, decoded and encoded again compactly
    (unknown fields kept; optional fields absent, or ``null`` if a writer stored them
    so), which
    :meth:`Message.from_json` reads back to the message :meth:`~ChatMessageHistory.page`
    returns. ``start``/``total`` as in :class:`MessagePage`."""

    items: list[str]
    start: int
    total: int

    @property
    def end(self) -> int:
        """The position just after the last message of the page."""
        return self.start + len(self.items)


@dataclass(slots=True)
class _Tail:
    """What one read of ``messages.json`` says (messages without the marker)."""

    version: str | None
    messages: list[Raw]
    marker: TailMarker | None
    sizes: list[int] | None = None
    sealed_ids: dict[Any, Raw] | None = field(default=None)
    """Ids of the newest segment's messages, once read (for idempotent retries)."""

    @property
    def start(self) -> int:
        return 0 if self.marker is None else self.marker.start

    @property
    def total(self) -> int:
        return self.start + len(self.messages)

    def message_sizes(self) -> list[int]:
        if self.sizes is None:
            self.sizes = [message_size(m) for m in self.messages]
        return self.sizes


def _identity(message: Raw) -> tuple[bool, Any]:
    """What makes two stored messages "the same append": the id, kept apart for
    ``remove`` markers, whose id names the message they remove."""
    return (message.get("role") == "remove", message.get("id"))


def _check_count(name: str, value: int, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


def _same_message(stored: Raw, incoming: Raw) -> bool:
    """Equal as messages: both normalised through the wire model, so a Rust writer's
    spelling of the same message (an empty field written out) still matches."""
    if stored == incoming:
        return True
    try:
        return Message.from_dict(stored).to_dict() == incoming
    except InvalidDataError:
        return False


class ChatMessageHistory:
    """Append, load, page and clear the messages of any session; get and set its summary."""

    def __init__(
        self,
        store: Store,
        *,
        segment_bytes: int | None = DEFAULT_SEGMENT_BYTES,
        max_attempts: int = 64,
        cache_size: int = 256,
        backoff_base: float = DEFAULT_BACKOFF.base,
        backoff_cap: float = DEFAULT_BACKOFF.cap,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if segment_bytes is not None:
            _check_count("segment_bytes", segment_bytes, minimum=1)
        self._store = store
        self._segment_bytes = segment_bytes
        self._max_attempts = max_attempts
        self._cache_size = cache_size
        self._backoff = Backoff(backoff_base, backoff_cap)
        self._cache: OrderedDict[str, _Tail] = OrderedDict()
        self.conflicts = 0
        """Conditional writes lost to other writers so far (for metrics and benchmarks)."""

    @property
    def store(self) -> Store:
        return self._store

    @property
    def segment_bytes(self) -> int | None:
        """The tail's budget in bytes of compact JSON (``None``: never seal)."""
        return self._segment_bytes

    # -- cache ---------------------------------------------------------------------------

    def _remember(self, session_id: str, tail: _Tail) -> None:
        if self._cache_size <= 0:
            return
        self._cache[session_id] = tail
        self._cache.move_to_end(session_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def forget(self, session_id: str) -> None:
        """Drop what this instance remembers of a session (after it was deleted)."""
        self._cache.pop(session_id, None)

    # -- reading the tail and the segments -----------------------------------------------

    async def _read_tail(self, session_id: str) -> _Tail:
        namespace = (NAMESPACE, session_id)
        item = await self._store.get_raw(namespace, MESSAGES_KEY)
        if item is None:
            self.forget(session_id)
            return _Tail(None, [], None)
        value = fast_loads(item.body, namespace, MESSAGES_KEY)
        if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
            raise CorruptDataError("messages must be a JSON array of objects",
                                   namespace=namespace, key=MESSAGES_KEY)
        marker: TailMarker | None = None
        if value and MARKER in value[0]:
            head = dict(value[0])
            marker = TailMarker.parse(head.pop(MARKER))
            if marker is None:
                raise CorruptDataError(f"message 0 has a malformed {MARKER!r} field",
                                       namespace=namespace, key=MESSAGES_KEY)
            value = [head, *value[1:]]
        tail = _Tail(item.version, value, marker)
        self._remember(session_id, tail)
        return tail

    async def _chain(self, session_id: str, tail: _Tail) -> list[SegmentName]:
        """The segments holding positions ``0..tail.start``, oldest first."""
        marker = tail.marker
        if marker is None:
            return []
        namespace = (NAMESPACE, session_id, SEGMENTS)
        found: dict[int, SegmentName] = {}
        async for key in self._iter_epoch(namespace, marker.epoch):
            name = SegmentName.parse(key)
            if name is not None and name.end <= marker.start:
                found.setdefault(name.start, name)
        chain: list[SegmentName] = []
        position = 0
        while position < marker.start:
            name = found.get(position)
            if name is None:
                raise _MissingSegmentError(
                    f"segment {marker.epoch}-{position:012d}-... is missing",
                    namespace=namespace, key=f"{marker.epoch}-{position:012d}")
            chain.append(name)
            position = name.end
        return chain

    async def _iter_epoch(self, namespace: tuple[str, ...], epoch: str) -> AsyncIterator[str]:
        """The keys of one epoch's segments, in position order (they sort together)."""
        after: str | None = f"{epoch}-"
        while True:
            page = await self._store.list_keys(namespace, after=after)
            for key in page.keys:
                if not key.startswith(f"{epoch}-"):
                    return
                yield key
            if page.next_after is None:
                return
            after = page.next_after

    async def _read_segment(self, session_id: str, name: SegmentName) -> list[Raw]:
        namespace = (NAMESPACE, session_id, SEGMENTS)
        item = await self._store.get_raw(namespace, name.key)
        if item is None:
            raise _MissingSegmentError(f"segment {name.key} is missing",
                                       namespace=namespace, key=name.key)
        value = fast_loads(item.body, namespace, name.key)
        if (not isinstance(value, list) or len(value) != name.end - name.start
                or not all(isinstance(m, dict) for m in value)):
            raise CorruptDataError(
                f"a segment must be a JSON array of {name.end - name.start} objects",
                namespace=namespace, key=name.key)
        return value

    async def _read_range(self, session_id: str, start: int | None, stop: int | None,
                          *, from_end: int | None = None) -> tuple[list[Raw], int, int]:
        """Raw messages ``[start, stop)`` (clamped to the history) as of one tail read,
        with the position of the first and the history's length. ``from_end`` asks for
        the last ``from_end`` messages before ``stop`` instead of a ``start``."""
        for attempt in range(_CHAIN_READS):
            tail = await self._read_tail(session_id)
            total = tail.total
            high = total if stop is None else min(stop, total)
            low = max(0, high - from_end) if from_end is not None else min(start or 0, high)
            if low >= tail.start:
                first = low - tail.start
                return tail.messages[first:high - tail.start], low, total
            try:
                assert tail.marker is not None  # low < tail.start: something is sealed
                newest = tail.marker.newest_segment
                if low >= newest.start:  # the tail names it: no listing needed
                    wanted = [newest]
                else:
                    chain = await self._chain(session_id, tail)
                    wanted = [name for name in chain if name.end > low and name.start < high]
                parts = await gather_bounded(
                    (self._read_segment(session_id, name) for name in wanted),
                    self._store.max_concurrency)
            except _MissingSegmentError:
                # Deleted under us (a clear or delete_session): read the tail again.
                self.forget(session_id)
                if attempt == _CHAIN_READS - 1:
                    raise
                continue
            raw: list[Raw] = []
            for name, part in zip(wanted, parts, strict=True):
                raw.extend(part[max(low, name.start) - name.start:min(high, name.end)
                                - name.start])
            if high > tail.start:
                raw.extend(tail.messages[:high - tail.start])
            return raw, low, total
        raise AssertionError("unreachable")  # pragma: no cover

    # -- public reads --------------------------------------------------------------------

    async def load(self, session_id: str, *, last: int | None = None) -> list[Message]:
        """Every message of the session, oldest first; ``[]`` when there are none.

        With ``last``, only the newest ``last`` messages (all of them when there are
        fewer), still oldest first: one read while they are all in the tail."""
        if last is not None:
            _check_count("last", last, minimum=0)
            if last == 0:
                return []
            return (await self.page_before(session_id, limit=last)).messages
        raw, first, _ = await self._read_range(session_id, 0, None)
        return self._parse(session_id, raw, first)

    async def page(self, session_id: str, *, start: int = 0, limit: int = 1000) -> MessagePage:
        """Up to ``limit`` messages from position ``start`` on, oldest first; the cost
        is in proportion to the page, not to the history."""
        _check_count("start", start, minimum=0)
        _check_count("limit", limit, minimum=1)
        raw, first, total = await self._read_range(session_id, start, start + limit)
        return MessagePage(self._parse(session_id, raw, first), first, total)

    async def page_before(
        self, session_id: str, *, end: int | None = None, limit: int = 1000
    ) -> MessagePage:
        """The newest ``limit`` messages before position ``end`` (``None``: the end of
        the history), oldest first: reading backwards page by page."""
        if end is not None:
            _check_count("end", end, minimum=0)
        _check_count("limit", limit, minimum=1)
        raw, first, total = await self._read_range(session_id, None, end, from_end=limit)
        return MessagePage(self._parse(session_id, raw, first), first, total)

    async def page_json(self, session_id: str, *, start: int = 0, limit: int = 1000
                        ) -> JsonPage:
        """:meth:`page`, as each message's wire JSON (see :class:`JsonPage`)."""
        _check_count("start", start, minimum=0)
        _check_count("limit", limit, minimum=1)
        raw, first, total = await self._read_range(session_id, start, start + limit)
        return JsonPage(self._encode(session_id, raw, first), first, total)

    async def page_before_json(
        self, session_id: str, *, end: int | None = None, limit: int = 1000
    ) -> JsonPage:
        """:meth:`page_before`, as each message's wire JSON (see :class:`JsonPage`)."""
        if end is not None:
            _check_count("end", end, minimum=0)
        _check_count("limit", limit, minimum=1)
        raw, first, total = await self._read_range(session_id, None, end, from_end=limit)
        return JsonPage(self._encode(session_id, raw, first), first, total)

    async def count(self, session_id: str) -> int:
        """How many messages the session holds: one read of the tail."""
        return (await self._read_tail(session_id)).total

    @staticmethod
    def _parse(session_id: str, raw: Sequence[Raw], first: int) -> list[Message]:
        try:
            return build_messages(raw)  # exactly Message.from_dict, without pydantic's cost
        except InvalidDataError:
            pass
        for index, data in enumerate(raw, start=first):  # which one, in the reference's words
            try:
                Message.from_dict(data)
            except InvalidDataError as exc:
                raise CorruptDataError(f"message {index} is invalid: {exc}",
                                       namespace=(NAMESPACE, session_id),
                                       key=MESSAGES_KEY) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _encode(cls, session_id: str, raw: Sequence[Raw], first: int) -> list[str]:
        if not accepts(raw):  # the reference decides (and names the bad message)
            cls._parse(session_id, raw, first)
        return encode_each(raw)

    # -- writes --------------------------------------------------------------------------

    async def append(self, session_id: str, message: Message) -> None:
        """Add one message at the end of the session's history."""
        await self.append_many(session_id, [message])

    async def append_many(self, session_id: str, messages: Sequence[Message]) -> None:
        """Add messages at the end, in order, in one write (all or none of them land).

        Raises :class:`InvalidDataError` when two of ``messages`` share an id, and
        :class:`MessageConflictError` when an id is already stored with other content.
        """
        if isinstance(messages, Message) or not all(isinstance(m, Message) for m in messages):
            raise TypeError("append_many takes a sequence of Message objects")
        fresh: set[str] = set()
        for message in messages:
            if message.id is None:
                message.id = str(uuid7())
                fresh.add(message.id)
        incoming = [message.to_dict() for message in messages]
        identities = [_identity(data) for data in incoming]
        if len(set(identities)) != len(identities):
            raise InvalidDataError("two messages of one append share an id")
        namespace = (NAMESPACE, session_id)
        attempted: list[tuple[int, tuple[bool, Any]]] = []
        for attempt in range(self._max_attempts):
            cached = self._cache.get(session_id)
            tail = cached if cached is not None else await self._read_tail(session_id)
            if await self._landed_earlier(session_id, tail, attempted):
                return  # a tail write reported lost had in fact been applied
            new = await self._not_yet_stored(session_id, tail, incoming, fresh)
            if not new:
                return  # every message is already stored: a retried append
            try:
                await self._commit(session_id, tail, new)
            except ConflictError:
                # Lost to another writer, or our write landed and only its answer was
                # lost (the retried PUT then meets our own version): remember where
                # the batch would be, which stays its position for ever if it landed.
                attempted.append((tail.total, _identity(new[0])))
                self.conflicts += 1
                self.forget(session_id)
                if cached is None or attempt > 0:
                    await self._backoff.sleep(attempt)
                continue
            return
        raise ConflictError(
            f"append kept losing to concurrent writers ({self._max_attempts} attempts)",
            namespace=namespace, key=MESSAGES_KEY,
        )

    async def _landed_earlier(self, session_id: str, tail: _Tail,
                              attempted: list[tuple[int, tuple[bool, Any]]]) -> bool:
        """Whether a batch this call wrote (its first message's position and identity)
        is in the history after all. Positions never change while a history lives, so
        this finds it even after seals moved it out of the tail and the newest segment
        (where an id lookup would miss it and append it twice; docs/segments.md)."""
        for position, identity in attempted:
            if position >= tail.total:
                continue
            if position >= tail.start:
                found = tail.messages[position - tail.start]
            else:
                raw, _, _ = await self._read_range(session_id, position, position + 1)
                if not raw:
                    continue
                found = raw[0]
            if _identity(found) == identity:
                return True
        return False

    async def _not_yet_stored(self, session_id: str, tail: _Tail, incoming: list[Raw],
                              fresh: set[str]) -> list[Raw]:
        """``incoming`` less the messages already stored; a stored id with other content
        is a :class:`MessageConflictError`. Ids minted by this very call cannot be
        stored yet, so only caller-given ids (or a retry's) are looked up in the newest
        segment, which a retry's messages may have been sealed into meanwhile."""
        stored = {_identity(m): m for m in tail.messages}
        new: list[Raw] = []
        for data in incoming:
            previous = stored.get(_identity(data))
            if previous is None and tail.marker is not None and data.get("id") not in fresh:
                previous = (await self._sealed_ids(session_id, tail)).get(_identity(data))
            if previous is None:
                new.append(data)
            elif not _same_message(previous, data):
                raise MessageConflictError(str(data.get("id")), namespace=(NAMESPACE, session_id),
                                           key=MESSAGES_KEY)
        return new

    async def _sealed_ids(self, session_id: str, tail: _Tail) -> dict[Any, Raw]:
        if tail.sealed_ids is None:
            assert tail.marker is not None
            try:
                segment = await self._read_segment(session_id, tail.marker.newest_segment)
            except _MissingSegmentError:
                segment = []  # deleted under us: the tail write will conflict
            tail.sealed_ids = {_identity(m): m for m in segment}
        return tail.sealed_ids

    async def _commit(self, session_id: str, tail: _Tail, new: list[Raw]) -> None:
        """Write ``tail + new`` (sealing the tail's oldest messages first when the
        budget says so) as one conditional write of the tail; raises ConflictError."""
        namespace = (NAMESPACE, session_id)
        new_sizes = [message_size(m) for m in new]
        sizes = tail.message_sizes() if self._segment_bytes is not None else []
        cuts = seal_cuts(sizes, sum(new_sizes), self._segment_bytes)
        sealed = cuts[-1] if cuts else 0
        marker = tail.marker
        sealed_ids = tail.sealed_ids
        segments: list[SegmentName] = []
        if cuts:
            epoch = marker.epoch if marker is not None else new_epoch()
            bounds = [0, *cuts]
            segments = [SegmentName(epoch, tail.start + low, tail.start + high)
                        for low, high in itertools.pairwise(bounds)]
            try:
                await gather_bounded(
                    (self._write_segment(
                        session_id, name,
                        tail.messages[name.start - tail.start:name.end - tail.start])
                     for name in segments),
                    self._store.max_concurrency)
            except ConflictError:
                await self._drop_if_dead(session_id, segments)  # those that were written
                raise
            newest = segments[-1]
            marker = TailMarker(epoch, newest.end, newest.start)
            sealed_ids = {_identity(m): m
                          for m in tail.messages[newest.start - tail.start:sealed]}
        messages = tail.messages[sealed:] + new
        body = list(messages)
        if marker is not None:
            body[0] = {**body[0], MARKER: marker.to_json()}
        try:
            version = await self._store.put(
                namespace, MESSAGES_KEY, body,
                if_version=tail.version, if_absent=tail.version is None,
            )
        except ConflictError:
            if segments:
                await self._drop_if_dead(session_id, segments)
            raise
        new_sizes_all = (sizes[sealed:] + new_sizes) if tail.sizes is not None else None
        self._remember(session_id, _Tail(version, messages, marker, new_sizes_all, sealed_ids))

    async def _write_segment(self, session_id: str, name: SegmentName,
                             messages: list[Raw]) -> None:
        """Create the segment; finding it already there is fine when it is equal (a
        writer that sealed the same tail first, or crashed after sealing it)."""
        namespace = (NAMESPACE, session_id, SEGMENTS)
        try:
            await self._store.put(namespace, name.key, messages, if_absent=True)
        except ConflictError:
            existing = await self._store.get(namespace, name.key)
            if existing is None or existing.value != messages:
                # Not the segment this tail would seal: our view of the tail is stale.
                raise ConflictError("a different segment holds these positions",
                                    namespace=namespace, key=name.key) from None

    async def _drop_if_dead(self, session_id: str, segments: list[SegmentName]) -> None:
        """After a lost tail write: delete the segment just written if its epoch can
        never be referenced again. Epochs are never reused, so when the current tail
        is gone or is not of this epoch (the history was cleared; or this was a first
        seal that another writer's tail never adopted), nothing can ever name it."""
        current = await self._read_tail(session_id)
        epoch = segments[0].epoch
        if current.marker is None or current.marker.epoch != epoch:
            await gather_bounded(
                (self._store.delete((NAMESPACE, session_id, SEGMENTS), name.key)
                 for name in segments), self._store.max_concurrency)

    async def copy_history(self, source_id: str, target_id: str, *,
                           messages: int | None = None) -> int:
        """Copy the first ``messages`` messages (all when ``None``) of one session's
        history to another that has none; return how many were copied.

        Whole segments are copied as they are; only the part that ends the copy is
        rewritten as the target's tail, which is written last (create-if-absent), so an
        interrupted copy leaves the target without a history. The source is only read.
        """
        if messages is not None:
            _check_count("messages", messages, minimum=0)
        target = await self._read_tail(target_id)
        if target.version is not None:
            raise ConflictError("the target session already has messages",
                                namespace=(NAMESPACE, target_id), key=MESSAGES_KEY)
        tail = await self._read_tail(source_id)
        count = tail.total if messages is None else min(messages, tail.total)
        if count == 0:
            return 0
        chain = await self._chain(source_id, tail)
        whole = [name for name in chain if name.end <= count]
        source_ns, target_ns = (NAMESPACE, source_id, SEGMENTS), (NAMESPACE, target_id, SEGMENTS)

        async def copy_segment(name: SegmentName) -> None:
            try:  # server side on S3 (CopyObject): the bytes never come through here
                await self._store.copy(source_ns, name.key, target_ns, name.key)
            except NotFoundError as exc:
                raise _MissingSegmentError(f"segment {name.key} is missing",
                                           namespace=source_ns, key=name.key) from exc

        if whole and whole[-1].end == count:
            whole.pop()  # the copy's tail may not be empty: its last segment becomes it
        await gather_bounded((copy_segment(name) for name in whole), self._store.max_concurrency)
        start = whole[-1].end if whole else 0
        rest, _, _ = await self._read_range(source_id, start, count)
        body = list(rest)
        if whole:
            marker = TailMarker(whole[-1].epoch, whole[-1].end, whole[-1].start)
            body[0] = {**body[0], MARKER: marker.to_json()}
        await self._store.put((NAMESPACE, target_id), MESSAGES_KEY, body, if_absent=True)
        self.forget(target_id)
        return count

    async def clear(self, session_id: str) -> None:
        """Remove the session's messages (tail and every segment) and its summary.

        Fenced as docs/segments.md describes (and specs/segments.pml checks): read the
        tail, list the segments, replace the tail by ``[]`` conditionally on the version
        read (so every writer that read the old tail fails its next write, and what was
        listed can never be referenced again), then delete what was listed, the summary
        and the tail.
        Deleting segments first, or sparing "the live epoch", would race a first seal
        in flight and lose acknowledged messages."""
        namespace = (NAMESPACE, session_id)
        segments = (NAMESPACE, session_id, SEGMENTS)
        self.forget(session_id)
        for attempt in range(self._max_attempts):
            tail = await self._read_tail(session_id)
            listed = [key async for key in self._store.iter_keys(segments)]
            try:
                await self._store.put(namespace, MESSAGES_KEY, [],
                                      if_version=tail.version, if_absent=tail.version is None)
            except ConflictError:
                self.forget(session_id)
                await self._backoff.sleep(attempt)
                continue
            break
        else:
            raise ConflictError(
                f"clear kept losing to concurrent writers ({self._max_attempts} attempts)",
                namespace=namespace, key=MESSAGES_KEY)
        # Every listed segment is dead now, whatever happens to the tail next, so all
        # the deletes go at once. Appends that landed on the empty tail meanwhile are
        # cleared with it (a seal among them may leave a dead segment: delete_session
        # and the next clear remove it).
        await gather_bounded(
            [*(self._store.delete(segments, key) for key in listed),
             self._store.delete(namespace, SUMMARY_KEY),
             self._store.delete(namespace, MESSAGES_KEY)],
            self._store.max_concurrency)
        self.forget(session_id)

    # -- summary -------------------------------------------------------------------------

    async def get_summary(self, session_id: str) -> str | None:
        """The running summary, or ``None`` if none was ever set (or it was cleared)."""
        namespace = (NAMESPACE, session_id)
        item = await self._store.get(namespace, SUMMARY_KEY)
        if item is None:
            return None
        if not isinstance(item.value, str):
            raise CorruptDataError("the summary must be a JSON string",
                                   namespace=namespace, key=SUMMARY_KEY)
        return item.value

    async def set_summary(self, session_id: str, text: str) -> None:
        """Replace the summary (last writer wins: a summary is rewritten whole)."""
        if not isinstance(text, str):
            raise InvalidDataError(f"a summary is a string, not {type(text).__name__}")
        await self._store.put((NAMESPACE, session_id), SUMMARY_KEY, text)


class _MissingSegmentError(CorruptDataError):
    """A segment the tail names is not there: deleted under a reader, or lost."""
