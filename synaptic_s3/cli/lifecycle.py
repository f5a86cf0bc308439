"""The lifecycle commands of ``synaptic-s3``: ``prune``, ``orphans`` and ``fork``, and
the delete of a session whose metadata is already gone.

Kept apart from :mod:`synaptic_s3.cli.main` (which only registers them) so each
command's rendering sits next to the library call it makes.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from synaptic_s3.session import SessionManager

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` (argparse type)."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration: a number and a unit, e.g. 30d, 12h, 90m, 2w")
    value = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError("the duration must be positive")
    return value


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"  # pragma: no cover


class ProgressCallback:
    """A ``progress(done, total)`` callback driving one rich progress bar, created on
    the first call (when the total is known)."""

    def __init__(self, progress: Any, description: str) -> None:
        self._progress = progress
        self._description = description
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self._task = self._progress.add_task(self._description, total=total)
        self._progress.update(self._task, completed=done)


ProgressFactory = Callable[[int], Any]


async def prune_idle(manager: SessionManager, args: argparse.Namespace, console: Console,
                     progress: Any) -> int:
    from synaptic_s3.lifecycle.retention import sweep_idle_sessions

    with progress:
        report = await sweep_idle_sessions(
            manager, args.idle, dry_run=args.dry_run,
            progress=ProgressCallback(progress, "checking" if args.dry_run else "deleting"))
    idle = format_duration(args.idle)
    if args.dry_run:
        for session_id in report.deleted:
            print(session_id)
        console.print(f"would delete {len(report.deleted)} session(s) idle for more than "
                      f"{idle} (dry run: nothing deleted)")
    else:
        for session_id in report.deleted:
            print(session_id)
        console.print(f"deleted {len(report.deleted)} session(s) idle for more than {idle}")
        if report.skipped:
            console.print(f"kept {len(report.skipped)} session(s) written during the sweep: "
                          + ", ".join(report.skipped))
    return 0


async def orphans(manager: SessionManager, args: argparse.Namespace, console: Console,
                  progress: Any) -> int:
    from synaptic_s3.lifecycle.orphans import sweep_orphans

    with progress:
        report = await sweep_orphans(
            manager, delete=args.delete, grace=args.grace,
            progress=ProgressCallback(progress, "deleting"))
    if report.found:
        from rich.table import Table

        table = Table(title=f"{len(report.found)} id(s) with objects but no session",
                      title_justify="left")
        for column in ("session id", "objects", "size", "last write"):
            table.add_column(column, no_wrap=True)
        for orphan in report.found:
            table.add_row(orphan.session_id, str(orphan.objects), _size(orphan.size),
                          orphan.last_write.isoformat(timespec="seconds"))
        console.print(table)
    summary = f"{report.objects} orphaned object(s) of {len(report.found)} id(s)"
    if not args.delete:
        console.print(f"{summary} (dry run: nothing deleted; --delete removes them)")
    else:
        console.print(f"{summary}: deleted those of {len(report.deleted)} id(s)")
        if report.kept:
            console.print(f"kept {len(report.kept)} id(s) written in the last "
                          f"{format_duration(args.grace)} or given a session meanwhile: "
                          + ", ".join(report.kept))
    return 0


async def delete_one(manager: SessionManager, session_id: str) -> bool:
    """Delete a session, also when only its objects are left (no metadata); ``False``
    when there was nothing at all."""
    from synaptic_s3.lifecycle.census import OWNED, SESSIONS

    had_metadata = await manager.store.get((SESSIONS,), session_id) is not None
    removed = await manager.store.delete_namespaces([(name, session_id) for name in OWNED])
    await manager.delete_session(session_id)
    return had_metadata or removed > 0
