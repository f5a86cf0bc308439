"""synaptic-s3: durable LLM-agent sessions in S3, on files or in memory.

A Python port of the Rust ``synaptic::session`` design: one :class:`Store` holds
session metadata, chat messages, summaries and graph checkpoints, through
:class:`SessionManager`, :class:`ChatMessageHistory` and :class:`StoreCheckpointer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from synaptic_s3.store.s3 import S3Store

__version__ = "0.1.0"

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
    if name == "S3Store":  # imported on first use: botocore is heavy for a cold start
        from synaptic_s3.store.s3 import S3Store

        return S3Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
