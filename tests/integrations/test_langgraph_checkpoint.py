"""SynapticSaver: LangGraph's own conformance suite on every backend (S3 over HTTP
included), the request cost of "latest", the session layout, safe loading."""

from __future__ import annotations

import dataclasses
import operator
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypedDict

import pytest

pytest.importorskip("langgraph.checkpoint.conformance")

from langgraph.channels import DeltaChannel
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph

from synaptic_s3 import InMemoryStore, SessionManager, Store
from synaptic_s3.checkpoint import Checkpoint, CheckpointConfig
from synaptic_s3.core.errors import CorruptDataError, InvalidDataError
from synaptic_s3.integrations.codec import descending_key, pack_typed
from synaptic_s3.integrations.langgraph_checkpoint import SynapticSaver

from .stores import CountingStore


def config(thread: str, ns: str = "", checkpoint_id: str | None = None) -> dict[str, Any]:
    configurable = {"thread_id": thread, "checkpoint_ns": ns}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


async def put_chain(saver: SynapticSaver, thread: str, count: int, ns: str = "") -> list[str]:
    """``count`` checkpoints, each the child of the previous; returns their ids."""
    ids: list[str] = []
    for step in range(count):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"step": step}
        checkpoint["channel_versions"] = {"step": step + 1}
        parent = config(thread, ns, ids[-1] if ids else None)
        await saver.aput(parent, checkpoint, {"source": "loop", "step": step}, {"step": step + 1})
        ids.append(checkpoint["id"])
    return ids


async def test_langgraph_conformance_suite_passes(backend_store: Store) -> None:
    """``langgraph-checkpoint-conformance``: every base capability and the three
    extensions (copy_thread, prune, delete_for_runs), on memory, files and S3 (moto
    over HTTP)."""

    @checkpointer_test(name=f"SynapticSaver[{type(backend_store).__name__}]")
    async def make() -> AsyncIterator[SynapticSaver]:
        yield SynapticSaver(backend_store)

    report = await validate(make)
    failures = [f for result in report.results.values() for f in result.failures]
    assert report.passed_all_base(), failures
    assert report.passed_all(), failures  # every extension we implement, too
    for extension in ("copy_thread", "prune", "delete_for_runs"):
        assert report.results[extension].detected, extension
        assert report.results[extension].tests_failed == 0, extension
        assert report.results[extension].tests_passed > 0, extension
    assert sum(r.tests_passed for r in report.results.values()) >= 60


async def test_latest_checkpoint_costs_one_listing_of_one_key() -> None:
    store = CountingStore(InMemoryStore())
    saver = SynapticSaver(store)
    ids = await put_chain(saver, "t", 40)
    store.reset()
    found = await saver.aget_tuple(config("t"))
    assert found is not None
    assert found.checkpoint["id"] == ids[-1]
    checkpoint_listings = [entry for entry in store.listings if entry[0][2] == "langgraph"]
    assert checkpoint_listings == [(("checkpoints", "t", "langgraph", "!"), None, 1)]
    assert store.calls["get"] == 1


async def test_list_before_starts_at_the_cursor() -> None:
    store = CountingStore(InMemoryStore())
    saver = SynapticSaver(store)
    ids = await put_chain(saver, "t", 30)
    store.reset()
    page = [t.checkpoint["id"] async for t in
            saver.alist(config("t"), before=config("t", checkpoint_id=ids[20]), limit=3)]
    assert page == [ids[19], ids[18], ids[17]]
    assert store.calls["get"] == 3  # nothing read beyond the page
    assert store.listings[0][1:] == (descending_key(ids[20]), 3)


async def test_history_is_newest_first_with_parents(s3_store: Store) -> None:
    saver = SynapticSaver(s3_store)
    ids = await put_chain(saver, "t", 5)
    listed = [t async for t in saver.alist(config("t"))]
    assert [t.checkpoint["id"] for t in listed] == ids[::-1]
    assert [t.parent_config["configurable"]["checkpoint_id"] if t.parent_config else None
            for t in listed] == [*ids[::-1][1:], None]
    assert next(t.checkpoint["channel_values"] for t in listed) == {"step": 4}


async def test_awkward_thread_ids_and_namespaces_round_trip(s3_store: Store) -> None:
    saver = SynapticSaver(s3_store)
    cases = [("user/42", ""), ("a b", "outer:1|inner:2"), ("!t", "x" * 300), ("é", "ns")]
    for thread, ns in cases:
        await put_chain(saver, thread, 2, ns)
    for thread, ns in cases:
        found = await saver.aget_tuple(config(thread, ns))
        assert found is not None
        assert found.config["configurable"]["thread_id"] == thread
        assert found.config["configurable"]["checkpoint_ns"] == ns
    everything = [t.config["configurable"] async for t in saver.alist(None)]
    assert sorted({(c["thread_id"], c["checkpoint_ns"]) for c in everything}) == sorted(cases)
    assert len(everything) == 8


async def test_listing_a_thread_without_namespace_covers_all_namespaces() -> None:
    saver = SynapticSaver(InMemoryStore())
    await put_chain(saver, "t", 2, "")
    await put_chain(saver, "t", 3, "child:1")
    listed = [t async for t in saver.alist({"configurable": {"thread_id": "t"}})]
    assert len(listed) == 5


async def test_delete_session_removes_the_threads_langgraph_data(s3_store: Store) -> None:
    manager = SessionManager(s3_store)
    session_id = await manager.create_session()
    saver = SynapticSaver(manager.store)
    ids = await put_chain(saver, session_id, 3)
    await saver.aput_writes(config(session_id, checkpoint_id=ids[-1]), [("x", 1)], "task-1")
    assert await s3_store.list_namespaces(("checkpoints", session_id))
    await manager.delete_session(session_id)
    assert await saver.aget_tuple(config(session_id)) is None
    assert await s3_store.list_namespaces(("checkpoints", session_id)) == []


async def test_delete_thread_keeps_the_sessions_own_checkpoints() -> None:
    store = InMemoryStore()
    manager = SessionManager(store)
    saver = SynapticSaver(store)
    await manager.checkpointer().put(CheckpointConfig("t"), Checkpoint({"native": True}))
    await put_chain(saver, "t", 2)
    await saver.adelete_thread("t")
    assert await saver.aget_tuple(config("t")) is None
    native = await manager.checkpointer().get(CheckpointConfig("t"))
    assert native is not None
    assert native.state == {"native": True}


async def test_pickled_values_are_refused_even_with_a_pickling_serializer() -> None:
    store = InMemoryStore()
    saver = SynapticSaver(store, serde=JsonPlusSerializer(pickle_fallback=True))
    [checkpoint_id] = await put_chain(saver, "t", 1)
    namespace, key = ("checkpoints", "t", "langgraph", "!"), descending_key(checkpoint_id)
    stored = await store.get(namespace, key)
    assert stored is not None
    tampered = {**stored.value, "checkpoint": pack_typed("pickle", b"cos\nsystem\n.")}
    await store.put(namespace, key, tampered)
    with pytest.raises(CorruptDataError, match="refusing to unpickle"):
        await saver.aget_tuple(config("t"))


async def test_copy_thread_forks_the_whole_history() -> None:
    saver = SynapticSaver(InMemoryStore())
    ids = await put_chain(saver, "source", 3)
    await saver.aput_writes(config("source", checkpoint_id=ids[-1]), [("x", 1)], "task")
    await saver.acopy_thread("source", "fork")
    forked = [t async for t in saver.alist(config("fork"))]
    assert [t.checkpoint["id"] for t in forked] == ids[::-1]
    assert forked[0].config["configurable"]["thread_id"] == "fork"
    assert forked[0].pending_writes == [("task", "x", 1)]


@dataclasses.dataclass
class Preferences:
    theme: str


async def test_unlisted_types_load_as_plain_data_and_listed_ones_as_objects() -> None:
    store = InMemoryStore()
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"prefs": Preferences("dark")}
    await SynapticSaver(store).aput(config("t"), checkpoint, {}, {})
    strict = await SynapticSaver(store).aget_tuple(config("t"))
    allowed = await SynapticSaver(store, allowed_types=[Preferences]).aget_tuple(config("t"))
    assert strict is not None
    assert allowed is not None
    assert strict.checkpoint["channel_values"]["prefs"] == {"theme": "dark"}
    assert allowed.checkpoint["channel_values"]["prefs"] == Preferences("dark")


async def test_configs_without_a_thread_are_refused() -> None:
    saver = SynapticSaver(InMemoryStore())
    with pytest.raises(InvalidDataError, match="thread_id"):
        await saver.aget_tuple({"configurable": {}})
    with pytest.raises(InvalidDataError, match="checkpoint_id"):
        await saver.aput_writes(config("t"), [("x", 1)], "task")


def test_sync_api_works_without_an_event_loop() -> None:
    saver = SynapticSaver(InMemoryStore())
    checkpoint = empty_checkpoint()
    stored = saver.put(config("t"), checkpoint, {"step": -1}, {})
    saver.put_writes(stored, [("x", 1)], "task")
    found = saver.get_tuple(config("t"))
    assert found is not None
    assert found.pending_writes == [("task", "x", 1)]
    assert [t.checkpoint["id"] for t in saver.list(config("t"))] == [checkpoint["id"]]
    saver.delete_thread("t")
    assert saver.get_tuple(config("t")) is None


async def test_sync_api_works_inside_a_running_event_loop() -> None:
    """As in a notebook cell: ``graph.invoke`` from a thread whose loop is running."""
    saver = SynapticSaver(InMemoryStore())
    saver.put(config("t"), empty_checkpoint(), {}, {})
    assert saver.get_tuple(config("t")) is not None


# -- prune and delete_for_runs keep DeltaChannel histories whole ------------------------------


class DeltaState(TypedDict):
    items: Annotated[list[Any], DeltaChannel(operator.add, snapshot_frequency=3)]


def _delta_graph(saver: SynapticSaver) -> Any:
    def step(state: DeltaState) -> dict[str, Any]:
        return {"items": [len(state["items"])]}

    builder = StateGraph(DeltaState)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_edge("step", END)
    return builder.compile(checkpointer=saver)


async def _run_delta_graph(saver: SynapticSaver, runs: int) -> tuple[Any, list[str]]:
    graph = _delta_graph(saver)
    run_ids = [str(uuid.uuid4()) for _ in range(runs)]
    for number, run_id in enumerate(run_ids):
        await graph.ainvoke({"items": [f"in{number}"]},
                           {**config("t"), "metadata": {"run_id": run_id}})
    return graph, run_ids


async def test_prune_keeps_the_ancestors_a_delta_channel_is_rebuilt_from(
    backend_store: Store,
) -> None:
    saver = SynapticSaver(backend_store)
    graph, _ = await _run_delta_graph(saver, 5)
    before = (await graph.aget_state(config("t"))).values
    latest = await saver.aget_tuple(config("t"))
    assert latest is not None
    assert latest.metadata.get("counters_since_delta_snapshot")  # not a snapshot point
    await saver.aprune(["t"])
    remaining = [t async for t in saver.alist(config("t"))]
    assert 1 < len(remaining) < 15  # the latest, and its ancestors back to a snapshot
    assert remaining[0].checkpoint["id"] == latest.checkpoint["id"]
    assert (await graph.aget_state(config("t"))).values == before


async def test_delete_for_runs_keeps_what_surviving_delta_state_is_rebuilt_from() -> None:
    saver = SynapticSaver(InMemoryStore())
    graph, run_ids = await _run_delta_graph(saver, 5)
    before = (await graph.aget_state(config("t"))).values
    counted = [t async for t in saver.alist(config("t"))]
    await saver.adelete_for_runs(run_ids[:3])
    remaining = [t async for t in saver.alist(config("t"))]
    assert len(remaining) < len(counted)
    assert {t.metadata.get("run_id") for t in remaining} & set(run_ids[:1]) == set()
    assert (await graph.aget_state(config("t"))).values == before


async def test_prune_keep_last_n_and_bad_strategies() -> None:
    saver = SynapticSaver(InMemoryStore())
    ids = await put_chain(saver, "t", 5)
    await saver.aprune(["t"], keep_last=3)
    assert [t.checkpoint["id"] async for t in saver.alist(config("t"))] == ids[:-4:-1]
    with pytest.raises(InvalidDataError, match="strategy"):
        await saver.aprune(["t"], strategy="keep_oldest")
    with pytest.raises(InvalidDataError, match="keep_last"):
        await saver.aprune(["t"], keep_last=-1)


async def test_prune_leaves_writes_of_checkpoints_newer_than_its_listing() -> None:
    store = InMemoryStore()
    saver = SynapticSaver(store)
    ids = await put_chain(saver, "t", 3)
    for checkpoint_id in ids:
        await saver.aput_writes(config("t", checkpoint_id=checkpoint_id), [("x", 1)], "task")
    await saver.aprune(["t"])
    writes = await store.list_namespaces(("checkpoints", "t", "langgraph-writes"))
    assert [ns[-1] for ns in writes] == [descending_key(ids[-1])]


def test_sync_prune_and_delete_for_runs() -> None:
    saver = SynapticSaver(InMemoryStore())
    first = saver.put(config("t"), empty_checkpoint(), {"run_id": "r1"}, {})
    saver.put(first, empty_checkpoint(), {"run_id": "r2"}, {})
    saver.delete_for_runs(["r2"])
    assert [t.metadata["run_id"] for t in saver.list(config("t"))] == ["r1"]
    saver.prune(["t"], strategy="delete")
    assert saver.get_tuple(config("t")) is None
