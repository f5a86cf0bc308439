"""One S3Store from any event loop and any thread (issue 11): sequential
``asyncio.run`` calls, several threads each with its own loop, two live loops taking
turns. Every client is closed when its loop ends: no aiohttp session is leaked and no
"Unclosed client session" or ResourceWarning is emitted (warnings are errors here and
the garbage collector runs before the check)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from synaptic_s3 import S3Store
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET

pytestmark = pytest.mark.s3

NS = ("things",)


class _Leaks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


@contextmanager
def no_leaks() -> Iterator[None]:
    """Fail if anything in the block, or garbage collected after it, warns, logs an
    asyncio error (aiohttp reports unclosed sessions through both) or raises in a
    finaliser."""
    unraisable: list[str] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda info: unraisable.append(f"{info.exc_value!r} in {info.object!r}")
    leaks = _Leaks()
    logging.getLogger("asyncio").addHandler(leaks)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield
            gc.collect()
            gc.collect()
    finally:
        sys.unraisablehook = previous_hook
        logging.getLogger("asyncio").removeHandler(leaks)
    assert unraisable == []
    assert leaks.seen == []


@pytest.fixture
def s3(moto_endpoint: Endpoint) -> S3Store:
    return S3Store(BUCKET, prefix=f"loops-{uuid.uuid4().hex}", **moto_endpoint.boto3_kwargs())


def _value(store: S3Store, key: str) -> Any:
    async def read() -> Any:
        item = await store.get(NS, key)
        return None if item is None else item.value

    return asyncio.run(read())


def test_two_asyncio_runs_in_sequence_share_one_store(s3: S3Store) -> None:
    with no_leaks():
        asyncio.run(s3.put(NS, "k", 1))
        assert s3.open_clients == 0  # closed when the first loop ended
        assert _value(s3, "k") == 1
        assert s3.open_clients == 0


def test_a_store_serves_threads_each_running_its_own_loop(s3: S3Store) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        async def work() -> None:
            await asyncio.gather(*(s3.put(NS, f"t{n}-{i}", i) for i in range(10)))
            items = await s3.get_many(NS, [f"t{n}-{i}" for i in range(10)])
            assert [item.value for item in items] == list(range(10))

        try:
            asyncio.run(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread below
            errors.append(exc)

    with no_leaks():
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert s3.open_clients == 0
        keys = asyncio.run(_all_keys(s3))
    assert len(keys) == 40


async def _all_keys(store: S3Store) -> list[str]:
    return [key async for key in store.iter_keys(NS)]


def test_two_live_loops_take_turns_with_one_store(s3: S3Store) -> None:
    with no_leaks():
        first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
        try:
            first.run_until_complete(s3.put(NS, "a", "first"))
            second.run_until_complete(s3.put(NS, "b", "second"))
            first.run_until_complete(s3.put(NS, "c", "first again"))
            assert s3.open_clients == 2
        finally:
            for loop in (first, second):  # what asyncio.run does when it ends
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
        assert s3.open_clients == 0
        assert [_value(s3, key) for key in "abc"] == ["first", "second", "first again"]


def test_close_closes_the_loops_client_and_the_store_reopens_on_use(s3: S3Store) -> None:
    async def scenario() -> list[int]:
        counts = []
        await s3.put(NS, "k", 1)
        counts.append(s3.open_clients)
        await s3.close()
        counts.append(s3.open_clients)
        await s3.put(NS, "k", 2)  # a closed store opens a new client when used again
        counts.append(s3.open_clients)
        await s3.close()
        await s3.close()  # twice is fine
        counts.append(s3.open_clients)
        return counts

    with no_leaks():
        assert asyncio.run(scenario()) == [1, 0, 1, 0]
        assert _value(s3, "k") == 2


def test_async_with_in_two_runs(s3: S3Store) -> None:
    async def use(value: int) -> None:
        async with s3 as opened:
            await opened.put(NS, "k", value)

    with no_leaks():
        asyncio.run(use(1))
        asyncio.run(use(2))
        assert _value(s3, "k") == 2


def test_a_loop_closed_without_shutting_down_does_not_break_the_store(s3: S3Store) -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(s3.put(NS, "k", 1))
    loop.close()  # no shutdown_asyncgens(): that loop's client cannot be closed cleanly

    assert _value(s3, "k") == 1
    assert s3.open_clients == 0
