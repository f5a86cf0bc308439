"""A writer killed at every request of an append that seals, and faults during seals.

The kill is exact, not timed: the proxy holds request k+1 and signals it, and the
test cancels the append there, as a Lambda frozen or killed mid-request. In the
"after-request" variant request k+1 is applied and only its answer dies with the
process. Then a healthy writer goes on, and the history must hold every
acknowledged message exactly once, in order, and the killed append's message at
most once (all or nothing), right where it was appended.
"""

from __future__ import annotations

import asyncio

import pytest

from synaptic_s3 import ChatMessageHistory, Message, S3Store
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.reliability.helpers import kill_at_request

pytestmark = [pytest.mark.s3]

SESSION = "0193a6f2-6a1b-7c3d-9e4f-123456789abc"
BUDGET = 640  # eight 78-byte messages fit; the ninth append seals
BEFORE = [f"m{n:04d}" for n in range(8)]  # a tail of ~600 bytes: the next append seals
AFTER = [f"a{n:04d}" for n in range(12)]
MAX_REQUESTS = 8
BUCKET = "synaptic-tests"


def open_store(endpoint: Endpoint, prefix: str, url: str | None = None) -> S3Store:
    options = endpoint.boto3_kwargs()
    if url is not None:
        options["endpoint_url"] = url
    return S3Store(BUCKET, prefix=prefix, **options)


def texts(messages: list[Message]) -> list[str]:
    return [m.content or "" for m in messages]


@pytest.mark.parametrize("apply", [False, True], ids=["before-request", "after-request"])
async def test_a_writer_killed_at_every_request_of_a_seal_loses_nothing(
    endpoint: Endpoint, proxy: FaultProxy, prefix: str, apply: bool
) -> None:
    kills = 0
    for k in range(MAX_REQUESTS):
        place = f"{prefix}-k{k}"
        async with open_store(endpoint, place) as direct:
            setup = ChatMessageHistory(direct, segment_bytes=BUDGET)
            for name in BEFORE:
                await setup.append(SESSION, Message.human(name))
            assert [key async for key in direct.iter_keys(("memory", SESSION, "segments"))] == []
            async with open_store(endpoint, place, proxy.url) as doomed:
                victim = ChatMessageHistory(doomed, segment_bytes=BUDGET)  # cold: GET first
                killed = await kill_at_request(
                    proxy, victim.append(SESSION, Message.human("victim")), k, apply=apply)

            survivor = ChatMessageHistory(direct, segment_bytes=BUDGET)
            for name in AFTER:
                await survivor.append(SESSION, Message.human(name))
            loaded = texts(await ChatMessageHistory(direct, segment_bytes=BUDGET).load(SESSION))
            landed = loaded.count("victim")
            assert landed <= 1
            assert [t for t in loaded if t != "victim"] == BEFORE + AFTER
            if landed:
                assert loaded.index("victim") == len(BEFORE)
            if not killed:
                assert landed == 1
            segments = [key async for key in direct.iter_keys(("memory", SESSION, "segments"))]
            assert segments  # the seal happened, by the victim or by the survivor

            await survivor.clear(SESSION)
            assert [key async for key in direct.iter_keys(("memory", SESSION, "segments"))] == []
            assert await direct.get(("memory", SESSION), "messages") is None
        if not killed:
            break
        kills += 1
    else:
        pytest.fail(f"the append still unfinished after {MAX_REQUESTS} requests")
    assert kills >= 3  # the read of the tail, the segment, the tail


@pytest.mark.parametrize("fault", [Fault.lose_answer(), Fault.error(500), Fault.slow_down(),
                                   Fault.drop()], ids=["lost-answer", "500", "503", "drop"])
async def test_faults_during_seals_lose_and_double_nothing(
    endpoint: Endpoint, proxy: FaultProxy, prefix: str, fault: Fault, quick_backoff: None
) -> None:
    """Every third PUT meets the fault (retried by botocore, or by the append's
    compare-and-swap after a lost answer's 412): four writers across many seals."""
    proxy.inject(fault, operation="PutObject", rate=0.3)
    async with open_store(endpoint, prefix, proxy.url) as faulty, \
            open_store(endpoint, prefix) as direct:
        writers = [ChatMessageHistory(faulty, segment_bytes=BUDGET) for _ in range(4)]

        async def write(index: int, history: ChatMessageHistory) -> None:
            for n in range(10):
                await history.append(SESSION, Message.human(f"w{index}-{n}"))

        await asyncio.gather(*(write(i, h) for i, h in enumerate(writers)))
        loaded = texts(await ChatMessageHistory(direct, segment_bytes=BUDGET).load(SESSION))
    assert sorted(loaded) == sorted(f"w{i}-{n}" for i in range(4) for n in range(10))
    for i in range(4):
        assert [t for t in loaded if t.startswith(f"w{i}-")] == [f"w{i}-{n}" for n in range(10)]
    assert proxy.count("PutObject", faulted=True) > 0
