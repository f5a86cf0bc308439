"""Synchronous calls into the async :class:`~synaptic_s3.core.store.Store`.

LangGraph calls a checkpointer's and a store's synchronous methods from
``graph.invoke`` (also from its worker threads, and from notebook cells whose
thread already runs an event loop). Our stores are async, and an ``S3Store``'s
HTTP client belongs to the event loop that first used it. So every synchronous
call runs on ONE event loop of this process, kept in a daemon thread
("synaptic-s3-sync") and started on first use; the caller's thread just waits.
``asyncio.run`` per call would instead give each call a new loop and break the
client made on the previous one.

Consequence for users: an ``S3Store`` instance is either used through the
synchronous methods (its client lives on this loop) or from the application's own
event loop (async methods), not both; mixed code gives each side its own
instance. The in-memory and file stores have no such limit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

from synaptic_s3.core.errors import SynapticError

T = TypeVar("T")


class SyncCallOnLoopThreadError(SynapticError, RuntimeError):
    """A synchronous method was called from a coroutine running on the sync loop
    itself, where waiting for the result would deadlock."""


class _LoopThread:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                threading.Thread(target=serve, name="synaptic-s3-sync", daemon=True).start()
                started.wait()
                self._loop = loop
            return self._loop


_LOOP = _LoopThread()


def submit(coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
    """Start ``coroutine`` on the shared sync loop without waiting (background work
    such as a TTL sweeper); cancel the returned future to stop it."""
    return asyncio.run_coroutine_threadsafe(coroutine, _LOOP.loop())


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the shared sync loop and return its result (or raise its
    exception) in the calling thread. Also for closing a store used synchronously:
    ``run_sync(store.close())``."""
    loop = _LOOP.loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise SyncCallOnLoopThreadError(
            "a synchronous method was called from the synaptic-s3 sync loop; "
            "use the async method (a...) there"
        )
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


async def on_sync_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await ``coroutine`` from any event loop, running it on the shared sync loop: for
    async framework hooks that each invocation runs on a fresh loop (Strands), so a
    store keeps one client and its warm connections instead of one per short-lived loop."""
    loop = _LOOP.loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        return await coroutine
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))


def iterate_sync(iterator: AsyncIterator[T]) -> Iterator[T]:
    """Drive an async iterator from synchronous code, one item per round trip to the
    sync loop; stopping early closes it there."""

    async def step() -> list[T]:
        try:
            return [await anext(iterator)]
        except StopAsyncIteration:
            return []

    try:
        while True:
            found = run_sync(step())
            if not found:
                return
            yield found[0]
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            run_sync(close())
