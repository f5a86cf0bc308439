"""``ClaudeSessionStore``: a Claude Agent SDK ``SessionStore`` over a synaptic Store.

The SDK mirrors every session transcript (JSONL entries) to a ``SessionStore`` and
reads it back to resume a session on another machine. Layout, for project key ``P``
and session ``S`` (both through :func:`~synaptic_s3.integrations.codec.encode_label`;
a session id that is a valid key is kept as is, so it IS the synaptic session id)::

    memory/S/claude-agent-sdk/P/transcript.json              the main transcript
    memory/S/claude-agent-sdk/P/subagents/<subpath>.json     one per subagent transcript
    claude-agent-sdk/P/S.json                                the project's index entry

Why this shape:

* **One GET to resume.** A transcript is ONE object (entries, the SDK's folded
  summary, and the ids of its last batches), so ``load`` is one request whatever
  the number of appends; the SDK's reference S3 adapter lists the session and
  reads one object per append batch.
* **No clocks.** Order is the order in which conditional writes commit on that one
  object: an append reads the transcript (or uses the version this instance last
  wrote), adds its entries and writes only if nothing changed in between
  (``IfMatch``/``IfNoneMatch`` on S3), else reads again and retries. Concurrent
  writers, in any number of processes, lose nothing and never interleave a batch.
* **Idempotent.** Entries with a ``uuid`` already stored are skipped (the SDK's
  idempotency key: its own retries re-send the batch); a write whose answer was
  lost is recognised by the batch id recorded in the object and not applied twice.
* **Under the session's prefix.** ``SessionManager.delete_session(S)`` removes every
  transcript of ``S``. The index entry (one tiny object per session and project,
  holding only the two ids) is outside it because ``list_sessions(P)`` must not scan
  every session of the bucket; ``delete`` removes it, and an entry whose transcript
  is gone (a ``delete_session``) is skipped by the listings.
* ``mtime`` is the storage's own write time of the transcript (S3 ``LastModified``,
  file mtime), the same clock for ``list_sessions`` and ``list_session_summaries``.

Trade-off: an append rewrites the whole transcript object (one PUT of its size).
"""

from __future__ import annotations

import contextlib
from typing import Any, cast

from claude_agent_sdk import fold_session_summary
from claude_agent_sdk.types import (
    SessionKey,
    SessionListSubkeysKey,
    SessionStoreEntry,
    SessionStoreListEntry,
    SessionSummaryEntry,
)

from synaptic_s3.core.errors import ConflictError, CorruptDataError, InvalidKeyError
from synaptic_s3.core.keys import Namespace, validate_key
from synaptic_s3.core.retry import DEFAULT_BACKOFF, Backoff, Edit, gather_bounded
from synaptic_s3.core.store import Item, Store
from synaptic_s3.ids import uuid7
from synaptic_s3.integrations.codec import decode_label, encode_label
from synaptic_s3.integrations.documents import Documents
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager

LABEL = "claude-agent-sdk"
TRANSCRIPT_KEY = "transcript"
SUBAGENTS = "subagents"
FORMAT = 1
RECENT_BATCHES = 64
"""Batch ids remembered per transcript: far more than writers racing on one session."""


def _epoch_ms(item: Item) -> int:
    return int(item.updated_at.timestamp() * 1000)


class ClaudeSessionStore:
    """The SDK's ``SessionStore`` protocol (all of it: ``append``, ``load``,
    ``list_sessions``, ``list_session_summaries``, ``delete``, ``list_subkeys``).

    ``source`` is a :class:`SessionManager` or its store. Pass the instance as
    ``ClaudeAgentOptions(session_store=...)`` or to the SDK's ``*_from_store`` /
    ``*_via_store`` helpers. It keeps, per transcript, the version it last wrote
    (bounded LRU, ``cache_size``), so an append to a transcript this instance
    already knows costs one conditional PUT.
    """

    def __init__(
        self,
        source: SessionManager | Store,
        *,
        max_attempts: int = 64,
        cache_size: int = 256,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> None:
        store = source.store if isinstance(source, SessionManager) else source
        self._docs = Documents(store, cache_size=cache_size, max_attempts=max_attempts,
                               backoff=backoff)

    @property
    def store(self) -> Store:
        return self._docs.store

    # -- addresses --------------------------------------------------------------------------

    @staticmethod
    def _session_namespace(project_key: str, session_id: str) -> Namespace:
        if not isinstance(project_key, str) or not isinstance(session_id, str):
            raise InvalidKeyError("project_key and session_id must be strings")
        return (MEMORY, encode_label(session_id, keep_valid=True), LABEL,
                encode_label(project_key))

    def _address(self, key: SessionKey) -> tuple[Namespace, str]:
        namespace = self._session_namespace(key["project_key"], key["session_id"])
        subpath = key.get("subpath")
        if subpath is None:
            return validate_key(namespace, TRANSCRIPT_KEY)
        if not isinstance(subpath, str) or not subpath:
            raise InvalidKeyError("subpath must be a non-empty string (omit it for the main "
                                  "transcript)")
        return validate_key((*namespace, SUBAGENTS), encode_label(subpath))

    @staticmethod
    def _index_address(project_key: str, session_id: str) -> tuple[Namespace, str]:
        return validate_key((LABEL, encode_label(project_key)),
                            encode_label(session_id, keep_valid=True))

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def _check(value: Any, namespace: Namespace, key: str) -> dict[str, Any]:
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("entries"), list)
            or not isinstance(value.get("batches"), list)
        ):
            raise CorruptDataError("expected a transcript {entries: [...], batches: [...]}",
                                   namespace=namespace, key=key)
        return value

    def _parse(self, item: Item) -> dict[str, Any]:
        return self._check(item.value, item.namespace, item.key)

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        """Every entry of the transcript in commit order, or ``None`` if it was never
        written (or was deleted). One GET."""
        item = await self._docs.read(*self._address(key))
        if item is None:
            return None
        return cast(list[SessionStoreEntry], list(self._parse(item)["entries"]))

    # -- appending --------------------------------------------------------------------------

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        """Add ``entries`` at the end of the transcript, all in one conditional write.

        An entry whose ``uuid`` is already stored (or earlier in the batch) is
        skipped; entries without one are always added. 1 request when this instance
        knows the transcript's current version, 2 otherwise (GET + PUT), +1 for the
        index entry when a main transcript is created.
        """
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise TypeError("entries must be a list of JSON objects")
        if not entries:
            return
        address = self._address(key)
        main = key.get("subpath") is None
        batch = str(uuid7())
        indexed = False
        if main and not await self._docs.exists(*address):
            await self._index(key)  # a new session: indexed before it exists (never unlisted)
            indexed = True

        def decide(current: Any) -> Edit[bool]:
            if current is not None:
                self._check(current, *address)
                if batch in current["batches"]:
                    return Edit(None, False)  # an earlier attempt landed; its answer was lost
            stored = [] if current is None else current["entries"]
            seen = {e["uuid"] for e in stored if isinstance(e.get("uuid"), str)}
            new: list[dict[str, Any]] = []
            for entry in entries:
                uuid = entry.get("uuid")
                if isinstance(uuid, str):
                    if uuid in seen:
                        continue
                    seen.add(uuid)
                new.append(dict(entry))
            if not new:
                return Edit(None, False)
            value: dict[str, Any] = {
                "format": FORMAT,
                "project_key": key["project_key"],
                "session_id": key["session_id"],
                "entries": [*stored, *new],
                "batches": [*([] if current is None else current["batches"]),
                            batch][-RECENT_BATCHES:],
            }
            if main:
                value["summary"] = self._fold(key, current, new)
            else:
                value["subpath"] = key["subpath"]
            return Edit(value, current is None)

        created = await self._docs.edit(*address, decide)
        if main and created and not indexed:  # re-created after a concurrent delete
            await self._index(key)

    @staticmethod
    def _fold(key: SessionKey, current: dict[str, Any] | None,
              new: list[dict[str, Any]]) -> dict[str, Any]:
        """The SDK's own summary fold, persisted verbatim (its ``data`` is opaque);
        ``mtime`` is not stored: it is the object's write time, stamped on read."""
        previous: SessionSummaryEntry | None = None
        if current is not None and isinstance(current.get("summary"), dict):
            previous = {"session_id": key["session_id"], "mtime": 0,
                        "data": current["summary"]}
        folded = fold_session_summary(previous, key, cast(list[SessionStoreEntry], new))
        return dict(folded["data"])

    async def _index(self, key: SessionKey) -> None:
        """Create the project's index entry before the transcript it points to, so
        no transcript is ever unlisted (a crash in between leaves an entry that the
        listings skip until the transcript exists)."""
        address = self._index_address(key["project_key"], key["session_id"])
        with contextlib.suppress(ConflictError):  # a conflict: it is already indexed
            await self._docs.store.put(*address, {"project_key": key["project_key"],
                                              "session_id": key["session_id"]},
                                  if_absent=True)

    # -- listing ----------------------------------------------------------------------------

    async def _main_transcripts(self, project_key: str) -> list[Item]:
        index_namespace, _ = self._index_address(project_key, "x")
        labels = [label async for label in self._docs.store.iter_keys(index_namespace)]
        project = encode_label(project_key)
        items = await gather_bounded(
            (self._docs.store.get((MEMORY, label, LABEL, project), TRANSCRIPT_KEY)
             for label in labels),
            self._docs.store.max_concurrency,
        )
        found = []
        for item in items:
            if item is not None:
                self._parse(item)
                found.append(item)
        return found

    async def list_sessions(self, project_key: str) -> list[SessionStoreListEntry]:
        """The project's sessions with the storage write time of their transcript
        (epoch ms). One listing per 1,000 sessions plus one GET per session."""
        return [{"session_id": item.value["session_id"], "mtime": _epoch_ms(item)}
                for item in await self._main_transcripts(project_key)]

    async def list_session_summaries(self, project_key: str) -> list[SessionSummaryEntry]:
        """The SDK's folded summaries, stamped with the same ``mtime`` as
        :meth:`list_sessions` (they live in the transcript object itself)."""
        return [
            {"session_id": item.value["session_id"], "mtime": _epoch_ms(item),
             "data": dict(item.value.get("summary") or {})}
            for item in await self._main_transcripts(project_key)
        ]

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        """The subpaths of the session's subagent transcripts, in key order."""
        namespace = (*self._session_namespace(key["project_key"], key["session_id"]),
                     SUBAGENTS)
        subpaths: list[str] = []
        digests: list[str] = []
        async for label in self._docs.store.iter_keys(namespace):
            decoded = decode_label(label)
            if decoded is None:
                digests.append(label)
            else:
                subpaths.append(decoded)
        for item in await self._docs.store.get_many(namespace, digests):
            subpath = self._parse(item).get("subpath")
            if not isinstance(subpath, str):
                raise CorruptDataError("subagent transcript without its subpath",
                                       namespace=item.namespace, key=item.key)
            subpaths.append(subpath)
        return subpaths

    # -- deleting ---------------------------------------------------------------------------

    async def delete(self, key: SessionKey) -> None:
        """Delete one subagent transcript (with ``subpath``) or the main transcript with
        every subagent transcript of the session and its index entry (without)."""
        if key.get("subpath") is not None:
            address = self._address(key)
            self._docs.forget(*address)
            await self._docs.store.delete(*address)
            return
        namespace = self._session_namespace(key["project_key"], key["session_id"])
        self._docs.forget_under(namespace)
        await self._docs.store.delete_namespace(namespace)
        self._docs.forget_under(namespace)
        await self._docs.store.delete(*self._index_address(key["project_key"], key["session_id"]))

