"""Pruning a thread's checkpoints down to the newest ``keep_last``.

Native checkpoint ids sort in creation order, so the newest are the last keys of
the thread's listing. Cost: ceil(M/1000) listings for M checkpoints, then the
older ones deleted in ``DeleteObjects`` batches of 1,000 on S3 (no reads).
A checkpoint written while pruning sorts after everything listed and is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from synaptic_s3.core.store import Store
from synaptic_s3.lifecycle.batch import delete_keys


def check_keep_last(keep_last: int) -> None:
    if isinstance(keep_last, bool) or not isinstance(keep_last, int):
        raise TypeError(f"keep_last must be an int, not {type(keep_last).__name__}")
    if keep_last < 0:
        raise ValueError(f"keep_last must not be negative, not {keep_last}")


async def prune_namespace(store: Store, namespace: Sequence[str], keep_last: int) -> int:
    """Delete all but the last ``keep_last`` keys (in key order) of ``namespace``;
    return how many were deleted."""
    check_keep_last(keep_last)
    keys = [key async for key in store.iter_keys(namespace)]
    doomed = keys[:max(0, len(keys) - keep_last)]
    return await delete_keys(store, namespace, doomed)
