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
from synaptic_s3.core.store import Entry, Item, JSONValue, KeyPage, Store
from synaptic_s3.core.wrapper import StoreWrapper

__all__ = [
    "AccessDeniedError",
    "BucketNotFoundError",
    "ConflictError",
    "ContentBlock",
    "CorruptDataError",
    "Entry",
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
    "StoreWrapper",
    "SynapticError",
    "ToolCall",
    "UsageMetadata",
]
