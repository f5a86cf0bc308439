"""The contracts everything else builds on: messages, the Store interface, errors."""

from synaptic_s3.core.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    InvalidKeyError,
    MessageConflictError,
    NotFoundError,
    StorageError,
    StorageUnavailableError,
    SynapticError,
)
from synaptic_s3.core.messages import (
    ContentBlock,
    InvalidToolCall,
    Message,
    ToolCall,
    UsageMetadata,
)
from synaptic_s3.core.store import Item, JSONValue, KeyPage, Store

__all__ = [
    "AccessDeniedError",
    "BucketNotFoundError",
    "ConflictError",
    "ContentBlock",
    "CorruptDataError",
    "InvalidDataError",
    "InvalidKeyError",
    "InvalidToolCall",
    "Item",
    "JSONValue",
    "KeyPage",
    "Message",
    "MessageConflictError",
    "NotFoundError",
    "StorageError",
    "StorageUnavailableError",
    "Store",
    "SynapticError",
    "ToolCall",
    "UsageMetadata",
]
