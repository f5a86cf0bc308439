"""Compare-and-swap loops and bounded fan-out: the two concurrency patterns the
library, the service and the adapters all need, written once.

:func:`update_with_retry` is "read, edit, conditional write; on a conflict back off
and do it again": the way every read-modify-write in this project stays lossless
with any number of writers. :func:`gather_bounded` is ``asyncio.gather`` with at
most ``limit`` coroutines running, and every coroutine finished before the first
error is raised (no task left running after the call returns).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from synaptic_s3.core.errors import ConflictError
from synaptic_s3.core.store import Item, JSONValue, Store

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full-jitter exponential backoff (the AWS Architecture Blog's "full jitter"):
    attempt ``n`` sleeps a uniform time in ``[0, min(cap, base * 2**n)]``; the
    exponent is clamped so a long run of conflicts never overflows."""

    base: float = 0.005
    cap: float = 0.25

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** min(max(attempt, 0), 16)))

    async def sleep(self, attempt: int) -> None:
        await asyncio.sleep(self.delay(attempt))


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True, slots=True)
class Edit(Generic[R]):
    """What an edit function decides: the new value to write (``None``: write
    nothing) and the result to hand back to the caller."""

    value: JSONValue | None
    result: R


async def update_with_retry(
    store: Store,
    namespace: Sequence[str],
    key: str,
    edit: Callable[[Item | None], Edit[R] | Awaitable[Edit[R]]],
    *,
    max_attempts: int = 64,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> R:
    """Read the item, let ``edit`` decide, and write its value only if the item is
    unchanged since the read (``if_absent`` when there was none); on a conflict read
    again and retry, up to ``max_attempts`` times, then raise :class:`ConflictError`.

    ``edit`` may be a plain function or a coroutine function; it must be safe to call
    again with a newer item (it runs once per attempt).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    for attempt in range(max_attempts):
        current = await store.get(namespace, key)
        decided = edit(current)
        outcome = await decided if isinstance(decided, Awaitable) else decided
        if outcome.value is None:
            return outcome.result
        try:
            await store.put(
                namespace, key, outcome.value,
                if_absent=current is None,
                if_version=None if current is None else current.version,
            )
        except ConflictError:
            await backoff.sleep(attempt)
            continue
        return outcome.result
    raise ConflictError(
        f"update kept losing to concurrent writers ({max_attempts} attempts)",
        namespace=namespace, key=key,
    )


async def gather_bounded(awaitables: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await everything with at most ``limit`` in flight; results in input order.

    Every awaitable runs to its end even when one fails; the first failure (in input
    order) is raised afterwards, so nothing keeps running behind the caller's back.
    """
    semaphore = asyncio.Semaphore(max(1, limit))

    async def bounded(awaitable: Awaitable[T]) -> T:
        async with semaphore:
            return await awaitable

    outcomes: list[Any] = await asyncio.gather(
        *(bounded(a) for a in awaitables), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes
