"""Requests and bytes of the segmented history (docs/segments.md, "Costs"), on the wire.

Long histories are built in memory with the library itself and copied into moto's
backend (uncounted set-up); each test then runs ONE operation on the S3 store."""

from __future__ import annotations

import json

import pytest

from synaptic_s3 import ChatMessageHistory, InMemoryStore, Message, S3Store
from synaptic_s3.core.keys import object_path
from synaptic_s3.segments import MARKER, SegmentName
from tests.perf.conftest import Seed, WireCounter

pytestmark = pytest.mark.s3

SESSION = "0193a6f2-6a1b-7c3d-9e4f-123456789abc"
BUDGET = 4_000
"""About fifty messages of ~80 bytes a segment."""


async def build(seed: Seed, count: int, *, budget: int | None = BUDGET) -> InMemoryStore:
    """A history of ``count`` messages written by the library, then copied to S3."""
    memory = InMemoryStore()
    history = ChatMessageHistory(memory, segment_bytes=budget)
    batch = [Message.human(f"message {n:06d}") for n in range(count)]
    for start in range(0, count, 10):  # ten at a time: seals as a chat would
        await history.append_many(SESSION, batch[start:start + 10])
    objects = []
    for namespace in await memory.list_namespaces(("memory", SESSION)):
        async for key in memory.iter_keys(namespace):
            item = await memory.get(namespace, key)
            assert item is not None
            body = json.dumps(item.value, separators=(",", ":")).encode()
            objects.append((object_path(namespace, key), body))
    seed(objects)
    return memory


async def segment_count(memory: InMemoryStore) -> int:
    return len([k async for k in memory.iter_keys(("memory", SESSION, "segments"))])


async def tail_length(memory: InMemoryStore) -> int:
    item = await memory.get(("memory", SESSION), "messages")
    assert item is not None
    return len(item.value)


def history(store: S3Store, budget: int | None = BUDGET) -> ChatMessageHistory:
    return ChatMessageHistory(store, segment_bytes=budget)


@pytest.mark.parametrize("count", [1_000, 10_000])
async def test_warm_append_to_a_long_history_is_one_conditional_put(
    store: S3Store, seed: Seed, wire: WireCounter, count: int
) -> None:
    await build(seed, count)
    writer = history(store)
    await writer.count(SESSION)  # warm: the tail is known
    wire.reset()

    await writer.append(SESSION, Message.human("one more"))

    assert wire.calls == {"PutObject": 1}
    assert wire.conditional_puts == 1


async def test_cold_append_adds_one_read_of_the_tail(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    await build(seed, 5_000)
    wire.reset()

    await history(store).append(SESSION, Message.human("one more"))

    assert wire.calls == {"GetObject": 1, "PutObject": 1}


async def test_an_append_that_seals_is_two_puts(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    await build(seed, 5_000)
    writer = history(store)
    await writer.count(SESSION)
    segments_before = len([k async for k in store.iter_keys(("memory", SESSION, "segments"))])
    wire.reset()
    puts = 0
    while puts < 2:  # append until one append seals
        wire.reset()
        await writer.append(SESSION, Message.human("x" * 60))
        puts = wire.calls["PutObject"]

    assert wire.calls == {"PutObject": 2}
    assert wire.conditional_puts == 2
    after = len([k async for k in store.iter_keys(("memory", SESSION, "segments"))])
    assert after == segments_before + 1


async def test_an_append_uploads_at_most_the_budget_plus_the_new_message(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    await build(seed, 2_000)
    writer = history(store)
    await writer.count(SESSION)
    client = await store.client()
    sizes: list[int] = []

    def measure(params: dict[str, object], **_: object) -> None:
        body = params.get("Body")
        if isinstance(body, bytes):
            sizes.append(len(body))

    client.meta.events.register("before-parameter-build.s3.PutObject", measure)
    overhead = 200  # the tail marker (~90 bytes) and the arrays' brackets and commas
    for _ in range(120):  # more than two seals' worth
        sizes.clear()
        new = Message.human("y" * 80)
        await writer.append(SESSION, new)
        assert sum(sizes) <= BUDGET + len(new.to_json().encode()) + overhead


async def test_load_of_an_unsealed_history_is_one_get(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    await build(seed, 40)
    wire.reset()

    assert len(await history(store).load(SESSION)) == 40

    assert wire.calls == {"GetObject": 1}


async def test_load_of_a_sealed_history_reads_the_tail_a_listing_and_each_segment(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    memory = await build(seed, 3_000)
    segments = await segment_count(memory)
    wire.reset()

    assert len(await history(store).load(SESSION)) == 3_000

    assert wire.calls == {"GetObject": 1 + segments, "ListObjectsV2": 1}


async def test_load_last_within_the_tail_is_one_get(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    memory = await build(seed, 10_000)
    last = min(20, await tail_length(memory))
    wire.reset()

    loaded = await history(store).load(SESSION, last=last)

    assert [m.content for m in loaded][-1] == "message 009999"
    assert wire.calls == {"GetObject": 1}


async def test_load_last_into_the_newest_segment_reads_it_by_name(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    memory = await build(seed, 10_000)
    last = await tail_length(memory) + 1  # one message from the newest segment
    wire.reset()

    loaded = await history(store).load(SESSION, last=last)

    assert len(loaded) == last
    assert wire.calls == {"GetObject": 2}  # the tail names its newest segment: no LIST


async def test_load_last_of_exactly_the_newest_segment_and_the_tail_needs_no_list(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    memory = await build(seed, 10_000)
    names = sorted(n for n in [SegmentName.parse(k) async for k in
                               memory.iter_keys(("memory", SESSION, "segments"))] if n)
    last = 10_000 - names[-1].start  # from the newest segment's first message on
    wire.reset()

    loaded = await history(store).load(SESSION, last=last)

    assert loaded[0].content == f"message {names[-1].start:06d}"
    assert wire.calls == {"GetObject": 2}


async def test_load_last_past_the_newest_segment_lists_once(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    memory = await build(seed, 10_000)
    names = sorted(n for n in [SegmentName.parse(k) async for k in
                               memory.iter_keys(("memory", SESSION, "segments"))] if n)
    last = 10_000 - names[-1].start + 1  # one message from the segment before the newest
    wire.reset()

    loaded = await history(store).load(SESSION, last=last)

    assert len(loaded) == last
    assert wire.calls == {"GetObject": 3, "ListObjectsV2": 1}


@pytest.mark.parametrize("start", [0, 5_000, 9_990])
async def test_a_page_costs_the_segments_it_spans_not_the_history(
    store: S3Store, seed: Seed, wire: WireCounter, start: int
) -> None:
    memory = await build(seed, 10_000)
    wire.reset()

    page = await history(store).page(SESSION, start=start, limit=20)

    assert page.messages[0].content == f"message {start:06d}"
    names = sorted(n for n in [SegmentName.parse(k) async for k in
                               memory.iter_keys(("memory", SESSION, "segments"))] if n)
    spanned = [n for n in names if n.end > start and n.start < start + 20]
    in_tail = start + 20 > names[-1].end
    expected = {"GetObject": 1 + len(spanned)}
    if spanned and start < names[-1].start:  # the newest segment alone needs no LIST
        expected["ListObjectsV2"] = 1
    assert wire.calls == expected
    assert in_tail or spanned


async def test_a_budget_of_none_keeps_today_s_single_array(
    store: S3Store, seed: Seed, wire: WireCounter
) -> None:
    memory = await build(seed, 500, budget=None)
    assert await segment_count(memory) == 0
    item = await memory.get(("memory", SESSION), "messages")
    assert item is not None
    assert MARKER not in item.value[0]
