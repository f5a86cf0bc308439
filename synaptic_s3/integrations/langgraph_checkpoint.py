"""``SynapticSaver``: a LangGraph checkpointer (``BaseCheckpointSaver``) over a synaptic Store.

Layout, for thread ``T`` and checkpoint namespace ``N`` (both through
:func:`~synaptic_s3.integrations.codec.encode_label`; a session id is kept as is)::

    checkpoints/T/langgraph/N/<descending id>.json                 one checkpoint
    checkpoints/T/langgraph-writes/N/<descending id>/<task>.<idx>.json   one pending write

Everything of a thread is under ``("checkpoints", T)``, so
``SessionManager.delete_session(T)`` removes it with the session's own checkpoints.

* A checkpoint object holds the whole checkpoint (channel values included, as
  LangGraph's SQLite saver does), its metadata and its parent id: reading one
  costs one GET, and there is no blob to go missing independently.
* Keys are checkpoint ids with every hex digit complemented, so the first key
  listed is the newest checkpoint: ``get_tuple`` without an id costs one LIST of
  one key, ``list(before=...)`` starts right after the cursor, and no pointer
  object exists to go stale.
* Values go through LangGraph's own serializer (``dumps_typed``/``loads_typed``)
  and are stored as base64 in JSON. The default serializer is
  :func:`strict_serializer`: no pickle, msgpack objects rebuilt only for
  LangGraph's safe types plus ``allowed_types``; and whatever serializer is given,
  a value tagged ``pickle`` is refused on load, so reading a bucket never runs
  code it names.
* Pending writes are one object each. A regular write is created only if absent
  (the first one wins, as in LangGraph's own savers); special writes (errors,
  interrupts, resumes) are replaced.
* Of LangGraph's optional extensions, ``copy_thread`` is implemented. ``prune`` and
  ``delete_for_runs`` are not: done naively they break ``DeltaChannel`` histories
  (see their LangGraph docstrings), and the latter needs a scan of every thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from synaptic_s3.checkpoint import NAMESPACE as CHECKPOINTS
from synaptic_s3.core.errors import ConflictError, CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.core.store import Item, Store
from synaptic_s3.integrations.bridge import iterate_sync, run_sync
from synaptic_s3.integrations.codec import (
    descending_key,
    encode_label,
    id_from_descending_key,
    is_uuid,
    pack_typed,
    unpack_typed,
)

CHECKPOINTS_LABEL = "langgraph"
WRITES_LABEL = "langgraph-writes"
FORMAT = 1
_LIST_PAGE = 100
_TASK_LABEL_BYTES = 180  # room for "." + the write index in a 200-byte key
_CODE_TAGS = frozenset({"pickle"})


def strict_serializer(allowed_types: Iterable[tuple[str, ...] | type] = ()) -> JsonPlusSerializer:
    """LangGraph's serializer with every code-running path shut: no pickle fallback,
    no JSON constructors beyond LangGraph's safe list, and msgpack objects rebuilt
    only for that list plus ``allowed_types`` (``(module, name)`` or classes; others
    load as their plain data)."""
    allowed = tuple(allowed_types)
    return JsonPlusSerializer(
        pickle_fallback=False,
        allowed_json_modules=None,
        allowed_msgpack_modules=allowed or None,
    )


@dataclass(frozen=True, slots=True)
class _Location:
    """The encoded thread and checkpoint-namespace parts of one checkpoint series."""

    thread: str
    ns: str

    @classmethod
    def of(cls, thread_id: str, checkpoint_ns: str) -> _Location:
        return cls(encode_label(thread_id, keep_valid=True), encode_label(checkpoint_ns))

    @property
    def checkpoints(self) -> Namespace:
        return (CHECKPOINTS, self.thread, CHECKPOINTS_LABEL, self.ns)

    def writes(self, key: str) -> Namespace:
        return (CHECKPOINTS, self.thread, WRITES_LABEL, self.ns, key)


def _address(config: RunnableConfig) -> tuple[str, str]:
    configurable = config.get("configurable") or {}
    if "thread_id" not in configurable:
        raise InvalidDataError("config['configurable'] needs a 'thread_id'")
    return str(configurable["thread_id"]), str(configurable.get("checkpoint_ns") or "")


def _config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {
        "thread_id": thread_id, "checkpoint_ns": checkpoint_ns, "checkpoint_id": checkpoint_id,
    }}


def _field(value: dict[str, Any], name: str, kind: type, item: Item) -> Any:
    found = value.get(name)
    if not isinstance(found, kind):
        raise CorruptDataError(f"field {name!r} must be a {kind.__name__}",
                               namespace=item.namespace, key=item.key)
    return found


class SynapticSaver(BaseCheckpointSaver[str]):
    """LangGraph checkpoints in a synaptic :class:`Store` (S3, files, memory).

    The async methods run on the caller's event loop; the sync ones run on the
    shared loop of :mod:`synaptic_s3.integrations.bridge` (see there why an
    ``S3Store`` should be used through one side only).
    """

    def __init__(
        self,
        store: Store,
        *,
        serde: SerializerProtocol | None = None,
        allowed_types: Iterable[tuple[str, ...] | type] = (),
    ) -> None:
        allowed = tuple(allowed_types)
        if serde is not None and allowed:
            raise ValueError("pass allowed_types or serde, not both")
        super().__init__(serde=serde if serde is not None else strict_serializer(allowed))
        self._store = store

    @property
    def store(self) -> Store:
        return self._store

    # -- (de)serialisation ---------------------------------------------------------------

    def _dump(self, value: Any) -> dict[str, str]:
        return pack_typed(*self.serde.dumps_typed(value))

    def _load(self, packed: Any, item: Item, what: str) -> Any:
        tag, data = unpack_typed(packed, item.namespace, item.key)
        if tag.split("+")[0] in _CODE_TAGS:
            raise CorruptDataError(f"{what} is tagged {tag!r}: refusing to unpickle",
                                   namespace=item.namespace, key=item.key)
        try:
            return self.serde.loads_typed((tag, data))
        except (NotImplementedError, ValueError, TypeError) as exc:
            raise CorruptDataError(f"{what} does not deserialize: {exc}",
                                   namespace=item.namespace, key=item.key) from exc

    # -- writes ----------------------------------------------------------------------------

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store ``checkpoint`` (channel values included) as one object."""
        thread_id, checkpoint_ns = _address(config)
        parent = (config.get("configurable") or {}).get("checkpoint_id")
        location = _Location.of(thread_id, checkpoint_ns)
        body = {
            "format": FORMAT,
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint["id"],
            "parent_checkpoint_id": parent,
            "checkpoint": self._dump(checkpoint),
            "metadata": self._dump(get_checkpoint_metadata(config, metadata)),
        }
        await self._store.put(location.checkpoints, descending_key(checkpoint["id"]), body)
        return _config(thread_id, checkpoint_ns, checkpoint["id"])

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes against the checkpoint in ``config``."""
        thread_id, checkpoint_ns = _address(config)
        checkpoint_id = (config.get("configurable") or {}).get("checkpoint_id")
        if not isinstance(checkpoint_id, str):
            raise InvalidDataError(
                "config['configurable'] needs the 'checkpoint_id' the writes belong to"
            )
        namespace = _Location.of(thread_id, checkpoint_ns).writes(descending_key(checkpoint_id))
        task_label = encode_label(task_id, max_bytes=_TASK_LABEL_BYTES)
        pending: dict[str, tuple[int, dict[str, Any]]] = {}  # the last write per slot wins
        for position, (channel, value) in enumerate(writes):
            index = WRITES_IDX_MAP.get(channel, position)
            pending[f"{task_label}.{index}"] = (index, {
                "task_id": task_id, "task_path": task_path, "idx": index,
                "channel": channel, "value": self._dump(value),
            })

        async def write(key: str, index: int, body: dict[str, Any]) -> None:
            if index < 0:  # special writes are replaced
                await self._store.put(namespace, key, body)
                return
            # A conflict means this task's write is already stored: the first one stands.
            with contextlib.suppress(ConflictError):
                await self._store.put(namespace, key, body, if_absent=True)

        await gather_bounded(
            (write(key, index, body) for key, (index, body) in pending.items()),
            self._store.max_concurrency,
        )

    async def adelete_thread(self, thread_id: str) -> None:
        """Remove every checkpoint and write of the thread (all namespaces)."""
        thread = encode_label(str(thread_id), keep_valid=True)
        await asyncio.gather(
            self._store.delete_namespace((CHECKPOINTS, thread, CHECKPOINTS_LABEL)),
            self._store.delete_namespace((CHECKPOINTS, thread, WRITES_LABEL)),
        )

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write of a thread to another thread id (a fork
        that shares the whole history). Writes are copied before the checkpoints,
        so a reader of the target never sees a checkpoint without its writes."""
        source = encode_label(str(source_thread_id), keep_valid=True)
        target = encode_label(str(target_thread_id), keep_valid=True)
        namespaces = await self._store.list_namespaces((CHECKPOINTS, source))
        for label, depth in ((WRITES_LABEL, 5), (CHECKPOINTS_LABEL, 4)):
            await gather_bounded(
                (self._copy_namespace(ns, (CHECKPOINTS, target, *ns[2:]), str(target_thread_id))
                 for ns in namespaces if len(ns) == depth and ns[2] == label),
                self._store.max_concurrency,
            )

    async def _copy_namespace(self, source: Namespace, target: Namespace, thread_id: str) -> None:
        keys = [key async for key in self._store.iter_keys(source)]
        for item in await self._store.get_many(source, keys):
            body = item.value
            if target[2] == CHECKPOINTS_LABEL and isinstance(body, dict):
                body = {**body, "thread_id": thread_id}
            await self._store.put(target, item.key, body)

    # -- reads -------------------------------------------------------------------------------

    async def _pending_writes(self, location: _Location, key: str) -> list[PendingWrite]:
        namespace = location.writes(key)
        keys = [k async for k in self._store.iter_keys(namespace)]
        if not keys:
            return []
        ordered: list[tuple[tuple[str, str, int], PendingWrite]] = []
        for item in await self._store.get_many(namespace, keys):
            if not isinstance(item.value, dict):
                raise CorruptDataError("a write must be a JSON object",
                                       namespace=item.namespace, key=item.key)
            task_id = _field(item.value, "task_id", str, item)
            channel = _field(item.value, "channel", str, item)
            index = _field(item.value, "idx", int, item)
            task_path = _field(item.value, "task_path", str, item)
            value = self._load(item.value.get("value"), item, "write")
            ordered.append(((task_path, task_id, index), (task_id, channel, value)))
        ordered.sort(key=lambda entry: entry[0])  # LangGraph's writes_sort_key
        return [write for _, write in ordered]

    def _decode(
        self, item: Item, writes: list[PendingWrite] | None
    ) -> tuple[CheckpointTuple, CheckpointMetadata]:
        if not isinstance(item.value, dict):
            raise CorruptDataError("a checkpoint must be a JSON object",
                                   namespace=item.namespace, key=item.key)
        value = item.value
        thread_id = _field(value, "thread_id", str, item)
        checkpoint_ns = _field(value, "checkpoint_ns", str, item)
        checkpoint_id = _field(value, "checkpoint_id", str, item)
        if id_from_descending_key(item.key) != checkpoint_id:
            raise CorruptDataError(f"holds checkpoint {checkpoint_id!r}, not the one its key names",
                                   namespace=item.namespace, key=item.key)
        parent = value.get("parent_checkpoint_id")
        metadata: CheckpointMetadata = self._load(value.get("metadata"), item, "metadata")
        checkpoint: Checkpoint = self._load(value.get("checkpoint"), item, "checkpoint")
        parent_config = (
            _config(thread_id, checkpoint_ns, parent) if isinstance(parent, str) else None
        )
        return CheckpointTuple(
            config=_config(thread_id, checkpoint_ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=metadata,
            parent_config=parent_config,
            pending_writes=writes,
        ), metadata

    async def _latest_key(self, location: _Location) -> str | None:
        after: str | None = None
        while True:  # one request unless foreign objects sort before the checkpoints
            page = await self._store.list_keys(location.checkpoints, after=after, limit=1)
            for key in page.keys:
                if is_uuid(key):
                    return key
            if page.next_after is None:
                return None
            after = page.next_after

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named in ``config``, else the thread's latest, with its writes."""
        thread_id, checkpoint_ns = _address(config)
        location = _Location.of(thread_id, checkpoint_ns)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id is None:
            key = await self._latest_key(location)
            if key is None:
                return None
        elif is_uuid(checkpoint_id):
            key = descending_key(checkpoint_id)
        else:
            return None  # no id of another shape is ever stored
        item, writes = await asyncio.gather(
            self._store.get(location.checkpoints, key), self._pending_writes(location, key)
        )
        return None if item is None else self._decode(item, writes)[0]

    async def _locations(self, config: RunnableConfig | None) -> list[_Location]:
        if config is not None and "checkpoint_ns" in (config.get("configurable") or {}):
            return [_Location.of(*_address(config))]
        if config is None:
            prefix: tuple[str, ...] = (CHECKPOINTS,)
        else:
            prefix = (CHECKPOINTS, encode_label(_address(config)[0], keep_valid=True))
        found = []
        for namespace in await self._store.list_namespaces(prefix):
            if len(namespace) == 4 and namespace[2] == CHECKPOINTS_LABEL:
                found.append(_Location(namespace[1], namespace[3]))
        return found

    async def _matching(
        self, location: _Location, key: str, filter: dict[str, Any] | None
    ) -> CheckpointTuple | None:
        item = await self._store.get(location.checkpoints, key)
        if item is None:
            return None  # deleted since it was listed
        _, metadata = self._decode(item, None)
        fields: dict[str, Any] = dict(metadata)
        if filter and not all(fields.get(name) == value for name, value in filter.items()):
            return None
        return self._decode(item, await self._pending_writes(location, key))[0]

    async def _series(
        self,
        location: _Location,
        filter: dict[str, Any] | None,
        before_id: str | None,
        limit: int | None,
    ) -> AsyncIterator[CheckpointTuple]:
        """One series, newest first, from just below ``before_id``."""
        after = descending_key(before_id) if before_id is not None and is_uuid(before_id) else None
        while True:
            size = _LIST_PAGE if filter or limit is None else min(limit, _LIST_PAGE)
            page = await self._store.list_keys(location.checkpoints, after=after, limit=size)
            keys = [
                key for key in page.keys
                if (checkpoint_id := id_from_descending_key(key)) is not None
                and (before_id is None or checkpoint_id < before_id)
            ]
            found = await gather_bounded(
                (self._matching(location, key, filter) for key in keys),
                self._store.max_concurrency,
            )
            for entry in found:
                if entry is not None:
                    yield entry
            if page.next_after is None:
                return
            after = page.next_after

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first, per thread and namespace; without a
        ``checkpoint_ns`` in ``config`` every namespace of the thread, without a
        config every thread (those two list the objects under the prefix)."""
        if limit is not None and limit <= 0:
            return
        before_id = get_checkpoint_id(before) if before is not None else None
        wanted_id = get_checkpoint_id(config) if config is not None else None
        remaining = limit
        for location in await self._locations(config):
            if wanted_id is not None:
                if not is_uuid(wanted_id) or (before_id is not None and wanted_id >= before_id):
                    continue
                entry = await self._matching(location, descending_key(wanted_id), filter)
                series: list[CheckpointTuple] = [] if entry is None else [entry]
                source: AsyncIterator[CheckpointTuple] = _aiter(series)
            else:
                source = self._series(location, filter, before_id, remaining)
            async for entry in source:
                yield entry
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return

    # -- the synchronous API, on the shared sync loop -------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return run_sync(self.aget_tuple(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        return iterate_sync(self.alist(config, filter=filter, before=before, limit=limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return run_sync(self.aput(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        run_sync(self.aput_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        run_sync(self.adelete_thread(thread_id))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        run_sync(self.acopy_thread(source_thread_id, target_thread_id))

    def get_next_version(self, current: str | None, channel: None) -> str:
        """``<32-digit counter>.<random>``, as LangGraph's own savers: increasing, and
        distinct between forks of one thread."""
        if current is None:
            number = 0
        elif isinstance(current, int):
            number = current
        else:
            number = int(current.split(".")[0])
        return f"{number + 1:032}.{random.random():016}"


async def _aiter(entries: list[CheckpointTuple]) -> AsyncIterator[CheckpointTuple]:
    for entry in entries:
        yield entry
