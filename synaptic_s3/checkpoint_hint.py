"""The "latest" hint: the newest checkpoint id a writer knew, a shortcut never trusted.

Finding a thread's newest checkpoint from listings alone costs up to 5 listings for an
ended burst of 10,000 and more for several bursts (S3 lists ascending only; see
:mod:`synaptic_s3.checkpoint_search`). So :class:`~synaptic_s3.checkpoint.StoreCheckpointer`
also writes, after every :data:`HINT_EVERY`-th checkpoint one instance puts to a thread,
``{"checkpoint_id": <id>}`` at ``("memory", t) / "latest_checkpoint"``
(``memory/<t>/latest_checkpoint.json``): one PUT per 100 checkpoints.

A reader that meets more than a page of keys lists from *just below* the hint's id: that
listing returns the hinted checkpoint itself if it exists and whatever is newer, so the
answer is still a key a listing returned, never the hint's word. A hint that is stale
(other writers went on), names a checkpoint since deleted, is ahead of every key, or is
malformed costs that one listing and a GET, and the search goes on from what the
listing showed. Nothing needs to keep it consistent: it is overwritten unconditionally
and may even move backwards when writers race.

Why there: not under ``checkpoints/<t>/``, where S3 would count it against a listing's
1,000 entries (with the ``/`` delimiter, a sub-namespace is a common prefix that sorts
after the ids), so a page holding exactly the thread's last keys would claim more and
cost an empty listing; the Rust crate lists that prefix too. ``memory/<t>/`` is the
session's own prefix, which nothing lists by key: deleting the session, sweeping
orphans and counting a session's objects take it along. A fork starts without one.
"""

from __future__ import annotations

from typing import Any

from synaptic_s3.core.keys import Namespace
from synaptic_s3.ids import checkpoint_id_position

HINT_ROOT = "memory"
"""The hint of thread ``t`` lives in ``(HINT_ROOT, t)``: the session's memory namespace
(:data:`synaptic_s3.memory.NAMESPACE`; spelled out so this module imports nothing)."""
HINT_KEY = "latest_checkpoint"
HINT_FIELD = "checkpoint_id"
HINT_EVERY = 100
"""Checkpoints an instance puts to a thread between two hint writes: 1% more PUTs; a
listing from the hint then reads at most about this many keys per writer."""


def hint_namespace(thread_id: str) -> Namespace:
    """The namespace holding thread ``thread_id``'s hint (at key :data:`HINT_KEY`)."""
    return (HINT_ROOT, thread_id)


def hint_body(checkpoint_id: str) -> dict[str, str]:
    return {HINT_FIELD: checkpoint_id}


def hinted_id(value: Any) -> str | None:
    """The checkpoint id a stored hint names, or ``None`` when it names none the search
    can use (not an object, no string id, an id not in the generated format). A bad
    hint is no error: it only means the search runs without the shortcut."""
    if not isinstance(value, dict):
        return None
    checkpoint_id = value.get(HINT_FIELD)
    if not isinstance(checkpoint_id, str) or checkpoint_id_position(checkpoint_id) is None:
        return None
    return checkpoint_id
