"""The segmented message history on every backend (docs/segments.md).

A small ``segment_bytes`` (BUDGET) makes seals happen every few messages, so each
behaviour is exercised across many segment boundaries."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest

from synaptic_s3 import (
    ChatMessageHistory,
    ConflictError,
    CorruptDataError,
    InvalidDataError,
    Message,
    MessageConflictError,
    SessionManager,
    Store,
)
from synaptic_s3.core.wrapper import StoreWrapper
from synaptic_s3.segments import MARKER, SegmentName, message_size
from tests.conftest import StoreFactory

BUDGET = 600
"""About eight of the test messages: seals every four or so."""
SESSION = "0193a6f2-6a1b-7c3d-9e4f-123456789abc"
MEMORY = ("memory", SESSION)
SEGMENTS = ("memory", SESSION, "segments")


def history(store: Store, budget: int | None = BUDGET) -> ChatMessageHistory:
    return ChatMessageHistory(store, segment_bytes=budget)


def texts(messages: list[Message]) -> list[str]:
    return [m.content or "" for m in messages]


async def fill(memory: ChatMessageHistory, count: int, *, first: int = 0) -> list[str]:
    names = [f"m{n:04d}" for n in range(first, first + count)]
    for name in names:
        await memory.append(SESSION, Message.human(name))
    return names


async def segment_names(store: Store) -> list[SegmentName]:
    names = [SegmentName.parse(key) async for key in store.iter_keys(SEGMENTS)]
    assert None not in names
    return sorted(n for n in names if n is not None)


async def raw_tail(store: Store) -> list[dict[str, Any]]:
    item = await store.get(MEMORY, "messages")
    assert item is not None
    assert isinstance(item.value, list)
    return item.value


# -- layout ------------------------------------------------------------------------------


async def test_under_the_budget_the_layout_is_one_plain_array(store: Store) -> None:
    memory = history(store, budget=10_000)
    await fill(memory, 5)
    tail = await raw_tail(store)
    assert [m["content"] for m in tail] == [f"m{n:04d}" for n in range(5)]
    assert all(MARKER not in m for m in tail)
    assert await segment_names(store) == []


async def test_past_the_budget_old_messages_move_to_segments(store: Store) -> None:
    memory = history(store)
    await fill(memory, 40)
    names = await segment_names(store)
    assert names
    assert names[0].start == 0
    assert all(a.end == b.start for a, b in itertools.pairwise(names))
    tail = await raw_tail(store)
    assert tail[0][MARKER]["start"] == names[-1].end
    assert names[-1].end + len(tail) == 40


async def test_the_tail_stays_within_the_budget(store: Store) -> None:
    memory = history(store)
    for n in range(40):
        await memory.append(SESSION, Message.human(f"m{n:04d}"))
        tail = await raw_tail(store)
        plain = [{k: v for k, v in m.items() if k != MARKER} for m in tail]
        assert sum(message_size(m) for m in plain) <= BUDGET


async def test_a_budget_of_none_never_seals(store: Store) -> None:
    memory = history(store, budget=None)
    await memory.append_many(SESSION, [Message.human("x" * 2_000) for _ in range(3)])
    await memory.append(SESSION, Message.human("more"))
    assert await segment_names(store) == []
    assert len(await raw_tail(store)) == 4


async def test_the_tail_reads_as_plain_messages_to_another_reader(store: Store) -> None:
    """A Rust-like reader of messages.json: every element is a valid message."""
    memory = history(store)
    await fill(memory, 30)
    for data in await raw_tail(store):
        assert Message.from_dict(data).content


# -- reads -------------------------------------------------------------------------------


async def test_load_returns_the_whole_history_in_order(store: Store) -> None:
    memory = history(store)
    names = await fill(memory, 50)
    assert texts(await history(store).load(SESSION)) == names  # a cold instance


async def test_load_never_shows_the_marker(store: Store) -> None:
    memory = history(store)
    await fill(memory, 30)
    loaded = await history(store).load(SESSION)
    assert all(MARKER not in m.to_dict() for m in loaded)


@pytest.mark.parametrize("last", [0, 1, 3, 7, 29, 30, 31, 1000])
async def test_load_last_returns_the_newest_oldest_first(store: Store, last: int) -> None:
    memory = history(store)
    names = await fill(memory, 30)
    expected = names[-last:] if last else []
    assert texts(await history(store).load(SESSION, last=last)) == expected


async def test_load_last_of_an_empty_session_is_empty(store: Store) -> None:
    assert await history(store).load(SESSION, last=5) == []


async def test_pages_read_forward_cover_the_history_exactly_once(store: Store) -> None:
    memory = history(store)
    names = await fill(memory, 45)
    seen: list[str] = []
    start = 0
    reader = history(store)
    while True:
        page = await reader.page(SESSION, start=start, limit=7)
        assert page.total == 45
        assert page.start == start
        seen += texts(page.messages)
        if page.end == page.total:
            break
        start = page.end
    assert seen == names


async def test_pages_read_backward_cover_the_history_exactly_once(store: Store) -> None:
    memory = history(store)
    names = await fill(memory, 45)
    seen: list[str] = []
    end: int | None = None
    reader = history(store)
    while end != 0:
        page = await reader.page_before(SESSION, end=end, limit=6)
        seen = texts(page.messages) + seen
        end = page.start
    assert seen == names


@pytest.mark.parametrize(("start", "limit", "expected"), [
    (0, 1, (0, 1)), (44, 1, (44, 45)), (44, 10, (44, 45)), (45, 10, (45, 45)),
    (1000, 5, (45, 45)), (3, 1000, (3, 45)),
])
async def test_page_edges(store: Store, start: int, limit: int,
                          expected: tuple[int, int]) -> None:
    memory = history(store)
    names = await fill(memory, 45)
    page = await history(store).page(SESSION, start=start, limit=limit)
    assert (page.start, page.end) == expected
    assert texts(page.messages) == names[expected[0]:expected[1]]


@pytest.mark.parametrize("bad", [-1, True, 1.5])
async def test_page_refuses_bad_numbers(store: Store, bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        await history(store).page(SESSION, start=bad)
    with pytest.raises((ValueError, TypeError)):
        await history(store).page(SESSION, limit=0)


@pytest.mark.parametrize(("start", "limit"), [(0, 1), (0, 44), (0, 45), (0, 46), (3, 7),
                                             (44, 10), (45, 3), (1000, 5)])
async def test_json_pages_hold_the_messages_of_the_same_page(store: Store, start: int,
                                                             limit: int) -> None:
    await fill(history(store), 45)
    reader = history(store)
    page = await reader.page(SESSION, start=start, limit=limit)
    wire = await reader.page_json(SESSION, start=start, limit=limit)
    assert (wire.start, wire.end, wire.total) == (page.start, page.end, page.total)
    assert [Message.from_json(item) for item in wire.items] == page.messages


@pytest.mark.parametrize(("end", "limit"), [(None, 1), (None, 44), (None, 45), (None, 46),
                                           (None, 100), (45, 7), (10, 20), (0, 5)])
async def test_json_pages_read_backward_match_page_before(store: Store, end: int | None,
                                                          limit: int) -> None:
    await fill(history(store), 45)
    reader = history(store)
    page = await reader.page_before(SESSION, end=end, limit=limit)
    wire = await reader.page_before_json(SESSION, end=end, limit=limit)
    assert (wire.start, wire.end, wire.total) == (page.start, page.end, page.total)
    assert [Message.from_json(item) for item in wire.items] == page.messages


async def test_json_pages_of_an_empty_history_are_empty(store: Store) -> None:
    reader = history(store)
    forward = await reader.page_json(SESSION, limit=5)
    backward = await reader.page_before_json(SESSION, limit=5)
    assert (forward.items, forward.start, forward.total) == ([], 0, 0)
    assert (backward.items, backward.start, backward.total) == ([], 0, 0)


async def test_json_pages_keep_what_was_stored_and_never_show_the_marker(
        store: Store) -> None:
    """Passed through as stored: unknown fields kept, the tail marker stripped."""
    memory = history(store)
    await fill(memory, 30)
    stored = {"role": "human", "content": "from rust", "name": None, "future": {"a": [1]}}
    await store.put(MEMORY, "messages", [*await raw_tail(store), stored])
    wire = await history(store).page_before_json(SESSION, limit=100)
    assert all(MARKER not in item for item in wire.items)
    assert json.loads(wire.items[-1]) == stored


async def test_a_json_page_with_an_invalid_message_is_corrupt_data_naming_it(
        store: Store) -> None:
    await store.put(MEMORY, "messages", [{"role": "human", "content": "ok"},
                                         {"role": "tool", "content": "no call id"}])
    with pytest.raises(CorruptDataError, match="message 1 is invalid"):
        await history(store).page_json(SESSION)
    with pytest.raises(CorruptDataError, match="message 1 is invalid"):
        await history(store).page_before_json(SESSION, limit=1)


async def test_json_pages_refuse_bad_numbers(store: Store) -> None:
    with pytest.raises(ValueError, match="start"):
        await history(store).page_json(SESSION, start=-1)
    with pytest.raises(ValueError, match="limit"):
        await history(store).page_before_json(SESSION, limit=0)
    with pytest.raises(ValueError, match="end"):
        await history(store).page_before_json(SESSION, end=-1)


async def test_count_is_the_number_of_messages(store: Store) -> None:
    memory = history(store)
    await fill(memory, 33)
    assert await history(store).count(SESSION) == 33


# -- writes ------------------------------------------------------------------------------


async def test_a_message_larger_than_the_budget_is_sealed_on_its_own(store: Store) -> None:
    memory = history(store)
    await fill(memory, 3)
    big = Message.human("B" * (BUDGET * 3))
    await memory.append(SESSION, big)
    await memory.append(SESSION, Message.human("after"))
    names = await segment_names(store)
    assert any(n.end - n.start == 1 for n in names)
    loaded = await history(store).load(SESSION)
    assert texts(loaded) == ["m0000", "m0001", "m0002", big.content, "after"]


async def test_writers_on_many_instances_lose_and_double_nothing(
    store_factory: StoreFactory,
) -> None:
    stores = [await store_factory() for _ in range(3)]
    writers = [history(store) for store in stores for _ in range(2)]

    async def write(index: int, memory: ChatMessageHistory) -> None:
        for n in range(8):
            await memory.append(SESSION, Message.human(f"w{index}-{n}"))

    await asyncio.gather(*(write(i, m) for i, m in enumerate(writers)))
    loaded = texts(await history(stores[0]).load(SESSION))
    assert sorted(loaded) == sorted(f"w{i}-{n}" for i in range(6) for n in range(8))
    for i in range(6):
        mine = [t for t in loaded if t.startswith(f"w{i}-")]
        assert mine == [f"w{i}-{n}" for n in range(8)]
    assert len(await segment_names(stores[0])) >= 2


async def test_a_reader_during_seals_sees_a_prefix_each_time(
    store_factory: StoreFactory,
) -> None:
    writer_store, reader_store = await store_factory(), await store_factory()
    writer, reader = history(writer_store), history(reader_store)
    names = [f"m{n:04d}" for n in range(40)]
    snapshots: list[list[str]] = []
    done = asyncio.Event()

    async def write() -> None:
        for name in names:
            await writer.append(SESSION, Message.human(name))
        done.set()

    async def read() -> None:
        while not done.is_set():
            snapshots.append(texts(await reader.load(SESSION)))
            await asyncio.sleep(0)  # a yield, not a wait: the in-memory store never awaits

    await asyncio.gather(write(), read())
    snapshots.append(texts(await reader.load(SESSION)))
    for seen in snapshots:
        assert seen == names[:len(seen)]
    assert snapshots[-1] == names


async def test_a_retry_after_its_message_was_sealed_stores_nothing(store: Store) -> None:
    memory = history(store)
    retried = Message.human("retried")
    await memory.append(SESSION, retried)
    await fill(memory, 8, first=1)  # seals "retried" into the newest segment
    assert (await segment_names(store))[-1].start == 0
    await history(store).append(SESSION, retried)  # a cold instance, same object
    await memory.append(SESSION, retried)  # the warm one
    assert texts(await history(store).load(SESSION)).count("retried") == 1


async def test_a_stored_id_with_other_content_is_refused(store: Store) -> None:
    memory = history(store)
    await memory.append(SESSION, Message.human("original", id="fixed"))
    with pytest.raises(MessageConflictError) as caught:
        await memory.append(SESSION, Message.human("changed", id="fixed"))
    assert caught.value.message_id == "fixed"
    assert texts(await memory.load(SESSION)) == ["original"]


async def test_a_sealed_id_with_other_content_is_refused(store: Store) -> None:
    memory = history(store)
    await memory.append(SESSION, Message.human("original", id="fixed"))
    await fill(memory, 8, first=1)
    with pytest.raises(MessageConflictError):
        await history(store).append(SESSION, Message.human("changed", id="fixed"))
    assert texts(await memory.load(SESSION)).count("original") == 1


async def test_a_refused_batch_writes_none_of_its_messages(store: Store) -> None:
    memory = history(store)
    await memory.append(SESSION, Message.human("original", id="fixed"))
    with pytest.raises(MessageConflictError):
        await memory.append_many(SESSION, [Message.human("new"),
                                           Message.human("changed", id="fixed")])
    assert texts(await memory.load(SESSION)) == ["original"]


async def test_duplicate_ids_in_one_append_are_refused(store: Store) -> None:
    memory = history(store)
    with pytest.raises(InvalidDataError, match="share an id"):
        await memory.append_many(SESSION, [Message.human("a", id="x"), Message.human("b", id="x")])
    assert await memory.load(SESSION) == []


async def test_a_seal_left_by_a_crashed_writer_is_adopted(store: Store) -> None:
    """A writer wrote the segment of a seal and died before its tail write: the next
    writer seals the same messages under the same key and the history is whole."""
    memory = history(store)
    names = await fill(memory, 7)
    tail = await raw_tail(store)
    marker = tail[0].get(MARKER)
    start = marker["start"] if marker else 0
    epoch = marker["epoch"] if marker else None
    plain = [{k: v for k, v in m.items() if k != MARKER} for m in tail]
    # What the next seal would write, computed as the library does.
    from synaptic_s3.segments import seal_length
    sealed = seal_length([message_size(m) for m in plain], 10**6, BUDGET)
    if epoch is not None and sealed:
        orphan = SegmentName(epoch, start, start + sealed)
        await store.put(SEGMENTS, orphan.key, plain[:sealed], if_absent=True)
    more = await fill(history(store), 10, first=7)
    assert texts(await history(store).load(SESSION)) == names + more


async def test_a_stale_cache_after_another_instance_sealed_still_appends(
    store_factory: StoreFactory,
) -> None:
    first, second = history(await store_factory()), history(await store_factory())
    await first.append(SESSION, Message.human("start"))
    names = await fill(second, 20, first=1)  # seals, behind first's cache
    await first.append(SESSION, Message.human("late"))
    assert texts(await second.load(SESSION)) == ["start", *names, "late"]


async def test_clear_removes_every_segment(store: Store) -> None:
    memory = history(store)
    await fill(memory, 40)
    await memory.set_summary(SESSION, "summary")
    await memory.clear(SESSION)
    assert await memory.load(SESSION) == []
    assert await segment_names(store) == []
    assert await store.get(MEMORY, "messages") is None
    assert await memory.get_summary(SESSION) is None


async def test_a_cleared_history_starts_a_new_epoch(store: Store) -> None:
    memory = history(store)
    await fill(memory, 30)
    old = {n.epoch for n in await segment_names(store)}
    await memory.clear(SESSION)
    names = await fill(memory, 30, first=100)
    assert texts(await history(store).load(SESSION)) == names
    assert not old & {n.epoch for n in await segment_names(store)}


async def test_delete_session_removes_every_segment(store: Store) -> None:
    manager = SessionManager(store, segment_bytes=BUDGET)
    session_id = await manager.create_session()
    for n in range(30):
        await manager.memory().append(session_id, Message.human(f"m{n}"))
    await manager.delete_session(session_id)
    assert [key async for key in store.iter_keys(("memory", session_id, "segments"))] == []
    assert await manager.memory().load(session_id) == []


async def test_a_missing_segment_is_corrupt_data_naming_it(store: Store) -> None:
    memory = history(store)
    await fill(memory, 30)
    victim = (await segment_names(store))[0]
    await store.delete(SEGMENTS, victim.key)
    with pytest.raises(CorruptDataError) as caught:
        await history(store).load(SESSION)
    assert caught.value.namespace == SEGMENTS


async def test_a_segment_of_the_wrong_length_is_corrupt(store: Store) -> None:
    memory = history(store)
    await fill(memory, 30)
    victim = (await segment_names(store))[0]
    await store.put(SEGMENTS, victim.key, [{"role": "human", "content": "only one"}])
    with pytest.raises(CorruptDataError):
        await history(store).load(SESSION)


async def test_a_malformed_marker_is_corrupt(store: Store) -> None:
    await store.put(MEMORY, "messages", [{"role": "human", "content": "x", MARKER: 5}])
    with pytest.raises(CorruptDataError, match=MARKER):
        await history(store).load(SESSION)


# -- copies ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [None, 0, 1, 4, 13, 29, 30, 31])
async def test_copy_history_copies_the_first_messages(store: Store, count: int | None) -> None:
    memory = history(store)
    names = await fill(memory, 30)
    target = "0193a6f2-6a1b-7c3d-9e4f-000000000001"
    copied = await memory.copy_history(SESSION, target, messages=count)
    expected = names if count is None else names[:count]
    assert copied == len(expected)
    assert texts(await history(store).load(target)) == expected
    assert texts(await history(store).load(SESSION)) == names
    more = await fill(history(store), 10, first=500)
    assert texts(await history(store).load(SESSION)) == names + more


async def test_a_copy_is_appendable_past_the_budget(store: Store) -> None:
    memory = history(store)
    names = await fill(memory, 30)
    target = "0193a6f2-6a1b-7c3d-9e4f-000000000002"
    await memory.copy_history(SESSION, target, messages=20)
    for n in range(15):
        await memory.append(target, Message.human(f"t{n}"))
    loaded = texts(await history(store).load(target))
    assert loaded == names[:20] + [f"t{n}" for n in range(15)]


async def test_copy_into_a_session_with_messages_conflicts(store: Store) -> None:
    memory = history(store)
    await fill(memory, 3)
    target = "0193a6f2-6a1b-7c3d-9e4f-000000000003"
    await memory.append(target, Message.human("mine"))
    with pytest.raises(ConflictError):
        await memory.copy_history(SESSION, target)
    assert texts(await memory.load(target)) == ["mine"]


async def test_segments_are_plain_json_arrays_of_messages(store: Store) -> None:
    memory = history(store)
    await fill(memory, 30)
    for name in await segment_names(store):
        item = await store.get(SEGMENTS, name.key)
        assert item is not None
        assert len(item.value) == name.end - name.start
        assert all(MARKER not in m for m in item.value)
        json.dumps(item.value)


# -- a lost answer, found by position -----------------------------------------------------


class LosesOneAnswer(StoreWrapper):
    """Applies the first tail write after ``arm()`` and then reports a conflict, as a
    PUT whose answer was lost and whose retry met its own version; ``between`` runs
    before that report (other writers going on meanwhile)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.armed = False
        self.between: Any = None

    def arm(self, between: Any) -> None:
        self.armed, self.between = True, between

    async def _put_raw(self, namespace: Any, key: str, body: bytes, *,
                       if_version: str | None, if_absent: bool) -> str:
        version = await super()._put_raw(namespace, key, body, if_version=if_version,
                                         if_absent=if_absent)
        if self.armed and key == "messages":
            self.armed = False
            await self.between()
            raise ConflictError("answer lost; the retry met our own write")
        return version


async def test_a_lost_answer_is_found_after_two_seals_moved_the_batch(store: Store) -> None:
    lossy = LosesOneAnswer(store)
    writer = history(lossy)
    names = await fill(history(store), 7)
    other = history(store)

    async def two_seals() -> None:
        await fill(other, 30, first=100)  # the batch moves past the newest segment

    lossy.arm(two_seals)
    await writer.append(SESSION, Message.human("once"))

    loaded = texts(await history(store).load(SESSION))
    assert loaded.count("once") == 1
    assert loaded[:8] == [*names, "once"]
    assert len(await segment_names(store)) >= 3
