"""SessionManager, ChatMessageHistory and StoreCheckpointer over every backend."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from synaptic_s3 import (
    ChatMessageHistory,
    Checkpoint,
    CheckpointConfig,
    ConflictError,
    CorruptDataError,
    InvalidKeyError,
    Message,
    SessionManager,
    Store,
    StoreCheckpointer,
)
from synaptic_s3.ids import uuid7_datetime, uuid7_from
from tests.conftest import StoreFactory

ISO_MS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# -- SessionManager -----------------------------------------------------------------------


async def test_create_session_returns_a_uuid7_id(manager: SessionManager) -> None:
    session_id = await manager.create_session()
    assert uuid7_datetime(session_id) is not None


async def test_created_session_metadata_is_exactly_id_and_created_at(
    manager: SessionManager, store: Store
) -> None:
    session_id = await manager.create_session()
    item = await store.get(("sessions",), session_id)
    assert item is not None
    assert set(item.value) == {"id", "created_at"}
    assert item.value["id"] == session_id
    assert ISO_MS_UTC.match(item.value["created_at"])


async def test_created_at_is_the_moment_of_creation(manager: SessionManager) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    info = await manager.get_session(await manager.create_session())
    assert info is not None
    created = datetime.fromisoformat(info.created_at)
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=1)


async def test_create_session_with_the_same_id_twice_makes_one_session(
    manager: SessionManager,
) -> None:
    chosen = str(uuid7_from(1_700_000_000_123, b"request"))
    first = await manager.create_session(session_id=chosen)
    second = await manager.create_session(session_id=chosen)
    assert first == second == chosen
    assert [info.id for info in await manager.list_sessions()] == [chosen]


async def test_create_session_with_a_chosen_uuid7_dates_it_by_the_id(
    manager: SessionManager,
) -> None:
    chosen = str(uuid7_from(1_700_000_000_123, b"request"))
    info = await manager.get_session(await manager.create_session(session_id=chosen))
    assert info is not None
    assert info.created_at == "2023-11-14T22:13:20.123Z"


async def test_create_session_with_an_id_stored_with_other_metadata_conflicts(
    manager: SessionManager, store: Store
) -> None:
    chosen = str(uuid7_from(1_700_000_000_123, b"request"))
    await store.put(("sessions",), chosen, {"id": chosen, "created_at": "elsewhen"})
    with pytest.raises(ConflictError):
        await manager.create_session(session_id=chosen)


async def test_get_session_of_an_unknown_id_is_none(manager: SessionManager) -> None:
    assert await manager.get_session("no-such-session") is None


async def test_get_session_rejects_an_invalid_id(manager: SessionManager) -> None:
    with pytest.raises(InvalidKeyError):
        await manager.get_session("../etc/passwd")


async def test_list_sessions_returns_every_session_oldest_first(manager: SessionManager) -> None:
    created = [await manager.create_session() for _ in range(5)]
    listed = await manager.list_sessions()
    assert [info.id for info in listed] == created


async def test_list_sessions_reads_foreign_ids_and_orders_them_by_created_at(
    manager: SessionManager, store: Store
) -> None:
    ours = await manager.create_session()
    ours_info = await manager.get_session(ours)
    assert ours_info is not None
    ours_time = datetime.fromisoformat(ours_info.created_at)
    older = (ours_time - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    newer = (ours_time + timedelta(days=1)).isoformat()
    await store.put(("sessions",), "rust-session-b", {"id": "rust-session-b", "created_at": newer})
    await store.put(("sessions",), "rust-session-a", {"id": "rust-session-a", "created_at": older})
    listed = [info.id for info in await manager.list_sessions()]
    assert listed == ["rust-session-a", ours, "rust-session-b"]


async def test_list_sessions_breaks_ties_by_id(manager: SessionManager, store: Store) -> None:
    moment = "2026-01-01T00:00:00.000Z"
    for session_id in ["tie-b", "tie-a", "tie-c"]:
        await store.put(("sessions",), session_id, {"id": session_id, "created_at": moment})
    assert [info.id for info in await manager.list_sessions()] == ["tie-a", "tie-b", "tie-c"]


async def test_list_sessions_has_no_cap_past_a_thousand(manager: SessionManager) -> None:
    created = await asyncio.gather(*(manager.create_session() for _ in range(1001)))
    listed = await manager.list_sessions()
    assert len(listed) == 1001
    assert {info.id for info in listed} == set(created)
    assert listed == sorted(listed, key=lambda info: (info.created_at, info.id))


async def test_list_sessions_page_continues_where_it_stopped(manager: SessionManager) -> None:
    created = [await manager.create_session() for _ in range(5)]
    first, cursor = await manager.list_sessions_page(limit=3)
    assert cursor is not None
    second, end = await manager.list_sessions_page(limit=3, after=cursor)
    assert [info.id for info in first + second] == created
    assert end is None


async def test_a_stored_session_that_is_not_session_info_is_corrupt(
    manager: SessionManager, store: Store
) -> None:
    await store.put(("sessions",), "broken", [1, 2, 3])
    with pytest.raises(CorruptDataError, match="broken"):
        await manager.get_session("broken")


async def test_delete_session_removes_everything_of_that_session(
    manager: SessionManager, store: Store
) -> None:
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("hello"))
    await manager.memory().set_summary(session_id, "greeting")
    await manager.checkpointer().put(CheckpointConfig(session_id), Checkpoint({"step": 1}))
    await manager.delete_session(session_id)
    assert await manager.get_session(session_id) is None
    assert await manager.memory().load(session_id) == []
    assert await manager.memory().get_summary(session_id) is None
    assert await manager.checkpointer().list(CheckpointConfig(session_id)) == []
    assert await store.list_namespaces() == []


async def test_delete_session_leaves_other_sessions_alone(
    manager: SessionManager, store: Store
) -> None:
    for session_id in ["abc", "abcd"]:
        await store.put(("sessions",), session_id, {"id": session_id, "created_at": "x"})
        await manager.memory().append(session_id, Message.human(session_id))
        await manager.checkpointer().put(CheckpointConfig(session_id), Checkpoint(session_id))
    await manager.delete_session("abc")
    assert [info.id for info in await manager.list_sessions()] == ["abcd"]
    assert [m.content for m in await manager.memory().load("abcd")] == ["abcd"]
    assert len(await manager.checkpointer().list(CheckpointConfig("abcd"))) == 1


async def test_delete_session_is_idempotent(manager: SessionManager) -> None:
    session_id = await manager.create_session()
    await manager.delete_session(session_id)
    await manager.delete_session(session_id)
    await manager.delete_session("never-existed")
    assert await manager.list_sessions() == []


async def test_an_interrupted_delete_is_finished_by_running_it_again(
    manager: SessionManager, store: Store
) -> None:
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("hi"))
    await store.delete_namespace(("memory", session_id))  # the first step of a delete, then a crash
    assert await manager.get_session(session_id) is not None  # metadata goes last
    await manager.delete_session(session_id)
    assert await store.list_namespaces() == []


async def test_the_manager_exposes_the_very_store_it_was_given(store: Store) -> None:
    manager = SessionManager(store)
    assert manager.store is store
    assert manager.memory().store is store
    assert manager.checkpointer().store is store
    assert manager.memory() is manager.memory()


# -- ChatMessageHistory -------------------------------------------------------------------


async def test_load_of_a_session_without_messages_is_empty(manager: SessionManager) -> None:
    assert await manager.memory().load("quiet") == []


async def test_appended_messages_load_in_order(manager: SessionManager) -> None:
    memory = manager.memory()
    await memory.append("s", Message.human("What is Rust?"))
    await memory.append("s", Message.ai("A systems programming language."))
    loaded = await memory.load("s")
    assert [(m.role, m.content) for m in loaded] == [
        ("human", "What is Rust?"), ("assistant", "A systems programming language."),
    ]


async def test_messages_are_stored_as_a_wire_format_array(store: Store) -> None:
    memory = ChatMessageHistory(store)
    await memory.append("s", Message.tool("42", tool_call_id="call_1", id="m1"))
    item = await store.get(("memory", "s"), "messages")
    assert item is not None
    assert item.value == [{"role": "tool", "content": "42", "tool_call_id": "call_1", "id": "m1"}]


async def test_append_many_stores_a_batch_in_order(manager: SessionManager) -> None:
    memory = manager.memory()
    await memory.append("s", Message.system("be brief"))
    await memory.append_many("s", [Message.human("a"), Message.ai("b"), Message.human("c")])
    assert [m.content for m in await memory.load("s")] == ["be brief", "a", "b", "c"]


async def test_append_gives_a_message_without_id_an_id(manager: SessionManager) -> None:
    message = Message.human("hi")
    await manager.memory().append("s", message)
    assert message.id is not None
    assert (await manager.memory().load("s"))[0].id == message.id


async def test_appending_the_same_message_again_stores_it_once(manager: SessionManager) -> None:
    memory = manager.memory()
    message = Message.human("retried")
    await memory.append("s", message)
    await memory.append("s", message)
    await memory.append_many("s", [message, Message.ai("new")])
    assert [m.content for m in await memory.load("s")] == ["retried", "new"]


async def test_a_remove_marker_is_not_mistaken_for_the_message_it_removes(
    manager: SessionManager,
) -> None:
    memory = manager.memory()
    await memory.append("s", Message.human("oops", id="m1"))
    await memory.append("s", Message.remove("m1"))
    assert [m.role for m in await memory.load("s")] == ["human", "remove"]


async def test_concurrent_appends_through_four_stores_all_land(
    store_factory: StoreFactory,
) -> None:
    histories = [ChatMessageHistory(await store_factory()) for _ in range(4)]
    messages = [Message.human(f"m{i}") for i in range(24)]
    await asyncio.gather(
        *(histories[i % 4].append("busy", message) for i, message in enumerate(messages))
    )
    loaded = await histories[0].load("busy")
    assert sorted(m.content for m in loaded if m.content) == sorted(f"m{i}" for i in range(24))
    assert len(loaded) == 24


async def test_an_append_with_a_stale_cache_retries_and_loses_nothing(
    store_factory: StoreFactory,
) -> None:
    first = ChatMessageHistory(await store_factory())
    second = ChatMessageHistory(await store_factory())
    await first.append("s", Message.human("1"))  # first now caches version 1
    await second.append("s", Message.human("2"))  # second moves the object on
    await first.append("s", Message.human("3"))  # first's cached version is stale
    assert [m.content for m in await second.load("s")] == ["1", "2", "3"]
    assert first.conflicts == 1


async def test_clear_removes_messages_and_summary(manager: SessionManager) -> None:
    memory = manager.memory()
    await memory.append("s", Message.human("hi"))
    await memory.set_summary("s", "a greeting")
    await memory.clear("s")
    assert await memory.load("s") == []
    assert await memory.get_summary("s") is None


async def test_appending_after_clear_starts_a_new_history(manager: SessionManager) -> None:
    memory = manager.memory()
    await memory.append("s", Message.human("old"))
    await memory.clear("s")
    await memory.append("s", Message.human("new"))
    assert [m.content for m in await memory.load("s")] == ["new"]


async def test_a_summary_never_set_is_none(manager: SessionManager) -> None:
    assert await manager.memory().get_summary("s") is None


async def test_set_summary_replaces_the_summary(manager: SessionManager, store: Store) -> None:
    memory = manager.memory()
    await memory.set_summary("s", "first")
    await memory.set_summary("s", "second")
    assert await memory.get_summary("s") == "second"
    item = await store.get(("memory", "s"), "summary")
    assert item is not None
    assert item.value == "second"


async def test_messages_that_are_not_an_array_are_corrupt(
    manager: SessionManager, store: Store
) -> None:
    await store.put(("memory", "s"), "messages", {"not": "a list"})
    with pytest.raises(CorruptDataError, match="messages"):
        await manager.memory().load("s")


async def test_a_stored_message_of_unknown_role_is_corrupt(
    manager: SessionManager, store: Store
) -> None:
    await store.put(("memory", "s"), "messages", [{"role": "wizard", "content": "x"}])
    with pytest.raises(CorruptDataError, match="wizard"):
        await manager.memory().load("s")


async def test_a_summary_that_is_not_a_string_is_corrupt(
    manager: SessionManager, store: Store
) -> None:
    await store.put(("memory", "s"), "summary", 42)
    with pytest.raises(CorruptDataError, match="summary"):
        await manager.memory().get_summary("s")


# -- StoreCheckpointer --------------------------------------------------------------------


async def test_a_checkpoint_is_read_back_by_id(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    checkpoint = Checkpoint({"messages": []}, next_node="agent", metadata={"step": 1})
    await checkpointer.put(CheckpointConfig("t"), checkpoint)
    loaded = await checkpointer.get(CheckpointConfig("t", checkpoint.id))
    assert loaded == checkpoint


async def test_a_checkpoint_is_stored_as_wire_format_json(store: Store) -> None:
    checkpoint = Checkpoint({"x": 1}, id="18a1b2c3d4e5f6a7-0001", parent_id=None)
    await StoreCheckpointer(store).put(CheckpointConfig("t"), checkpoint)
    item = await store.get(("checkpoints", "t"), "18a1b2c3d4e5f6a7-0001")
    assert item is not None
    assert item.value == {"id": "18a1b2c3d4e5f6a7-0001", "state": {"x": 1}, "next_node": None,
                          "parent_id": None, "metadata": {}}


async def test_get_without_an_id_returns_the_latest(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    for step in range(5):
        await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": step}))
    latest = await checkpointer.get(CheckpointConfig("t"))
    assert latest is not None
    assert latest.state == {"step": 4}


async def test_latest_of_a_thread_without_checkpoints_is_none(store: Store) -> None:
    assert await StoreCheckpointer(store).get(CheckpointConfig("empty")) is None


async def test_a_missing_checkpoint_id_is_none(store: Store) -> None:
    assert await StoreCheckpointer(store).get(CheckpointConfig("t", "nope")) is None


async def test_latest_is_found_for_an_old_thread(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    for ns in [1_600_000_000 * 10**9, 1_600_000_001 * 10**9]:  # September 2020
        await checkpointer.put(CheckpointConfig("t"), Checkpoint(ns, id=f"{ns:016x}-0000"))
    latest = await checkpointer.get(CheckpointConfig("t"))
    assert latest is not None
    assert latest.state == 1_600_000_001 * 10**9


async def test_latest_is_the_greatest_id_also_for_foreign_ids(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    for checkpoint_id in ["step-1", "step-3", "step-2"]:
        await checkpointer.put(CheckpointConfig("t"), Checkpoint(checkpoint_id, id=checkpoint_id))
    latest = await checkpointer.get(CheckpointConfig("t"))
    assert latest is not None
    assert latest.id == "step-3"


async def _put_concurrently(checkpointer: StoreCheckpointer, thread_id: str,
                            checkpoints: list[Checkpoint]) -> None:
    semaphore = asyncio.Semaphore(32)

    async def put(checkpoint: Checkpoint) -> None:
        async with semaphore:
            await checkpointer.put(CheckpointConfig(thread_id), checkpoint)

    await asyncio.gather(*(put(c) for c in checkpoints))


async def test_latest_is_right_past_a_thousand_checkpoints(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    checkpoints = [Checkpoint({"step": step}) for step in range(1001)]
    await _put_concurrently(checkpointer, "long", checkpoints)
    latest = await checkpointer.get(CheckpointConfig("long"))
    assert latest is not None
    assert latest.state == {"step": 1000}
    keys = [key async for key in store.iter_keys(("checkpoints", "long"))]
    assert keys == [c.id for c in checkpoints]
    # Another process (a cold checkpointer) finds it too: its search reads the hint.
    found = await StoreCheckpointer(store).get(CheckpointConfig("long"))
    assert found is not None
    assert found.state == {"step": 1000}


async def test_a_remembered_latest_deleted_elsewhere_is_not_returned(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    config = CheckpointConfig("t")
    for step in range(3):
        await checkpointer.put(config, Checkpoint({"step": step}))
    newest = await checkpointer.get(config)
    assert newest is not None
    await store.delete(("checkpoints", "t"), newest.id)  # another process's prune, say
    latest = await checkpointer.get(config)
    assert latest is not None
    assert latest.state == {"step": 1}


async def test_a_remembered_thread_deleted_elsewhere_has_no_latest(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": 0}))
    await store.delete_namespace(("checkpoints", "t"))
    assert await checkpointer.get(CheckpointConfig("t")) is None


async def test_checkpoints_written_elsewhere_after_the_remembered_one_are_found(
    store: Store,
) -> None:
    mine, theirs = StoreCheckpointer(store), StoreCheckpointer(store)
    config = CheckpointConfig("t")
    await mine.put(config, Checkpoint({"step": 0}))
    for step in range(1, 4):
        await theirs.put(config, Checkpoint({"step": step}))
    latest = await mine.get(config)
    assert latest is not None
    assert latest.state == {"step": 3}


async def test_list_returns_checkpoints_oldest_first(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    for step in range(3):
        await checkpointer.put(CheckpointConfig("t"), Checkpoint({"step": step}))
    assert [c.state for c in await checkpointer.list(CheckpointConfig("t"))] == [
        {"step": 0}, {"step": 1}, {"step": 2},
    ]


async def test_a_stored_checkpoint_of_the_wrong_shape_is_corrupt(store: Store) -> None:
    await store.put(("checkpoints", "t"), "c1", {"no": "state"})
    with pytest.raises(CorruptDataError, match="c1"):
        await StoreCheckpointer(store).get(CheckpointConfig("t", "c1"))


# -- checkpoint ids and writers' clocks --------------------------------------------------


async def test_a_checkpoint_after_a_parent_from_a_fast_clock_is_the_latest(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    config = CheckpointConfig(thread_id="clock")
    ahead = Checkpoint({"step": 1}, id=f"{time.time_ns() + 2 * 3600 * 10**9:016x}-0000")
    await checkpointer.put(config, ahead)
    child = Checkpoint({"step": 2}, parent_id=ahead.id)
    await checkpointer.put(config, child)
    latest = await checkpointer.get(config)
    assert latest is not None
    assert latest.state == {"step": 2}


async def test_a_generated_id_moves_past_every_id_this_process_saw(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    config = CheckpointConfig(thread_id="clock")
    ahead = Checkpoint({"step": 1}, id=f"{time.time_ns() + 2 * 3600 * 10**9:016x}-0000")
    await StoreCheckpointer(store).put(config, ahead)  # another writer, clock ahead
    assert (await checkpointer.get(config)) is not None  # this process sees it
    mine = Checkpoint({"step": 2})  # no parent given
    await checkpointer.put(config, mine)
    assert mine.id > ahead.id
    latest = await checkpointer.get(config)
    assert latest is not None
    assert latest.state == {"step": 2}


HINTED = 3
"""``hint_every`` for the hint's tests: a hint after 3 puts costs what 100 would not."""


async def _hinted_thread(store: Store, thread_id: str) -> list[Checkpoint]:
    """A thread with exactly ``HINTED`` checkpoints: its hint has just been written."""
    checkpointer = StoreCheckpointer(store, hint_every=HINTED)
    checkpoints = [Checkpoint({"step": step}) for step in range(HINTED)]
    for checkpoint in checkpoints:
        await checkpointer.put(CheckpointConfig(thread_id), checkpoint)
    hint = await store.get(("memory", thread_id), "latest_checkpoint")
    assert hint is not None
    assert hint.value == {"checkpoint_id": checkpoints[-1].id}
    return checkpoints


async def test_the_hint_is_not_listed_as_a_checkpoint(store: Store) -> None:
    checkpoints = await _hinted_thread(store, "t")
    checkpointer = StoreCheckpointer(store)
    listed = await checkpointer.list(CheckpointConfig("t"))
    page = await checkpointer.list_page(CheckpointConfig("t"), limit=HINTED + 1)
    assert [c.id for c in listed] == [c.id for c in checkpoints]
    assert [c.id for c in page.checkpoints] == [c.id for c in checkpoints]
    assert page.next_after is None


async def test_deleting_a_session_deletes_its_checkpoint_hint(store: Store) -> None:
    manager = SessionManager(store)
    session_id = await manager.create_session()
    await _hinted_thread(store, session_id)
    await manager.delete_session(session_id)
    assert [entry async for page in store.iter_entries(("checkpoints", session_id))
            for entry in page] == []


async def test_pruning_every_checkpoint_deletes_the_hint(store: Store) -> None:
    await _hinted_thread(store, "t")
    deleted = await StoreCheckpointer(store).prune(CheckpointConfig("t"), keep_last=0)
    assert deleted == HINTED
    assert [entry async for page in store.iter_entries(("checkpoints", "t"))
            for entry in page] == []


async def test_pruning_to_the_newest_keeps_a_hint_naming_a_kept_checkpoint(store: Store) -> None:
    checkpoints = await _hinted_thread(store, "t")
    await StoreCheckpointer(store).prune(CheckpointConfig("t"), keep_last=1)
    hint = await store.get(("memory", "t"), "latest_checkpoint")
    assert hint is not None
    assert hint.value == {"checkpoint_id": checkpoints[-1].id}


async def test_a_checkpoint_id_given_by_the_caller_is_kept(store: Store) -> None:
    checkpointer = StoreCheckpointer(store)
    config = CheckpointConfig(thread_id="clock")
    await checkpointer.put(config, Checkpoint({"n": 1}, id="ffff0000000000000-0000"))
    mine = Checkpoint({"n": 2}, id="0000000000000001-0000")
    await checkpointer.put(config, mine)
    assert mine.id == "0000000000000001-0000"


async def test_a_page_ending_at_the_newest_checkpoint_is_the_last_despite_the_hint(
    store: Store,
) -> None:
    checkpoints = await _hinted_thread(store, "t")
    page = await StoreCheckpointer(store).list_page(CheckpointConfig("t"), limit=HINTED)
    assert [c.id for c in page.checkpoints] == [c.id for c in checkpoints]
    assert page.next_after is None


async def test_a_fork_starts_without_the_source_s_checkpoint_hint(store: Store) -> None:
    """docs/checkpoints.md: the fork's checkpoints are copied, the hint is not (a fork
    copies named objects; its own writer writes its hint)."""
    manager = SessionManager(store)
    session_id = await manager.create_session()
    checkpoints = await _hinted_thread(store, session_id)
    forked = await manager.fork_session(session_id)
    copied = await StoreCheckpointer(store).list(CheckpointConfig(forked))
    assert [c.id for c in copied] == [c.id for c in checkpoints]
    assert await store.get(("memory", forked), "latest_checkpoint") is None
