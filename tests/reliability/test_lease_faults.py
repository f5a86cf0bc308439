"""Leases under injected faults and lost answers (moto and SeaweedFS, through the
FaultProxy): a contender whose write landed never believes it failed, and no
fault ever lets two contenders hold one session's lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from synaptic_s3 import S3Store, SessionManager, StorageUnavailableError
from synaptic_s3.core.errors import LeaseHeldError, StorageError
from synaptic_s3.lifecycle.leases import LEASE_KEY
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.reliability.conftest import MAX_ATTEMPTS, make_store

pytestmark = [pytest.mark.s3]

TTL = timedelta(seconds=60)
LOST = [Fault.lose_answer("error"), Fault.lose_answer("drop")]
LOST_IDS = ["500", "drop"]


async def holder_token(direct: S3Store, session_id: str) -> str | None:
    item = await direct.get(("memory", session_id), LEASE_KEY)
    return None if item is None else str(item.value["token"])


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_an_acquire_whose_answer_is_lost_holds_the_lease(
    fault: Fault, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    session_id = await SessionManager(direct).create_session()
    proxy.inject(fault, operation="PutObject")
    lease = await SessionManager(faulty).acquire_lease(session_id, ttl=TTL)
    assert await holder_token(direct, session_id) == lease.token
    with pytest.raises(LeaseHeldError):
        await SessionManager(direct).acquire_lease(session_id, ttl=TTL)


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_a_renew_whose_answer_is_lost_is_renewed(
    fault: Fault, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    session_id = await SessionManager(direct).create_session()
    lease = await SessionManager(faulty).acquire_lease(session_id, ttl=TTL)
    proxy.inject(fault, operation="PutObject")
    await lease.renew(timedelta(seconds=120))
    item = await direct.get(("memory", session_id), LEASE_KEY)
    assert item is not None
    assert item.value["expires_at"].startswith(lease.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    await lease.renew()  # the version it holds is the one stored


@pytest.mark.parametrize("fault", LOST, ids=LOST_IDS)
async def test_a_release_whose_answer_is_lost_is_released(
    fault: Fault, proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    session_id = await SessionManager(direct).create_session()
    lease = await SessionManager(faulty).acquire_lease(session_id, ttl=TTL)
    proxy.inject(fault, operation="PutObject")
    await lease.release()
    assert lease.released
    await SessionManager(direct).acquire_lease(session_id, ttl=TTL)


async def test_every_put_answer_lost_still_tells_the_contender_it_holds_the_lease(
    proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    session_id = await SessionManager(direct).create_session()
    proxy.inject(Fault.lose_answer("error"), operation="PutObject", times=None)
    lease = await SessionManager(faulty).acquire_lease(session_id, ttl=TTL)
    assert await holder_token(direct, session_id) == lease.token
    assert proxy.count("PutObject") == MAX_ATTEMPTS  # landed on the first, then met itself


async def test_when_even_the_check_fails_the_token_recovers_the_lease(
    proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    session_id = await SessionManager(direct).create_session()
    proxy.inject(Fault.lose_answer("error"), operation="PutObject", times=None)
    proxy.inject(Fault.error(503, "SlowDown"), operation="GetObject", path="lease",
                 nth=2, times=None)  # the read before the write works, the check does not
    with pytest.raises(StorageUnavailableError) as caught:
        await SessionManager(faulty).acquire_lease(session_id, ttl=TTL, token="my-token-1")
    assert any("my-token-1" in note for note in caught.value.__notes__)
    proxy.clear()
    lease = await SessionManager(faulty).acquire_lease(session_id, ttl=TTL, token="my-token-1")
    assert await holder_token(direct, session_id) == lease.token == "my-token-1"


async def test_contenders_under_random_faults_never_hold_it_together(
    endpoint: Endpoint, prefix: str, proxy: FaultProxy, direct: S3Store, quick_backoff: None
) -> None:
    session_id = await SessionManager(direct).create_session()
    proxy.inject(Fault.lose_answer("error"), operation="PutObject", times=None, rate=0.15)
    proxy.inject(Fault.lose_answer("drop"), operation="PutObject", times=None, rate=0.1)
    proxy.inject(Fault.slow_down(), times=None, rate=0.1)
    stores = [make_store(endpoint, prefix, url=proxy.url, max_attempts=MAX_ATTEMPTS)
              for _ in range(6)]
    holders: list[str] = []
    most = 0

    async def contend(store: S3Store, name: str) -> None:
        nonlocal most
        manager = SessionManager(store)
        token = f"token-{name}"
        for _ in range(2):  # two acquisitions each
            while True:
                try:
                    lease = await manager.acquire_lease(session_id, ttl=TTL, owner=name,
                                                        token=token)
                except (LeaseHeldError, StorageError):
                    await asyncio.sleep(0.002)  # back off, contend again (same token)
                    continue
                break
            holders.append(name)
            most = max(most, len(holders))
            await asyncio.sleep(0)
            holders.remove(name)
            while not lease.released:
                try:
                    await lease.release()
                except StorageError:
                    continue  # a release that failed outright is simply retried
            token = f"{token}+"

    try:
        await asyncio.gather(*(contend(s, f"c{i}") for i, s in enumerate(stores)))
    finally:
        for store in stores:
            await store.close()
    assert most == 1
    assert proxy.count(faulted=True) > 0


async def test_a_release_that_landed_before_another_took_the_lease_is_not_an_error(
    proxy: FaultProxy, faulty: S3Store, direct: S3Store
) -> None:
    """The release lands, its answer is held; meanwhile another contender takes the
    released lease. The releaser's retry meets the new holder: that is success (its
    release freed the lease), and the new holder is untouched."""
    session_id = await SessionManager(direct).create_session()
    lease = await SessionManager(faulty).acquire_lease(session_id, ttl=TTL)
    proxy.inject(Fault.hold(apply=True), operation="PutObject")
    releasing = asyncio.ensure_future(lease.release())
    await proxy.wait_held()
    taker = await SessionManager(direct).acquire_lease(session_id, ttl=TTL, owner="next")
    proxy.release_held()
    await releasing
    assert lease.released
    assert await holder_token(direct, session_id) == taker.token
