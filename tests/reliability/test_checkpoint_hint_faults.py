"""The "latest" hint under faults: a checkpoint put never fails because of its hint.

The hint (``memory/<t>/latest_checkpoint.json``) is written after every
``hint_every``-th (by default 100th) checkpoint an instance puts to a thread, once that
checkpoint is stored. When S3 stays
unavailable for the hint's PUT (every attempt fails), the put still returns: the
checkpoint is stored, which is what its caller asked for; the hint is only a
shortcut. The next put tries the hint again.
"""

from __future__ import annotations

import logging

import pytest

from synaptic_s3 import AccessDeniedError, Checkpoint, CheckpointConfig, S3Store, StoreCheckpointer
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.reliability.helpers import MAX_ATTEMPTS

pytestmark = [pytest.mark.s3]

HINT_PATH = r"/memory/t/latest_checkpoint\.json$"


EVERY = 3
"""``hint_every`` here: the hint's PUT is the 3rd put's second request."""


async def _put_until_the_hint_is_due(checkpointer: StoreCheckpointer) -> None:
    for step in range(EVERY - 1):
        await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": step}))


async def test_a_hint_that_cannot_be_written_does_not_fail_the_put(
    faulty: S3Store, direct: S3Store, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = StoreCheckpointer(faulty, hint_every=EVERY)
    await _put_until_the_hint_is_due(checkpointer)
    proxy.inject(Fault.slow_down(), operation="PutObject", path=HINT_PATH, times=None)
    due = Checkpoint({"step": "due"})

    with caplog.at_level(logging.WARNING, logger="synaptic_s3.checkpoint"):
        await checkpointer.put(CheckpointConfig("t"), due)

    stored = await direct.get(("checkpoints", "t"), due.id)
    assert stored is not None
    assert stored.value["state"] == {"step": "due"}
    assert await direct.get(("memory", "t"), "latest_checkpoint") is None
    assert proxy.count("PutObject", faulted=True) == MAX_ATTEMPTS
    assert "hint of thread 't' was not updated" in caplog.text


async def test_the_put_after_a_failed_hint_writes_it(
    faulty: S3Store, direct: S3Store, proxy: FaultProxy
) -> None:
    checkpointer = StoreCheckpointer(faulty, hint_every=EVERY)
    await _put_until_the_hint_is_due(checkpointer)
    proxy.inject(Fault.slow_down(), operation="PutObject", path=HINT_PATH, times=MAX_ATTEMPTS)
    await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": "due"}))
    following = Checkpoint({"step": "next"})

    await checkpointer.put(CheckpointConfig("t"), following)

    hint = await direct.get(("memory", "t"), "latest_checkpoint")
    assert hint is not None
    assert hint.value == {"checkpoint_id": following.id}


async def test_a_hint_write_denied_is_raised(
    faulty: S3Store, proxy: FaultProxy
) -> None:
    """A permanent error is not the hint's alone: the next checkpoint would meet it."""
    checkpointer = StoreCheckpointer(faulty, hint_every=EVERY)
    await _put_until_the_hint_is_due(checkpointer)
    proxy.inject(Fault.error(403, "AccessDenied"), operation="PutObject", path=HINT_PATH)

    with pytest.raises(AccessDeniedError):
        await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": "due"}))
