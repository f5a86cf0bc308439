"""One S3 client per event loop, each closed when its loop ends or the store closes.

An aiohttp connection pool belongs to the event loop it was made on, so one client
cannot serve two loops. Rather than refusing a second loop (two ``asyncio.run``
calls in a row, a synchronous framework running each call in a fresh loop, several
threads each with its own loop), a store keeps one client per loop that uses it:

* the client is opened on the loop's first request, inside an ``AsyncExitStack``
  that is the one place it is closed;
* it is closed when its loop shuts down: a suspended async generator is registered
  with the loop, and ``asyncio.run`` / ``asyncio.Runner`` (and pytest-asyncio, and
  anything else calling ``loop.shutdown_asyncgens()`` before ``loop.close()``, as
  asyncio documents) close it in that loop, where aiohttp can still close its
  session cleanly, so no "Unclosed client session" is left behind;
* :meth:`LoopClients.close` closes the calling loop's client at once and asks every
  other running loop to close its own (a loop that is open but idle closes its
  client when it shuts down).

The alternative, one private I/O thread with its own loop (s3fs's design), would
add a cross-thread hop to every request and keep a thread alive in every Lambda
container; per-loop clients cost nothing on the common single-loop path.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

Opener = Callable[[AsyncExitStack], Awaitable["S3Client"]]
"""Opens a client whose clean-up it pushes onto the stack given."""


@dataclass(eq=False)
class _LoopClient:
    loop: asyncio.AbstractEventLoop
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    client: S3Client | None = None
    stack: AsyncExitStack | None = None
    sentinel: AsyncGenerator[None, None] | None = None
    closed: bool = False


class LoopClients:
    """The clients of one store, keyed by event loop (safe to use from any thread)."""

    def __init__(self, opener: Opener) -> None:
        self._opener = opener
        self._guard = threading.Lock()
        self._by_loop: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        self._handlers: list[tuple[str, Callable[..., Any]]] = []

    def __len__(self) -> int:
        """How many clients are open (for tests: none after every loop ended)."""
        with self._guard:
            return sum(1 for entry in self._by_loop.values() if entry.client is not None)

    def register(self, event_name: str, handler: Callable[..., Any]) -> None:
        """Register a botocore event handler on every client, open now or later."""
        with self._guard:
            self._handlers.append((event_name, handler))
            clients = [e.client for e in self._by_loop.values() if e.client is not None]
        for client in clients:
            client.meta.events.register(event_name, handler)

    async def get(self) -> S3Client:
        """The running loop's client, opened on first use."""
        loop = asyncio.get_running_loop()
        with self._guard:
            entry = self._by_loop.get(loop)
            if entry is None or entry.closed:
                entry = self._by_loop[loop] = _LoopClient(loop)
        if entry.client is None:
            async with entry.lock:
                if entry.client is None:
                    await self._open(entry)
        assert entry.client is not None
        return entry.client

    async def _open(self, entry: _LoopClient) -> None:
        self._forget_dead_loops()
        stack = AsyncExitStack()
        try:
            client = await self._opener(stack)
        except BaseException:
            await stack.aclose()
            raise
        with self._guard:
            handlers = list(self._handlers)
        for event_name, handler in handlers:
            client.meta.events.register(event_name, handler)
        sentinel = self._close_at_loop_end(entry)
        await anext(sentinel)  # now tracked by the loop: closed by shutdown_asyncgens()
        entry.client, entry.stack, entry.sentinel = client, stack, sentinel

    async def _close_at_loop_end(self, entry: _LoopClient) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self._close_entry(entry)

    async def _close_entry(self, entry: _LoopClient) -> None:
        with self._guard:
            if entry.closed:
                return
            entry.closed = True
            if self._by_loop.get(entry.loop) is entry:
                del self._by_loop[entry.loop]
        stack, entry.client, entry.stack = entry.stack, None, None
        if stack is not None:
            await stack.aclose()

    async def close(self) -> None:
        """Close this loop's client now; ask other running loops to close theirs."""
        current = asyncio.get_running_loop()
        with self._guard:
            entries = list(self._by_loop.values())
        for entry in entries:
            if entry.loop is current:
                await self._close_now(entry)
            elif entry.loop.is_running():
                with contextlib.suppress(RuntimeError):  # it closed in the meantime
                    asyncio.run_coroutine_threadsafe(self._close_now(entry), entry.loop)

    async def _close_now(self, entry: _LoopClient) -> None:
        """Close the client, then finish its sentinel (which finds nothing left to do)."""
        await self._close_entry(entry)
        if entry.sentinel is not None:
            await entry.sentinel.aclose()

    def _forget_dead_loops(self) -> None:
        """Drop clients whose loop was closed without ``shutdown_asyncgens()``: their
        connections died with the loop and nothing can close them any more."""
        with self._guard:
            dead = [e for e in self._by_loop.values() if e.loop.is_closed()]
            for entry in dead:
                del self._by_loop[entry.loop]
                entry.closed = True
        for entry in dead:
            if entry.sentinel is not None:
                # entry.closed is set: the generator's finally returns without awaiting,
                # so it can be finished here, outside its (closed) loop.
                with contextlib.suppress(StopIteration, StopAsyncIteration, RuntimeError):
                    entry.sentinel.aclose().send(None)
