"""Store backends: in memory, on local files, on S3.

Each is imported on first use (PEP 562): code that needs one backend never pays for
the others (botocore for ``S3Store``; the Lambda handler never loads the file store).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synaptic_s3.store.file import FileStore
    from synaptic_s3.store.memory import InMemoryStore
    from synaptic_s3.store.s3 import S3Store

__all__ = ["FileStore", "InMemoryStore", "S3Store"]

_EXPORTS = {
    "FileStore": "synaptic_s3.store.file",
    "InMemoryStore": "synaptic_s3.store.memory",
    "S3Store": "synaptic_s3.store.s3",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
