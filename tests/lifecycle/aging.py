"""Making stored data look old without waiting: rewind the write time the store
reports (FileStore: file mtimes; InMemoryStore: its entries). S3 sets LastModified
itself, so tests that need data of different ages run on these two backends, and
the S3 backends are covered by tests that move ``now`` instead."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from synaptic_s3 import FileStore, InMemoryStore, Store
from synaptic_s3.core.keys import namespace_prefix


def age(store: Store, delta: timedelta, namespace: tuple[str, ...] = ()) -> None:
    """Make everything under ``namespace`` (all when empty) ``delta`` older."""
    if isinstance(store, InMemoryStore):
        prefix = namespace_prefix(namespace) if namespace else ""
        for path, entry in list(store._entries.items()):
            if path.startswith(prefix):
                store._entries[path] = dataclasses.replace(
                    entry, updated_at=entry.updated_at - delta,
                    created_at=entry.created_at - delta)
        return
    if isinstance(store, FileStore):
        root = Path(store.root)
        base = root.joinpath(*namespace) if namespace else root
        files = [p for p in base.rglob("*.json") if p.is_file()] if base.is_dir() else []
        for path in files:
            then = path.stat().st_mtime - delta.total_seconds()
            os.utime(path, (then, then))
        return
    pytest.skip("S3 sets LastModified itself")


def days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
