"""Leases: one run at a time on a session, from S3 conditional writes alone.

The lease of session ``id`` is ONE object, ``("memory", id) / "lease"``
(``memory/<id>/lease.json``), in the session's own prefix so ``delete_session``
removes it. Its body says who holds it and until when::

    {"token": "...", "owner": "worker-3", "generation": 7,
     "acquired_at": "...Z", "expires_at": "...Z", "released": false}

* **Acquire** reads the object (1 GET). Absent: create it with ``if_absent``
  (``IfNoneMatch: *``). Released, or expired for longer than the clock margin:
  replace exactly the version read (``IfMatch``). Held: :class:`LeaseHeldError`
  naming the holder, with no write. Of any number of contenders, in any number of
  processes, one conditional write wins; the others get a conflict, read again and
  see the winner's lease.
* **Renew** and **release** replace the version this holder last wrote (1 PUT each);
  a release leaves a ``"released": true`` body rather than deleting the object,
  because an unconditional delete could remove a new holder's lease, and S3-
  compatible servers do not all support conditional deletes. If the version changed
  (the lease expired and another took it, or the session was deleted), nothing is
  written and :class:`LeaseLostError` says so: a late holder never disturbs the new
  one.
* **Lost answers.** A conditional write that landed but whose answer was lost is
  retried by botocore and meets its own write (412). Every conflict is therefore
  followed by a read: a body equal to the one this call wrote is success. When even
  that read fails, the error carries a note with the token; ``acquire(...,
  token=that)`` recovers the lease (the same token re-acquires a lease it holds),
  and otherwise the lease simply expires at its ttl.
* **Fencing.** ``generation`` grows by one at every acquisition of a session's
  lease (until the session is deleted): pass it along with writes that must be
  refused from an older holder.

**Clocks.** ``expires_at`` is computed with the *writer's* clock; a contender takes
an unreleased lease over only once its own clock is ``clock_margin`` (default 2 s)
past ``expires_at``. At most one process holds a lease at any moment provided the
hosts' clocks differ by less than that margin (NTP- or Amazon Time Sync-disciplined
hosts, Lambda included, differ by milliseconds) and a holder stops working, or
renews, before its own ``expires_at``. A holder paused past its expiry (GC, a frozen
Lambda) can still act late: use ``generation`` as a fencing token where that matters.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from synaptic_s3.core.errors import (
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    LeaseHeldError,
    LeaseLostError,
    NotFoundError,
    StorageError,
    SynapticError,
)
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.store import Item, Store
from synaptic_s3.ids import iso_utc

MEMORY = "memory"
LEASE_KEY = "lease"
DEFAULT_CLOCK_MARGIN = timedelta(seconds=2)
MAX_TTL = timedelta(days=7)
_MAX_ATTEMPTS = 16
_TEXT_LIMIT = 200

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ms(moment: datetime) -> datetime:
    """``moment`` rounded down to the millisecond, as stored (``iso_utc``)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def default_owner() -> str:
    """``<host>:<pid>``: enough for an operator to find the holder."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_namespace(session_id: str) -> tuple[str, str]:
    return (MEMORY, session_id)


@dataclass(frozen=True, slots=True)
class LeaseState:
    """What a lease object says, parsed."""

    token: str
    owner: str
    generation: int
    acquired_at: datetime
    expires_at: datetime
    released: bool

    def free_at(self, now: datetime, margin: timedelta) -> bool:
        """May a contender whose clock reads ``now`` take this lease over?"""
        return self.released or now >= self.expires_at + margin

    @classmethod
    def parse(cls, item: Item) -> LeaseState:
        value: Any = item.value
        try:
            if not isinstance(value, dict):
                raise TypeError("not a JSON object")
            token, owner = value["token"], value["owner"]
            generation, released = value["generation"], value["released"]
            if not (isinstance(token, str) and isinstance(owner, str)):
                raise TypeError("token and owner must be strings")
            if isinstance(generation, bool) or not isinstance(generation, int):
                raise TypeError("generation must be an integer")
            if not isinstance(released, bool):
                raise TypeError("released must be a boolean")
            return cls(token, owner, generation, _parse_time(value["acquired_at"]),
                       _parse_time(value["expires_at"]), released)
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptDataError(f"not a lease object: {exc}",
                                   namespace=item.namespace, key=item.key) from exc


def _parse_time(text: Any) -> datetime:
    if not isinstance(text, str):
        raise TypeError("times must be ISO 8601 strings")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_ttl(ttl: timedelta) -> None:
    if not isinstance(ttl, timedelta):
        raise TypeError(f"ttl must be a datetime.timedelta, not {type(ttl).__name__}")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidDataError(f"ttl must be more than 0 and at most {MAX_TTL}, not {ttl}")


def _check_text(name: str, value: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not 0 < len(value) <= _TEXT_LIMIT:
        raise InvalidDataError(f"{name} must be 1 to {_TEXT_LIMIT} characters")


@dataclass(slots=True)
class Lease:
    """A held lease. ``expires_at`` (the holder's clock) is when to have stopped or
    renewed by; ``token`` identifies this acquisition (keep it to recover after an
    error, or to renew and release from another process via the HTTP API)."""

    session_id: str
    token: str
    owner: str
    generation: int
    expires_at: datetime
    ttl: timedelta
    _leases: Leases = field(repr=False)
    _version: str | None = field(repr=False)

    @property
    def released(self) -> bool:
        return self._version is None

    async def renew(self, ttl: timedelta | None = None) -> None:
        """Extend the lease to now + ``ttl`` (default: the ttl it was taken with):
        one conditional PUT. :class:`LeaseLostError` if it is no longer ours."""
        await self._leases._renew(self, ttl or self.ttl)

    async def release(self) -> None:
        """Give the lease up (one conditional PUT); releasing twice is harmless.
        :class:`LeaseLostError` if another took it over meanwhile (left untouched)."""
        await self._leases._release(self)


class Leases:
    """Acquire, renew and release session leases in a store.

    ``session_exists`` (set by :class:`~synaptic_s3.session.SessionManager`) is
    asked before the FIRST lease object of a session is created, so a lease is never
    what brings a deleted or mistyped session into the bucket.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = _utc_now,
        clock_margin: timedelta = DEFAULT_CLOCK_MARGIN,
        session_exists: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        if clock_margin < timedelta(0):
            raise ValueError("clock_margin must not be negative")
        self._store = store
        self._clock = clock
        self._margin = clock_margin
        self._session_exists = session_exists

    def _body(self, token: str, owner: str, generation: int, acquired: datetime,
              expires: datetime, *, released: bool = False) -> dict[str, Any]:
        return {"token": token, "owner": owner, "generation": generation,
                "acquired_at": iso_utc(acquired), "expires_at": iso_utc(expires),
                "released": released}

    async def read(self, session_id: str) -> LeaseState | None:
        """The session's lease object as stored (held, expired or released), or ``None``."""
        validate_key(lease_namespace(session_id), LEASE_KEY)
        item = await self._store.get(lease_namespace(session_id), LEASE_KEY)
        return None if item is None else LeaseState.parse(item)

    async def acquire(
        self,
        session_id: str,
        *,
        ttl: timedelta,
        owner: str | None = None,
        token: str | None = None,
    ) -> Lease:
        """Take the session's lease for ``ttl``, or raise :class:`LeaseHeldError`.

        Cost: 1 GET + 1 conditional PUT (plus 1 GET of the session's metadata when
        the session has never had a lease); 1 GET when another holds it. Passing the
        ``token`` of a lease this caller may already hold (an earlier call failed
        after its write landed) returns that lease instead of conflicting with it.
        """
        _check_ttl(ttl)
        owner = default_owner() if owner is None else owner
        _check_text("owner", owner)
        if token is None:
            token = uuid.uuid4().hex
        _check_text("token", token)
        namespace = lease_namespace(session_id)
        validate_key(namespace, LEASE_KEY)
        checked_session = False
        for _ in range(_MAX_ATTEMPTS):
            item = await self._store.get(namespace, LEASE_KEY)
            now = _ms(self._clock())
            state = None if item is None else LeaseState.parse(item)
            ours = state is not None and state.token == token and not state.released
            if ours and item is not None and state is not None and now < state.expires_at:
                # Our own write (a lost answer, or a retry with the same token).
                return Lease(session_id, token, state.owner, state.generation,
                             state.expires_at, ttl, self, item.version)
            if state is not None and not ours and not state.free_at(now, self._margin):
                raise LeaseHeldError(session_id, owner=state.owner, expires_at=state.expires_at)
            if item is None and not checked_session and self._session_exists is not None:
                if not await self._session_exists(session_id):
                    raise NotFoundError("session", session_id)
                checked_session = True
            generation = 1 if state is None else state.generation + 1
            body = self._body(token, owner, generation, now, now + ttl)
            try:
                version = await self._store.put(
                    namespace, LEASE_KEY, body,
                    if_absent=item is None, if_version=None if item is None else item.version)
            except ConflictError:
                continue  # another contender won, or our own write did: read and see
            except StorageError as exc:
                recovered = await self._recover(namespace, body, exc, token)
                return Lease(session_id, token, owner, generation, now + ttl, ttl, self,
                             recovered)
            return Lease(session_id, token, owner, generation, now + ttl, ttl, self, version)
        raise ConflictError(f"lease on {session_id!r} kept changing ({_MAX_ATTEMPTS} reads)",
                            namespace=namespace, key=LEASE_KEY)

    async def adopt(self, session_id: str, token: str) -> Lease:
        """The held lease of ``token``, as stored (1 GET): how a stateless server
        renews or releases a lease another request acquired. :class:`LeaseLostError`
        if that token does not hold the session's lease (any more)."""
        _check_text("token", token)
        namespace = lease_namespace(session_id)
        validate_key(namespace, LEASE_KEY)
        item = await self._store.get(namespace, LEASE_KEY)
        state = None if item is None else LeaseState.parse(item)
        if item is None or state is None:
            raise LeaseLostError(session_id, "the session has no lease")
        if state.token != token:
            lost = LeaseLostError(session_id, "another holder has it", owner=state.owner)
            lost.state = state
            raise lost
        if state.released:
            raise LeaseLostError(session_id, "it was released")
        ttl = max(state.expires_at - state.acquired_at, timedelta(milliseconds=1))
        return Lease(session_id, token, state.owner, state.generation, state.expires_at,
                     ttl, self, item.version)

    async def _recover(self, namespace: tuple[str, str], body: dict[str, Any],
                       exc: StorageError, token: str) -> str:
        """After a write failed with no clear answer: did it land? One read decides;
        if that fails too, the caller learns the token to recover with."""
        try:
            item = await self._store.get(namespace, LEASE_KEY)
        except SynapticError:
            exc.add_note(f"the lease write may have landed: token {token!r} recovers it "
                         "(acquire with token=...), else it expires at its ttl")
            raise exc from None
        if item is not None and item.value == body:
            return item.version
        raise exc

    async def _rewrite(self, lease: Lease, body: dict[str, Any]) -> str:
        """Replace the lease object if it is still the version ``lease`` holds;
        a concurrent renew by the same holder (same token) is followed."""
        namespace = lease_namespace(lease.session_id)
        version = lease._version
        for _ in range(_MAX_ATTEMPTS):
            if version is None:
                raise LeaseLostError(lease.session_id, "it was released")
            try:
                return await self._store.put(namespace, LEASE_KEY, body, if_version=version)
            except ConflictError:
                pass
            except StorageError as exc:
                return await self._recover(namespace, body, exc, lease.token)
            item = await self._store.get(namespace, LEASE_KEY)
            if item is not None and item.value == body:
                return item.version  # our write landed; its answer was lost
            state = None if item is None else LeaseState.parse(item)
            if state is None:
                raise LeaseLostError(lease.session_id, "the lease object is gone "
                                     "(the session was deleted)")
            if state.token != lease.token:
                lost = LeaseLostError(lease.session_id, "it expired and was taken over",
                                      owner=state.owner)
                lost.state = state
                raise lost
            if state.released:
                raise LeaseLostError(lease.session_id, "it was released")
            assert item is not None
            version = item.version
        raise ConflictError(f"lease on {lease.session_id!r} kept changing",
                            namespace=namespace, key=LEASE_KEY)

    async def _renew(self, lease: Lease, ttl: timedelta) -> None:
        _check_ttl(ttl)
        if lease.released:
            raise LeaseLostError(lease.session_id, "it was released")
        now = _ms(self._clock())
        body = self._body(lease.token, lease.owner, lease.generation, now, now + ttl)
        lease._version = await self._rewrite(lease, body)
        lease.expires_at, lease.ttl = now + ttl, ttl

    async def _release(self, lease: Lease) -> None:
        if lease.released:
            return
        now = _ms(self._clock())
        body = self._body(lease.token, lease.owner, lease.generation, now, now, released=True)
        try:
            await self._rewrite(lease, body)
        except LeaseLostError as exc:
            state = exc.state
            if state is not None and state.acquired_at < lease.expires_at + self._margin:
                # Taken before our lease could expire: only our release (whose answer
                # was lost) can have freed it, so the release did land.
                lease._version = None
                return
            if exc.owner is not None:
                raise
            # Released already or deleted with its session: nobody holds it now.
        lease._version = None

    @asynccontextmanager
    async def hold(self, session_id: str, *, ttl: timedelta,
                   owner: str | None = None) -> AsyncIterator[Lease]:
        """``async with`` form: acquire, run the block, release. If the block raised,
        its error propagates (a failed release is added to it as a note)."""
        lease = await self.acquire(session_id, ttl=ttl, owner=owner)
        try:
            yield lease
        except BaseException as exc:
            try:
                await lease.release()
            except SynapticError as release_error:
                exc.add_note(f"releasing the lease also failed: {release_error}")
            raise
        await lease.release()
