"""Per-user isolation (``ISOLATION_MODE=jwt``): each caller's data under its own prefix.

The caller is the ``sub`` claim that API Gateway's JWT authorizer verified and put in
``requestContext.authorizer.jwt.claims``. The mode comes from the environment only;
in ``jwt`` mode a request without a subject is refused (401) before any storage call.

Layout: the subject ``s`` owns every object under
``<SESSIONS_PREFIX>users/<h>/`` where ``h`` is the first 32 hex digits of
SHA-256(``s``) -- fixed length and free of separators whatever the subject holds, so
one subject's prefix never contains another's (:func:`subject_scope`). Inside it the
layout is the library's usual one (``sessions/<id>.json``, ``memory/<id>/...``).

:class:`ScopedStore` is a view of one store under such a namespace prefix: every
subject's :class:`~synaptic_s3.SessionManager` shares the one underlying store (and
its one S3 client), and the key rules of :mod:`synaptic_s3.core.keys` guarantee no
name given by a caller can leave the scope.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from synaptic_s3.core.keys import Namespace, validate_key, validate_namespace
from synaptic_s3.core.store import Store
from synaptic_s3.core.wrapper import StoreWrapper

USERS = "users"
_HASH_HEX = 32


def subject_scope(subject: str) -> Namespace:
    """The namespace prefix owning a subject's data: ``("users", <32 hex digits>)``."""
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()
    return (USERS, digest[:_HASH_HEX])


def subject_prefix(subject: str, sessions_prefix: str = "") -> str:
    """The S3 key prefix of a subject's objects (for operators: IAM, lifecycle, audits)."""
    base = sessions_prefix.strip("/")
    return (base + "/" if base else "") + "/".join(subject_scope(subject)) + "/"


def jwt_subject(event: Mapping[str, Any]) -> str | None:
    """The verified ``sub`` claim of an HTTP API JWT authorizer, or ``None``."""
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    jwt = authorizer.get("jwt") if isinstance(authorizer, Mapping) else None
    claims = jwt.get("claims") if isinstance(jwt, Mapping) else None
    subject = claims.get("sub") if isinstance(claims, Mapping) else None
    if isinstance(subject, str) and subject.strip():
        return subject
    return None


class ScopedStore(StoreWrapper):
    """``store`` seen under the namespace prefix ``scope``; closing it closes nothing
    (the underlying store is shared and owned by whoever created it).

    Every primitive is forwarded (:class:`~synaptic_s3.core.wrapper.StoreWrapper`), so
    an isolated deployment sends exactly the requests an unscoped one sends. The full
    scoped name is validated again: the scope counts towards the depth and length
    limits of :mod:`synaptic_s3.core.keys`."""

    def __init__(self, store: Store, scope: Sequence[str]) -> None:
        super().__init__(store)
        self._scope = validate_namespace(scope)

    @property
    def scope(self) -> Namespace:
        return self._scope

    def _inner_namespace(self, namespace: Namespace) -> Namespace:
        return validate_namespace(self._scope + namespace)

    def _inner_address(self, namespace: Namespace, key: str) -> Namespace:
        return validate_key(self._scope + namespace, key)[0]

    def _outer_namespace(self, namespace: Namespace) -> Namespace | None:
        if len(namespace) <= len(self._scope) or namespace[: len(self._scope)] != self._scope:
            return None
        return namespace[len(self._scope):]
