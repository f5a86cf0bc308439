"""Store backends: in memory, on local files, on S3.

``S3Store`` is imported on first use, so code that only needs the in-memory or file
store (tests, the CLI with ``file://``) never pays for importing botocore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synaptic_s3.store.file import FileStore
from synaptic_s3.store.memory import InMemoryStore

if TYPE_CHECKING:
    from synaptic_s3.store.s3 import S3Store

__all__ = ["FileStore", "InMemoryStore", "S3Store"]


def __getattr__(name: str) -> Any:
    if name == "S3Store":
        from synaptic_s3.store.s3 import S3Store

        return S3Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
