"""Every operation class under every fault, over the real wire.

Two regimes:

* one faulty request (the first the operation aims at its target S3 operation):
  the operation succeeds thanks to botocore's retries, or, where a retry cannot
  help, raises a precise :class:`SynapticError`; a repeat of the call completes it;
* the fault on every attempt: the operation gives up after a bounded number of
  requests with :class:`StorageUnavailableError`, and a repeat of the call after
  the fault clears completes it.

Either way the bucket holds, at every point, the state before or the state after
(for deletes: a state the next delete finishes), never a corrupt object.

Retrying is client-side logic, so the full matrix runs on one server, SeaweedFS (a
real S3 server in its own process, and the cheaper one to drive); the operations
whose outcome the server's own semantics decide (conditional writes meeting their
own applied write, DeleteObjects) run on moto as well.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from synaptic_s3 import (
    ConflictError,
    S3Store,
    SessionManager,
    StorageUnavailableError,
    SynapticError,
)
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.reliability.helpers import MAX_ATTEMPTS, digest, make_store, snapshot
from tests.reliability.operations import OPERATIONS, Operation, Snapshot, World, build_world, settle

pytestmark = [pytest.mark.s3]

TRANSIENT = {
    "500": Fault.error(500),
    "503-slowdown": Fault.slow_down(),
    "412": Fault.precondition_failed(),
    "drop": Fault.drop(),
    "truncate": Fault.truncate(),
    "lost-answer-500": Fault.lose_answer("error"),
    "lost-answer-drop": Fault.lose_answer("drop"),
}
PERSISTENT = {
    "503-slowdown": Fault.slow_down(),
    "drop": Fault.drop(),
    "lost-answer-500": Fault.lose_answer("error"),
}
WRITES = {"create_session", "append", "append_first", "set_summary", "put_checkpoint",
          "delete_session", "clear"}
SERVER_SENSITIVE = {"create_session", "append", "append_first", "delete_session"}


def expected_error(op: Operation, fault_name: str) -> type[SynapticError] | None:
    """The one-fault cases where retrying inside botocore cannot succeed.

    (A GetObject body cut short is read after botocore's retry loop; S3Store.get
    retries it once itself, so one such fault is absorbed.)

    * An injected 412 on create_session: the new id is not in the bucket, so it is
      a real lost race, reported as ConflictError. Appends re-read and retry.
    """
    if fault_name == "412" and op.name == "create_session":
        return ConflictError
    return None


def transient_cases() -> list[Any]:
    """Every fault for every write; for reads, a lost answer is just a 500 or a drop
    after the (harmless) read, so only the faults that differ for a reader."""
    return [
        pytest.param(kind, op, name, id=f"{kind}-{op.name}-{name}")
        for kind in ("seaweedfs", "moto")
        for op in OPERATIONS
        if kind == "seaweedfs" or op.name in SERVER_SENSITIVE
        for name in TRANSIENT
        if (name != "412" or op.conditional)
        and (not name.startswith("lost") or op.name in WRITES)
    ]


def persistent_cases() -> list[Any]:
    """SlowDown on every attempt for every operation; dropped connections once per S3
    operation (the attempt count differs: aiohttp re-sends); lost answers for writes."""
    one_per_request_kind = {"get_session", "list_sessions", "append", "delete_session", "clear"}
    return [pytest.param("seaweedfs", op, name, id=f"seaweedfs-{op.name}-{name}")
            for op in OPERATIONS for name in PERSISTENT
            if name == "503-slowdown"
            or (name == "drop" and op.name in one_per_request_kind)
            or (name.startswith("lost") and op.name in WRITES)]


def wire_attempts(op: Operation, fault_name: str) -> int:
    """Requests the proxy sees when every one fails: ``MAX_ATTEMPTS`` per target request,
    twice that after a dropped connection for all but POST, because aiohttp itself
    re-sends an idempotent request (GET, PUT, DELETE) once when the server hangs up."""
    resend = 2 if fault_name == "drop" and op.target != "DeleteObjects" else 1
    return op.fanout * MAX_ATTEMPTS * resend


def orphans(proxy: FaultProxy, before: Snapshot, *results: Any) -> set[str]:
    """Session objects the server wrote for calls that did not return them."""
    written = {
        e.key.partition("/sessions/")[2].removesuffix(".json")
        for e in proxy.exchanges
        if e.operation == "PutObject" and "/sessions/" in f"/{e.key}"
        and e.upstream_status == 200
    }
    returned = {r for r in results if isinstance(r, str)}
    return written - returned - {k[len("sessions/"):-len(".json")] for k in before}


async def check_after(
    op: Operation, before: Snapshot, world: World, result: Any, direct: S3Store,
    extra: dict[str, str] | None = None,
) -> None:
    """The result is right and the bucket holds exactly the expected objects, byte for
    byte (``extra``: ETags of objects the test knows to be there besides)."""
    if op.check is not None:
        op.check(result, before, world)
    assert await snapshot(direct) == {**digest(op.expect(before, world, result)),
                                      **(extra or {})}


async def run(op: Operation, manager: SessionManager, world: World) -> tuple[Any, Exception | None]:
    try:
        return await op.run(manager, world), None
    except SynapticError as exc:
        return None, exc


@pytest.mark.parametrize(("endpoint", "op", "fault_name"), transient_cases(),
                         indirect=["endpoint"])
async def test_one_faulty_request(
    op: Operation, fault_name: str, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    world, before = await build_world(SessionManager(direct))
    rule = proxy.inject(TRANSIENT[fault_name], operation=op.target)
    manager = SessionManager(faulty)

    result, error = await run(op, manager, world)
    await proxy.idle()
    assert rule.applied == 1, f"the fault never hit a {op.target} request"

    wanted = expected_error(op, fault_name)
    if wanted is None:
        assert error is None, f"{op.name} failed under one {fault_name}: {error!r}"
        assert not orphans(proxy, before, result)
        await check_after(op, before, world, result, direct)
        return
    assert isinstance(error, wanted), f"expected {wanted.__name__}, got {error!r}"
    await settle()
    assert op.partial_ok(before, await snapshot(direct), world)
    result, error = await run(op, manager, world)  # the caller's retry completes it
    assert error is None
    await check_after(op, before, world, result, direct)


@pytest.mark.parametrize(("endpoint", "op", "fault_name"), persistent_cases(),
                         indirect=["endpoint"])
async def test_a_fault_on_every_attempt(
    op: Operation, fault_name: str, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    world, before = await build_world(SessionManager(direct))
    proxy.inject(PERSISTENT[fault_name], operation=op.target, times=None)
    manager = SessionManager(faulty)

    result, error = await run(op, manager, world)
    await settle()
    await proxy.idle()
    assert isinstance(error, StorageUnavailableError), repr(error)
    assert proxy.count(op.target) == wire_attempts(op, fault_name)  # bounded, then gives up
    mid = await snapshot(direct)
    assert op.partial_ok(before, mid, world)

    proxy.clear()
    result, error = await run(op, manager, world)  # the caller's retry completes it
    assert error is None, repr(error)
    # A create whose every answer was lost did create a session the caller never
    # learnt of: an orphan (docs/reliability.md, "create_session and retries").
    lost = orphans(proxy, before, result)
    assert len(lost) == (1 if op.name == "create_session" and "lost" in fault_name else 0)
    extra = {f"sessions/{sid}.json": mid[f"sessions/{sid}.json"] for sid in lost}
    await check_after(op, before, world, result, direct, extra)


@pytest.mark.parametrize("endpoint", ["seaweedfs"], indirect=True)
async def test_every_operation_works_with_latency_on_every_request(
    proxy: FaultProxy, endpoint: Endpoint, prefix: str, quick_backoff: None
) -> None:
    proxy.inject(Fault.latency(0.02), times=None)
    for op in OPERATIONS:
        async with make_store(endpoint, f"{prefix}-{op.name}") as direct, \
                make_store(endpoint, f"{prefix}-{op.name}", url=proxy.url) as faulty:
            world, before = await build_world(SessionManager(direct))
            result = await op.run(SessionManager(faulty), world)
            await check_after(op, before, world, result, direct)
    assert proxy.count(faulted=False) == 0


async def test_latency_beyond_the_read_timeout_is_retried_and_the_late_write_is_harmless(
    proxy: FaultProxy, endpoint: Endpoint, prefix: str, direct: S3Store, quick_backoff: None
) -> None:
    world, before = await build_world(SessionManager(direct))
    proxy.inject(Fault.latency(1.0), operation="PutObject")
    async with make_store(endpoint, prefix, url=proxy.url, read_timeout=0.2,
                          max_attempts=MAX_ATTEMPTS) as slow:
        await SessionManager(slow).memory().append(world.target, world.new_message)
    await proxy.idle()  # the delayed first PUT has now reached the server too
    puts = [e for e in proxy.exchanges if e.operation == "PutObject"]
    assert [e.fault is not None for e in puts] == [True, False]
    assert puts[0].upstream_status == 412  # the late duplicate lost its IfMatch
    key = f"memory/{world.target}/messages.json"
    assert await snapshot(direct) == digest(
        {**before, key: [*before[key], world.new_message.to_dict()]})


@pytest.mark.parametrize("endpoint", ["seaweedfs"], indirect=True)
async def test_no_botocore_or_aiohttp_exception_escapes_under_any_fault(
    proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    """Every operation with EVERY request faulted (each kind in turn): only
    SynapticError subclasses come out (anything else fails the test)."""
    world, _ = await build_world(SessionManager(direct))
    manager = SessionManager(faulty)
    for fault in (Fault.truncate(), Fault.drop(), Fault.error(500), Fault.error(400, "Weird")):
        proxy.clear()
        proxy.inject(fault, times=None)
        for op in OPERATIONS:
            with contextlib.suppress(SynapticError):
                await op.run(manager, world)
        await settle()
