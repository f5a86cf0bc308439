"""synaptic-s3: durable LLM-agent sessions in S3, on files or in memory.

A Python port of the Rust ``synaptic::session`` design: one :class:`Store` holds
session metadata, chat messages, summaries and graph checkpoints, through
:class:`SessionManager`, :class:`ChatMessageHistory` and :class:`StoreCheckpointer`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synaptic_s3.checkpoint import Checkpoint, CheckpointConfig, StoreCheckpointer
    from synaptic_s3.core import (
        AccessDeniedError,
        BucketNotFoundError,
        ConflictError,
        CorruptDataError,
        InvalidDataError,
        InvalidKeyError,
        Item,
        Message,
        MessageConflictError,
        NotFoundError,
        StorageError,
        StorageUnavailableError,
        Store,
        SynapticError,
        ToolCall,
    )
    from synaptic_s3.memory import ChatMessageHistory, MessagePage
    from synaptic_s3.session import SessionInfo, SessionManager
    from synaptic_s3.store import FileStore, InMemoryStore
    from synaptic_s3.store.s3 import S3Store

__version__ = "0.1.0"

# Where each public name lives. They are imported on first use (PEP 562), so importing
# one submodule (the Lambda handler imports ``synaptic_s3.service...``) does not import
# every other one: the file store, or botocore for ``S3Store``, only when asked for.
_EXPORTS = {
    "Checkpoint": "synaptic_s3.checkpoint",
    "CheckpointConfig": "synaptic_s3.checkpoint",
    "StoreCheckpointer": "synaptic_s3.checkpoint",
    "AccessDeniedError": "synaptic_s3.core",
    "BucketNotFoundError": "synaptic_s3.core",
    "ConflictError": "synaptic_s3.core",
    "CorruptDataError": "synaptic_s3.core",
    "InvalidDataError": "synaptic_s3.core",
    "InvalidKeyError": "synaptic_s3.core",
    "Item": "synaptic_s3.core",
    "Message": "synaptic_s3.core",
    "MessageConflictError": "synaptic_s3.core",
    "NotFoundError": "synaptic_s3.core",
    "StorageError": "synaptic_s3.core",
    "StorageUnavailableError": "synaptic_s3.core",
    "Store": "synaptic_s3.core",
    "SynapticError": "synaptic_s3.core",
    "ToolCall": "synaptic_s3.core",
    "ChatMessageHistory": "synaptic_s3.memory",
    "MessagePage": "synaptic_s3.memory",
    "SessionInfo": "synaptic_s3.session",
    "SessionManager": "synaptic_s3.session",
    "FileStore": "synaptic_s3.store.file",
    "InMemoryStore": "synaptic_s3.store.memory",
    "S3Store": "synaptic_s3.store.s3",
}

__all__ = [
    "AccessDeniedError",
    "BucketNotFoundError",
    "ChatMessageHistory",
    "Checkpoint",
    "CheckpointConfig",
    "ConflictError",
    "CorruptDataError",
    "FileStore",
    "InMemoryStore",
    "InvalidDataError",
    "InvalidKeyError",
    "Item",
    "Message",
    "MessageConflictError",
    "MessagePage",
    "NotFoundError",
    "S3Store",
    "SessionInfo",
    "SessionManager",
    "StorageError",
    "StorageUnavailableError",
    "Store",
    "StoreCheckpointer",
    "SynapticError",
    "ToolCall",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
