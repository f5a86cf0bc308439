"""Session leases on every backend: one holder at a time among tasks and processes,
expiry with the clock margin, renew/release that never disturb a new holder."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from synaptic_s3 import NotFoundError, SessionManager, Store
from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    LeaseHeldError,
    LeaseLostError,
)
from synaptic_s3.lifecycle.leases import LEASE_KEY, Lease, Leases
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET, StoreFactory

TTL = timedelta(seconds=30)
HERE = Path(__file__).parent


class FakeClock:
    """A clock the test moves by hand (no sleeping to make a lease expire)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
async def session_id(manager: SessionManager) -> str:
    return await manager.create_session()


async def stored(store: Store, session_id: str) -> object:
    item = await store.get(("memory", session_id), LEASE_KEY)
    return None if item is None else item.value


# -- acquire ------------------------------------------------------------------------------


async def test_acquire_returns_a_lease_with_token_owner_and_expiry(
    manager: SessionManager, session_id: str
) -> None:
    before = datetime.now(UTC)
    lease = await manager.acquire_lease(session_id, ttl=TTL, owner="worker-1")
    assert lease.owner == "worker-1"
    assert len(lease.token) == 32
    assert lease.generation == 1
    assert before + TTL - timedelta(seconds=1) <= lease.expires_at <= datetime.now(UTC) + TTL


async def test_a_held_lease_is_refused_naming_holder_and_expiry(
    manager: SessionManager, session_id: str
) -> None:
    first = await manager.acquire_lease(session_id, ttl=TTL, owner="worker-1")
    with pytest.raises(LeaseHeldError) as caught:
        await manager.acquire_lease(session_id, ttl=TTL, owner="worker-2")
    assert isinstance(caught.value, ConflictError)
    assert caught.value.owner == "worker-1"
    assert caught.value.expires_at == first.expires_at
    assert "worker-1" in str(caught.value)


async def test_a_released_lease_is_taken_by_the_next_contender(
    manager: SessionManager, session_id: str
) -> None:
    first = await manager.acquire_lease(session_id, ttl=TTL, owner="a")
    await first.release()
    second = await manager.acquire_lease(session_id, ttl=TTL, owner="b")
    assert second.owner == "b"
    assert second.generation == first.generation + 1
    assert first.released
    assert not second.released


async def test_a_lease_on_a_missing_session_is_not_found_and_writes_nothing(
    manager: SessionManager, store: Store
) -> None:
    with pytest.raises(NotFoundError):
        await manager.acquire_lease("no-such-session", ttl=TTL)
    assert await store.list_namespaces(("memory",)) == []


async def test_acquiring_again_with_the_same_token_returns_the_held_lease(
    manager: SessionManager, session_id: str
) -> None:
    first = await manager.acquire_lease(session_id, ttl=TTL, owner="a")
    again = await manager.acquire_lease(session_id, ttl=TTL, owner="a", token=first.token)
    assert (again.token, again.expires_at, again.generation) == (
        first.token, first.expires_at, first.generation)
    await again.renew()
    with pytest.raises(LeaseHeldError):
        await manager.acquire_lease(session_id, ttl=TTL, owner="b")


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), timedelta(days=8)])
async def test_a_ttl_out_of_range_is_refused(
    manager: SessionManager, session_id: str, ttl: timedelta
) -> None:
    with pytest.raises(InvalidDataError, match="ttl"):
        await manager.acquire_lease(session_id, ttl=ttl)


async def test_the_longest_ttl_is_accepted(manager: SessionManager, session_id: str) -> None:
    lease = await manager.acquire_lease(session_id, ttl=timedelta(days=7))
    assert lease.ttl == timedelta(days=7)


async def test_a_corrupt_lease_object_is_named(
    manager: SessionManager, store: Store, session_id: str
) -> None:
    await store.put(("memory", session_id), LEASE_KEY, {"token": 5})
    with pytest.raises(CorruptDataError, match="lease"):
        await manager.acquire_lease(session_id, ttl=TTL)


async def test_delete_session_removes_the_lease(
    manager: SessionManager, store: Store, session_id: str
) -> None:
    await manager.acquire_lease(session_id, ttl=TTL)
    await manager.delete_session(session_id)
    assert await stored(store, session_id) is None


# -- expiry (a fake clock: no sleeping) -------------------------------------------------------


async def test_an_expired_lease_is_taken_over_only_after_the_clock_margin(
    store: Store, manager: SessionManager, session_id: str
) -> None:
    clock = FakeClock()
    leases = Leases(store, clock=clock, clock_margin=timedelta(seconds=2))
    first = await leases.acquire(session_id, ttl=TTL, owner="a")
    clock.advance(TTL + timedelta(seconds=1))  # expired by the writer's clock, within margin
    with pytest.raises(LeaseHeldError):
        await leases.acquire(session_id, ttl=TTL, owner="b")
    clock.advance(timedelta(seconds=1))
    second = await leases.acquire(session_id, ttl=TTL, owner="b")
    assert second.generation == first.generation + 1


async def expired_and_taken(store: Store, session_id: str) -> tuple[Lease, Lease]:
    clock = FakeClock()
    leases = Leases(store, clock=clock, clock_margin=timedelta(0))
    old = await leases.acquire(session_id, ttl=TTL, owner="old")
    clock.advance(TTL)
    new = await leases.acquire(session_id, ttl=TTL, owner="new")
    return old, new


async def test_renewing_a_lease_taken_over_raises_and_leaves_the_new_holder(
    store: Store, manager: SessionManager, session_id: str
) -> None:
    old, _new = await expired_and_taken(store, session_id)
    before = await stored(store, session_id)
    with pytest.raises(LeaseLostError) as caught:
        await old.renew()
    assert caught.value.owner == "new"
    assert await stored(store, session_id) == before


async def test_releasing_a_lease_taken_over_raises_and_leaves_the_new_holder(
    store: Store, manager: SessionManager, session_id: str
) -> None:
    old, new = await expired_and_taken(store, session_id)
    before = await stored(store, session_id)
    with pytest.raises(LeaseLostError):
        await old.release()
    assert await stored(store, session_id) == before
    await new.renew()  # the new holder is undisturbed


async def test_renew_extends_the_expiry(store: Store, manager: SessionManager,
                                        session_id: str) -> None:
    clock = FakeClock()
    leases = Leases(store, clock=clock)
    lease = await leases.acquire(session_id, ttl=TTL)
    clock.advance(timedelta(seconds=20))
    await lease.renew(timedelta(seconds=60))
    assert lease.expires_at == clock.now + timedelta(seconds=60)
    clock.advance(TTL + timedelta(seconds=5))  # the first ttl would have run out
    with pytest.raises(LeaseHeldError):
        await leases.acquire(session_id, ttl=TTL)


async def test_release_twice_is_harmless_and_renew_after_release_raises(
    manager: SessionManager, session_id: str
) -> None:
    lease = await manager.acquire_lease(session_id, ttl=TTL)
    await lease.release()
    await lease.release()
    with pytest.raises(LeaseLostError, match="released"):
        await lease.renew()


async def test_release_after_the_session_was_deleted_is_harmless(
    manager: SessionManager, session_id: str
) -> None:
    lease = await manager.acquire_lease(session_id, ttl=TTL)
    await manager.delete_session(session_id)
    await lease.release()
    assert lease.released


# -- the context manager --------------------------------------------------------------------


async def test_lease_context_releases_on_exit(
    manager: SessionManager, session_id: str
) -> None:
    async with manager.lease(session_id, ttl=TTL, owner="a") as lease:
        assert not lease.released
        with pytest.raises(LeaseHeldError):
            await manager.acquire_lease(session_id, ttl=TTL)
    assert lease.released
    await (await manager.acquire_lease(session_id, ttl=TTL)).release()


async def test_lease_context_releases_when_the_block_raises(
    manager: SessionManager, session_id: str
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with manager.lease(session_id, ttl=TTL):
            raise RuntimeError("boom")
    await manager.acquire_lease(session_id, ttl=TTL)


# -- many contenders --------------------------------------------------------------------------


async def test_many_tasks_on_separate_clients_never_hold_it_together(
    store_factory: StoreFactory,
) -> None:
    managers = [SessionManager(await store_factory()) for _ in range(12)]
    session_id = await managers[0].create_session()
    holders: list[str] = []
    most = 0
    acquired = 0

    async def contend(manager: SessionManager, name: str) -> None:
        nonlocal most, acquired
        while True:
            try:
                lease = await manager.acquire_lease(session_id, ttl=TTL, owner=name)
            except LeaseHeldError:
                await asyncio.sleep(0.001)  # back off and contend again
                continue
            holders.append(name)
            most = max(most, len(holders))
            await asyncio.sleep(0)  # others run while this one holds it
            holders.remove(name)
            await lease.release()
            acquired += 1
            return

    await asyncio.gather(*(contend(m, f"task-{i}") for i, m in enumerate(managers)))
    assert acquired == len(managers)
    assert most == 1


def check_log(log: Path, expected: int) -> None:
    lines = log.read_text().splitlines()
    assert len(lines) == 2 * expected
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):
        assert enter.startswith("enter ")
        assert leave == "exit " + enter.removeprefix("enter ")  # nobody in between


@pytest.mark.parametrize("kind", ["file", pytest.param("s3-moto", marks=pytest.mark.s3)])
async def test_contenders_in_separate_processes_never_hold_it_together(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind == "file":
        url = f"file://{tmp_path / 'store'}"
    else:
        endpoint: Endpoint = request.getfixturevalue("moto_endpoint")
        url = (f"s3://{BUCKET}/lease-{uuid.uuid4().hex}?endpoint_url={endpoint.url}"
               f"&region={endpoint.region}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", endpoint.credentials["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY",
                           endpoint.credentials["aws_secret_access_key"])
    from synaptic_s3.service.store_url import parse_store_url

    async with parse_store_url(url).open() as store:
        session_id = await SessionManager(store).create_session()
    log = tmp_path / "holders.log"
    processes, rounds = 3, 4
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "lease_contender.py"), url, session_id, str(log),
            str(rounds), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=dict(os.environ))
        for _ in range(processes)
    ]
    for child in children:
        _, err = await asyncio.wait_for(child.communicate(), timeout=120)
        assert child.returncode == 0, err.decode()
    check_log(log, processes * rounds)


# -- a stateless server: adopt the lease a token names ----------------------------------------


async def test_adopting_by_token_renews_and_releases_the_held_lease(
    manager: SessionManager, session_id: str
) -> None:
    held = await manager.acquire_lease(session_id, ttl=TTL, owner="a")
    adopted = await manager.leases().adopt(session_id, held.token)
    assert (adopted.owner, adopted.expires_at, adopted.ttl) == ("a", held.expires_at, TTL)
    await adopted.renew()
    await (await manager.leases().adopt(session_id, held.token)).release()
    await (await manager.acquire_lease(session_id, ttl=TTL)).release()


async def test_adopting_a_token_that_does_not_hold_the_lease_raises(
    manager: SessionManager, session_id: str
) -> None:
    with pytest.raises(LeaseLostError, match="no lease"):
        await manager.leases().adopt(session_id, "nobody")
    held = await manager.acquire_lease(session_id, ttl=TTL, owner="a")
    with pytest.raises(LeaseLostError) as caught:
        await manager.leases().adopt(session_id, "someone-else")
    assert caught.value.owner == "a"
    await held.release()
    with pytest.raises(LeaseLostError, match="released"):
        await manager.leases().adopt(session_id, held.token)
