"""Retention: find the sessions nobody has written to for a while, and delete them.

A session's last write is the newest ``LastModified`` of anything it owns: its
metadata, messages (the tail is rewritten by every append), segments, summary,
lease and checkpoints. One census (:mod:`synaptic_s3.lifecycle.census`) gives it
for every session at once: ceil(M/1000) listings for M objects, no reads (except
the metadata of ids that are not UUIDv7, to report their ``created_at``).

Deleting is safe to run concurrently with itself and with writers: right before
deleting a session, its ``memory/`` and ``checkpoints/`` prefixes are listed again
(2 listings) and the session is skipped if anything there was written after the
cut-off; then it is deleted as :meth:`SessionManager.delete_session` does (a
second sweeper deleting it too is harmless). A write landing in the few
milliseconds between that re-check and the delete is removed with the session or,
if it lands after the delete's listing, left as an orphan for
:mod:`synaptic_s3.lifecycle.orphans`: exactly what a DELETE racing a write does.
Metadata is not re-checked (only a create or an import writes it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.core.store import Store
from synaptic_s3.lifecycle.census import owned_last_write, take_census

if TYPE_CHECKING:
    from synaptic_s3.session import SessionInfo, SessionManager

Progress = Callable[[int, int], None]
"""``progress(done, total)``, called as each session is handled."""


def check_older_than(older_than: timedelta) -> None:
    if not isinstance(older_than, timedelta):
        raise TypeError(f"older_than must be a datetime.timedelta, not "
                        f"{type(older_than).__name__}")
    if older_than <= timedelta(0):
        raise ValueError(f"older_than must be positive, not {older_than}")


async def idle_ids(manager: SessionManager, older_than: timedelta, *,
                   now: datetime | None = None) -> list[str]:
    """Ids of the sessions (with metadata) whose last write is before now - older_than."""
    check_older_than(older_than)
    cutoff = (now or datetime.now(UTC)) - older_than
    census = await take_census(manager.store)
    return [record.session_id for record in census.sessions()
            if record.last_write is not None and record.last_write < cutoff]


async def idle_sessions(manager: SessionManager, older_than: timedelta, *,
                        now: datetime | None = None) -> list[SessionInfo]:
    """The idle sessions' metadata, oldest first."""
    return await manager._infos(await idle_ids(manager, older_than, now=now))


@dataclass(slots=True)
class SweepReport:
    """What a sweep found and did."""

    idle: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Idle at the census, written to before its turn came: kept."""
    remaining: int = 0
    """Idle sessions left for a later run (``limit`` reached)."""


async def sweep_idle_sessions(
    manager: SessionManager,
    older_than: timedelta,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    now: datetime | None = None,
    concurrency: int = 8,
    progress: Progress | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> SweepReport:
    """Delete (or, with ``dry_run``, only list) idle sessions.

    ``limit`` bounds how many are handled in this run and ``keep_going()`` (e.g. the
    Lambda's remaining time) is asked before each: the rest are found again by the
    next run, so a bounded sweep resumes where it stopped without keeping state."""
    check_older_than(older_than)
    moment = now or datetime.now(UTC)
    idle = await idle_ids(manager, older_than, now=moment)
    return await _sweep([(manager, session_id, session_id) for session_id in idle],
                        moment - older_than, dry_run=dry_run, limit=limit,
                        concurrency=concurrency, progress=progress, keep_going=keep_going)


async def sweep_store(
    store: Store,
    older_than: timedelta,
    *,
    isolated: bool = False,
    dry_run: bool = False,
    limit: int | None = None,
    now: datetime | None = None,
    concurrency: int = 8,
    keep_going: Callable[[], bool] | None = None,
) -> SweepReport:
    """:func:`sweep_idle_sessions` over a whole store, also in the service's per-user
    layout (``isolated``: each ``users/<h>/`` is its own set of sessions), from ONE
    census of the store. Ids in the report are ``users/<h>/<id>`` when isolated."""
    from synaptic_s3.service.isolation import ScopedStore
    from synaptic_s3.session import SessionManager

    check_older_than(older_than)
    moment = now or datetime.now(UTC)
    cutoff = moment - older_than
    census = await take_census(store, isolated=isolated)
    managers: dict[tuple[str, ...], SessionManager] = {}
    candidates: list[tuple[SessionManager, str, str]] = []
    for record in census.sessions():
        if record.last_write is None or record.last_write >= cutoff:
            continue
        if record.scope not in managers:
            scoped = ScopedStore(store, record.scope) if record.scope else store
            managers[record.scope] = SessionManager(scoped)
        label = "/".join((*record.scope, record.session_id))
        candidates.append((managers[record.scope], record.session_id, label))
    return await _sweep(candidates, cutoff, dry_run=dry_run, limit=limit,
                        concurrency=concurrency, progress=None, keep_going=keep_going)


async def _sweep(
    candidates: list[tuple[SessionManager, str, str]],
    cutoff: datetime,
    *,
    dry_run: bool,
    limit: int | None,
    concurrency: int,
    progress: Progress | None,
    keep_going: Callable[[], bool] | None,
) -> SweepReport:
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    report = SweepReport(idle=[label for _, _, label in candidates])
    batch = candidates if limit is None else candidates[:limit]
    report.remaining = len(candidates) - len(batch)
    done = 0

    async def handle(manager: SessionManager, session_id: str, label: str) -> None:
        nonlocal done
        if keep_going is not None and not keep_going():
            report.remaining += 1
        elif dry_run:
            report.deleted.append(label)
        else:
            latest = await owned_last_write(manager.store, session_id)
            if latest is not None and latest >= cutoff:
                report.skipped.append(label)
            else:
                await manager.delete_session(session_id)
                report.deleted.append(label)
        done += 1
        if progress is not None:
            progress(done, len(batch))

    await gather_bounded((handle(*candidate) for candidate in batch), concurrency)
    report.deleted.sort()
    report.skipped.sort()
    return report
