"""Deleting many keys of one namespace in as few requests as the backend allows.

On S3 that is ``DeleteObjects`` with 1,000 keys a request; elsewhere one delete per
key, :attr:`Store.max_concurrency` at a time. ``S3Store`` is recognised without
importing it (botocore is heavy for a Lambda cold start): if it is in use, its
module is already loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from synaptic_s3.core.keys import object_path, validate_key, validate_namespace
from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.core.store import Store

S3_BATCH = 1000


async def delete_keys(store: Store, namespace: Sequence[str], keys: Sequence[str]) -> int:
    """Delete ``keys`` of ``namespace`` (missing ones are not an error); return how many
    were asked for. Every key is attempted before the first error is raised."""
    ns = validate_namespace(namespace)
    for key in keys:
        validate_key(ns, key)
    if not keys:
        return 0
    s3 = sys.modules.get("synaptic_s3.store.s3")
    if s3 is not None and isinstance(store, s3.S3Store):
        paths = [store.prefix + object_path(ns, key) for key in keys]
        return int(await store.delete_object_keys(paths, ns))
    await gather_bounded((store.delete(ns, key) for key in keys), store.max_concurrency)
    return len(keys)
