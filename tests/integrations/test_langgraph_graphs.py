"""Real LangGraph graphs on S3 (moto over HTTP): invoke, ainvoke, a thread resumed
by a NEW process, and a human-in-the-loop interrupt answered from another process."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langgraph.graph")

from langgraph.types import Command

from synaptic_s3 import S3Store
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.langgraph_checkpoint import SynapticSaver
from synaptic_s3.testing import Endpoint

from .conftest import BUCKET, endpoint_env, open_s3_store, run_script
from .graph_app import chat_graph, review_graph

pytestmark = pytest.mark.s3


def thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def test_invoke_keeps_a_conversation_on_s3(s3_endpoint: Endpoint, s3_prefix: str) -> None:
    store = open_s3_store(s3_endpoint, s3_prefix)
    try:
        graph = chat_graph(SynapticSaver(store))
        graph.invoke({"log": ["user: hello"]}, thread("sync"))
        final = graph.invoke({"log": ["user: again"]}, thread("sync"))
    finally:
        run_sync(store.close())
    assert final["log"] == [
        "user: hello", "bot: heard 1 message(s), last 'hello'",
        "user: again", "bot: heard 2 message(s), last 'again'",
    ]


async def test_ainvoke_keeps_a_conversation_on_s3(s3_store: S3Store) -> None:
    graph = chat_graph(SynapticSaver(s3_store))
    await graph.ainvoke({"log": ["user: hello"]}, thread("async"))
    final = await graph.ainvoke({"log": ["user: again"]}, thread("async"))
    assert final["log"][-1] == "bot: heard 2 message(s), last 'again'"
    history = [t async for t in SynapticSaver(s3_store).alist(thread("async"))]
    assert [t.metadata["step"] for t in history] == [4, 3, 2, 1, 0, -1]


@pytest.mark.slow
async def test_a_new_process_resumes_the_thread(
    s3_store: S3Store, s3_endpoint: Endpoint, s3_prefix: str
) -> None:
    await chat_graph(SynapticSaver(s3_store)).ainvoke({"log": ["user: first"]}, thread("t1"))
    state = run_script("graph_app.py", s3_endpoint.url, BUCKET, s3_prefix, "t1", "chat",
                       "second", env=endpoint_env(s3_endpoint))
    assert state["log"] == [
        "user: first", "bot: heard 1 message(s), last 'first'",
        "user: second", "bot: heard 2 message(s), last 'second'",
    ]
    assert state["checkpoints"] == 6
    snapshot = await chat_graph(SynapticSaver(s3_store)).aget_state(thread("t1"))
    assert snapshot.values["log"] == state["log"]


@pytest.mark.slow
async def test_an_interrupt_is_answered_from_another_process(
    s3_store: S3Store, s3_endpoint: Endpoint, s3_prefix: str
) -> None:
    graph = review_graph(SynapticSaver(s3_store))
    paused = await graph.ainvoke({"log": ["user: write a post"]}, thread("hitl"))
    assert paused["__interrupt__"][0].value == {"question": "publish the draft?"}
    assert (await graph.aget_state(thread("hitl"))).next == ("review",)

    state = run_script("graph_app.py", s3_endpoint.url, BUCKET, s3_prefix, "hitl", "review",
                       "yes", env=endpoint_env(s3_endpoint))
    assert state["next"] == []
    assert state["log"] == ["user: write a post", "draft written", "reviewer said yes"]


async def test_an_interrupt_is_answered_in_process(s3_store: S3Store) -> None:
    graph = review_graph(SynapticSaver(s3_store))
    await graph.ainvoke({"log": ["user: go"]}, thread("local"))
    done = await graph.ainvoke(Command(resume="no"), thread("local"))
    assert done["log"][-1] == "reviewer said no"
    assert "__interrupt__" not in done
