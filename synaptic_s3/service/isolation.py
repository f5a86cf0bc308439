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

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from synaptic_s3.core.keys import Namespace, validate_namespace
from synaptic_s3.core.store import DEFAULT_PAGE_SIZE, Item, JSONValue, KeyPage, Store

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


class ScopedStore(Store):
    """``store`` seen under the namespace prefix ``scope``; closing it closes nothing
    (the underlying store is shared and owned by whoever created it)."""

    def __init__(self, store: Store, scope: Sequence[str]) -> None:
        self._inner = store
        self._scope = validate_namespace(scope)
        self.max_concurrency = store.max_concurrency

    @property
    def scope(self) -> Namespace:
        return self._scope

    def _ns(self, namespace: Sequence[str]) -> Namespace:
        return self._scope + validate_namespace(namespace)

    def _strip(self, item: Item | None) -> Item | None:
        if item is None:
            return None
        return dataclasses.replace(item, namespace=item.namespace[len(self._scope):])

    async def get(self, namespace: Sequence[str], key: str) -> Item | None:
        return self._strip(await self._inner.get(self._ns(namespace), key))

    async def put(self, namespace: Sequence[str], key: str, value: JSONValue, *,
                  if_version: str | None = None, if_absent: bool = False) -> str:
        return await self._inner.put(self._ns(namespace), key, value,
                                     if_version=if_version, if_absent=if_absent)

    async def delete(self, namespace: Sequence[str], key: str) -> None:
        await self._inner.delete(self._ns(namespace), key)

    async def list_keys(self, namespace: Sequence[str], *, after: str | None = None,
                        limit: int = DEFAULT_PAGE_SIZE) -> KeyPage:
        return await self._inner.list_keys(self._ns(namespace), after=after, limit=limit)

    async def list_namespaces(self, prefix: Sequence[str] = ()) -> list[Namespace]:
        full = self._scope + validate_namespace(prefix, allow_empty=True)
        found = await self._inner.list_namespaces(full)
        return [ns[len(self._scope):] for ns in found if len(ns) > len(self._scope)]

    async def delete_namespace(self, namespace: Sequence[str]) -> int:
        return await self._inner.delete_namespace(self._ns(namespace))
