"""Objects that belong to no session, found and removed.

An object under ``memory/<id>/`` or ``checkpoints/<id>/`` whose session metadata
``sessions/<id>.json`` does not exist is an orphan: no route lists it and no
command could reach it. They come from a write racing a DELETE of its session, a
fork or import interrupted before its metadata (written last) landed, or another
service writing ids it never registered.

Finding them is one census (ceil(M/1000) listings, no reads). Removing them is
careful about the races that create them: right before an id's objects go, its
metadata is read (1 GET) -- an interrupted fork or import that has just completed,
or a session created meanwhile, is left alone -- and objects written in the last
``grace`` (default 10 minutes: a fork or import still in progress writes its
metadata last) are kept for a later sweep. Deletion is the batched delete of
:meth:`Store.delete_namespaces`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.lifecycle.census import OWNED, SESSIONS, SessionRecord, take_census

if TYPE_CHECKING:
    from synaptic_s3.session import SessionManager

DEFAULT_GRACE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Orphan:
    """The objects of one id that has no metadata."""

    session_id: str
    objects: int
    size: int
    last_write: datetime


@dataclass(slots=True)
class OrphanReport:
    found: list[Orphan] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    """Ids whose objects were deleted."""
    kept: list[str] = field(default_factory=list)
    """Ids found orphaned but left alone: written within ``grace``, or given
    metadata since the census."""

    @property
    def objects(self) -> int:
        return sum(orphan.objects for orphan in self.found)


def _orphan(record: SessionRecord) -> Orphan:
    assert record.last_write is not None
    return Orphan(record.session_id, len(record.owned), record.size, record.last_write)


async def find_orphans(manager: SessionManager) -> list[Orphan]:
    """Every id with objects under ``memory/`` or ``checkpoints/`` and no metadata."""
    census = await take_census(manager.store)
    return [_orphan(record) for record in census.orphans()]


async def sweep_orphans(
    manager: SessionManager,
    *,
    delete: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> OrphanReport:
    """Find orphans; with ``delete``, remove those not written within ``grace``."""
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    report = OrphanReport(found=await find_orphans(manager))
    if not delete:
        return report
    cutoff = (now or datetime.now(UTC)) - grace
    done = 0

    async def handle(orphan: Orphan) -> None:
        nonlocal done
        if orphan.last_write >= cutoff or await manager.store.get(
                (SESSIONS,), orphan.session_id) is not None:
            report.kept.append(orphan.session_id)
        else:
            await manager.store.delete_namespaces(
                [(name, orphan.session_id) for name in OWNED])
            manager.memory().forget(orphan.session_id)
            report.deleted.append(orphan.session_id)
        done += 1
        if progress is not None:
            progress(done, len(report.found))

    await gather_bounded((handle(orphan) for orphan in report.found), concurrency)
    report.deleted.sort()
    report.kept.sort()
    return report
