"""One pass over the bucket's listing: which sessions exist, when each was last
written, and which objects belong to no session.

Everything here comes from :meth:`Store.iter_entries` (on S3, ListObjectsV2 pages:
each object's key, ``LastModified`` and ``Size``), so a census of a store holding M
objects costs ceil(M/1000) listings and reads nothing.

A session ``id`` owns ``("sessions",)/id`` (its metadata), everything under
``("memory", id)`` (messages, segments, summary, lease) and everything under
``("checkpoints", id)`` (native and LangGraph checkpoints). Objects under the last
two whose metadata does not exist are *orphans*: left by a write that raced a delete,
by an interrupted fork or import, or by another service.

With ``isolated=True`` the store is the root of the service's per-user layout
(``users/<h>/sessions/...``, :mod:`synaptic_s3.service.isolation`): each
``("users", h)`` is a scope of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.store import Store

SESSIONS = "sessions"
OWNED = ("memory", "checkpoints")
USERS = "users"

Scope = tuple[str, ...]


@dataclass(slots=True)
class SessionRecord:
    """What the listing says about one session id in one scope."""

    scope: Scope
    session_id: str
    metadata_at: datetime | None = None
    """When the metadata object was last written; ``None``: no metadata (orphans)."""
    last_write: datetime | None = None
    """The latest write of any object the session owns, metadata included."""
    owned: list[tuple[Namespace, str]] = field(default_factory=list)
    """Objects under ``memory/<id>/`` and ``checkpoints/<id>/`` (scope stripped)."""
    size: int = 0

    def touch(self, moment: datetime) -> None:
        if self.last_write is None or moment > self.last_write:
            self.last_write = moment


@dataclass(slots=True)
class Census:
    """Every session id seen, by (scope, id)."""

    records: dict[tuple[Scope, str], SessionRecord] = field(default_factory=dict)
    objects: int = 0

    def record(self, scope: Scope, session_id: str) -> SessionRecord:
        found = self.records.get((scope, session_id))
        if found is None:
            found = self.records[(scope, session_id)] = SessionRecord(scope, session_id)
        return found

    def sessions(self) -> list[SessionRecord]:
        """Sessions with metadata, in (scope, id) order."""
        return [r for _, r in sorted(self.records.items()) if r.metadata_at is not None]

    def orphans(self) -> list[SessionRecord]:
        """Ids with objects but no metadata, in (scope, id) order."""
        return [r for _, r in sorted(self.records.items()) if r.metadata_at is None]


def _split(namespace: Namespace, isolated: bool) -> tuple[Scope, Namespace] | None:
    if not isolated:
        return (), namespace
    if len(namespace) >= 3 and namespace[0] == USERS:
        return namespace[:2], namespace[2:]
    return None  # outside every user's scope: not a session object


async def take_census(store: Store, *, isolated: bool = False,
                      prefixes: Sequence[Sequence[str]] | None = None) -> Census:
    """List the store once and sort every session object by owner.

    ``prefixes`` restricts the listing (default: ``sessions/``, ``memory/`` and
    ``checkpoints/``, or ``users/`` when isolated), so other data in the bucket
    (idempotency records) is not listed."""
    if prefixes is None:
        prefixes = [(USERS,)] if isolated else [(SESSIONS,), *((name,) for name in OWNED)]
    census = Census()
    for prefix in prefixes:
        async for page in store.iter_entries(prefix):
            for entry in page:
                census.objects += 1
                split = _split(entry.namespace, isolated)
                if split is None:
                    continue
                scope, rest = split
                if rest == (SESSIONS,):
                    record = census.record(scope, entry.key)
                    record.metadata_at = entry.updated_at
                    record.touch(entry.updated_at)
                elif len(rest) >= 2 and rest[0] in OWNED:
                    record = census.record(scope, rest[1])
                    record.owned.append((rest, entry.key))
                    record.size += entry.size
                    record.touch(entry.updated_at)
    return census


async def owned_last_write(store: Store, session_id: str) -> datetime | None:
    """The latest write under the session's ``memory/`` and ``checkpoints/`` prefixes,
    from two listings (the re-check before deleting an idle session)."""
    latest: datetime | None = None
    for name in OWNED:
        async for page in store.iter_entries((name, session_id)):
            for entry in page:
                if latest is None or entry.updated_at > latest:
                    latest = entry.updated_at
    return latest
