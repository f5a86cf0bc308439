"""The error hierarchy: every failure the library raises is a :class:`SynapticError`.

Callers (the HTTP handlers above all) map these classes to outcomes, so each one
names a *kind* of failure, not a place in the code, and carries the namespace/key
or bucket it concerns so that a log line alone is enough to find the object.

    SynapticError
    ├── InvalidKeyError         a namespace part or key is not allowed (no I/O was done)
    ├── InvalidDataError        a value cannot be stored (not JSON, too large, wrong shape)
    ├── NotFoundError           the caller named something that does not exist
    ├── ConflictError           a conditional write lost (or kept losing) a race
    │   ├── MessageConflictError    a message id is already stored with other content
    │   ├── LeaseHeldError          another holder has the session's unexpired lease
    │   └── LeaseLostError          a lease being renewed or released is no longer ours
    ├── CorruptDataError        a stored object is not valid JSON or not the expected schema
    └── StorageError            the backend failed
        ├── StorageUnavailableError   network errors, 5xx, throttling after retries
        ├── BucketNotFoundError       the configured bucket does not exist
        └── AccessDeniedError         credentials lack permission
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any


class SynapticError(Exception):
    """Base of every error this library raises on purpose."""


def _where(namespace: Sequence[str] | None, key: str | None) -> str:
    parts = []
    if namespace is not None:
        parts.append(f"namespace={tuple(namespace)!r}")
    if key is not None:
        parts.append(f"key={key!r}")
    return f" ({', '.join(parts)})" if parts else ""


class InvalidKeyError(SynapticError, ValueError):
    """A namespace part or key breaks the naming rules; raised before any I/O."""

    def __init__(
        self, reason: str, *, namespace: Sequence[str] | None = None, key: str | None = None
    ) -> None:
        self.reason = reason
        self.namespace = tuple(namespace) if namespace is not None else None
        self.key = key
        super().__init__(f"invalid name: {reason}{_where(namespace, key)}")


class InvalidDataError(SynapticError, ValueError):
    """A value cannot be stored or parsed as the type asked for (caller's mistake)."""


class NotFoundError(SynapticError, LookupError):
    """A named thing (session, checkpoint) does not exist."""

    def __init__(self, what: str, identifier: str) -> None:
        self.what = what
        self.identifier = identifier
        super().__init__(f"{what} {identifier!r} not found")


class ConflictError(SynapticError):
    """A conditional write found the object changed (or present/absent) under it."""

    def __init__(
        self,
        message: str,
        *,
        namespace: Sequence[str] | None = None,
        key: str | None = None,
    ) -> None:
        self.namespace = tuple(namespace) if namespace is not None else None
        self.key = key
        super().__init__(f"{message}{_where(namespace, key)}")


class MessageConflictError(ConflictError):
    """A message's id is already stored with different content: appending it again
    would either drop the new content or store two messages under one id, so the
    append is refused and nothing is written. ``message_id`` names the id."""

    def __init__(
        self,
        message_id: str,
        *,
        namespace: Sequence[str] | None = None,
        key: str | None = None,
    ) -> None:
        self.message_id = message_id
        super().__init__(
            f"message id {message_id!r} is already stored with different content",
            namespace=namespace, key=key,
        )


class LeaseHeldError(ConflictError):
    """Another holder has the session's lease and it has not expired: ``owner`` names
    the holder, ``expires_at`` when (by the holder's clock) it runs out."""

    def __init__(self, session_id: str, *, owner: str, expires_at: datetime) -> None:
        self.session_id = session_id
        self.owner = owner
        self.expires_at = expires_at
        super().__init__(
            f"session {session_id!r} is leased by {owner!r} until "
            f"{expires_at.isoformat(timespec='milliseconds')}",
            namespace=("memory", session_id), key="lease",
        )


class LeaseLostError(ConflictError):
    """The lease being renewed or released is no longer this holder's: it expired and
    was taken over (``owner`` names the new holder), was released, or its session was
    deleted. Nothing was written: the new holder is never disturbed."""

    def __init__(self, session_id: str, reason: str, *, owner: str | None = None) -> None:
        self.session_id = session_id
        self.owner = owner
        self.state: Any = None
        """The lease object found instead (a ``LeaseState``), when there is one."""
        super().__init__(f"lease on session {session_id!r} lost: {reason}",
                         namespace=("memory", session_id), key="lease")


class CorruptDataError(SynapticError):
    """A stored object cannot be decoded: bad JSON or not the schema its place implies."""

    def __init__(self, message: str, *, namespace: Sequence[str], key: str) -> None:
        self.namespace = tuple(namespace)
        self.key = key
        super().__init__(f"{message}{_where(namespace, key)}")


class StorageError(SynapticError):
    """The storage backend failed; ``bucket`` is set for S3 stores."""

    def __init__(self, message: str, *, bucket: str | None = None) -> None:
        self.bucket = bucket
        super().__init__(message)


class StorageUnavailableError(StorageError):
    """Network trouble, server errors or throttling that outlasted the retries."""


class BucketNotFoundError(StorageError):
    """The configured bucket does not exist (or the endpoint is not the one meant)."""

    def __init__(self, bucket: str) -> None:
        super().__init__(f"bucket {bucket!r} does not exist", bucket=bucket)


class AccessDeniedError(StorageError):
    """The credentials in use may not perform the operation."""
