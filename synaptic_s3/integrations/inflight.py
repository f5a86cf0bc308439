"""Coalesce identical reads that are in flight at the same time.

Many concurrent LangGraph operations ask the same question at once (every node of
a fan-out searches the same namespace): without help, each one lists and reads the
namespace again. :class:`InFlight` runs one request per distinct question and hands
its answer to every caller that asked while it ran.

Read-your-writes is kept: every write completed through the owner bumps
:attr:`InFlight.generation`, and a caller only joins a read that started in the
current generation, so a read issued after a write returned never gets an answer
computed before it. Reads are shared per event loop (a future belongs to its loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class InFlight:
    """One running computation per key (and event loop, and write generation)."""

    def __init__(self) -> None:
        self._running: dict[tuple[Any, ...], asyncio.Future[Any]] = {}
        self.generation = 0

    def wrote(self) -> None:
        """A write completed: reads started before it must not be joined any more."""
        self.generation += 1

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """``await compute()``, or the result of the identical call already running.

        The shared task is shielded: a caller cancelled while waiting does not cancel
        the computation the others wait for."""
        loop = asyncio.get_running_loop()
        slot = (loop, self.generation, key)
        task = self._running.get(slot)
        if task is None:
            async def call() -> T:
                return await compute()

            task = loop.create_task(call())
            self._running[slot] = task
            task.add_done_callback(lambda done: self._forget(slot, done))
        result: T = await asyncio.shield(task)
        return result

    def _forget(self, slot: tuple[Any, ...], task: asyncio.Future[Any]) -> None:
        if self._running.get(slot) is task:
            del self._running[slot]
        if not task.cancelled():
            task.exception()  # retrieved: every waiter got it already
