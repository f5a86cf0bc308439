"""Two small LangGraph graphs, and a command line to run them against S3 in a NEW
process: ``python graph_app.py <endpoint> <bucket> <prefix> <thread> chat <text>`` or
``... review <resume value>``. Prints the thread's state as JSON on the last line.

Everything here is synchronous (``graph.invoke``), so it also exercises the saver's
sync API on the bridge loop; the tests drive the async API in-process."""

from __future__ import annotations

import json
import operator
import sys
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from synaptic_s3 import S3Store
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.langgraph_checkpoint import SynapticSaver


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def reply(state: State) -> dict[str, Any]:
    said = [line for line in state["log"] if line.startswith("user: ")]
    return {"log": [f"bot: heard {len(said)} message(s), last {said[-1][6:]!r}"]}


def draft(state: State) -> dict[str, Any]:
    return {"log": ["draft written"]}


def review(state: State) -> dict[str, Any]:
    answer = interrupt({"question": "publish the draft?"})
    return {"log": [f"reviewer said {answer}"]}


def chat_graph(saver: SynapticSaver) -> Any:
    builder = StateGraph(State)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile(checkpointer=saver)


def review_graph(saver: SynapticSaver) -> Any:
    builder = StateGraph(State)
    builder.add_node("draft", draft)
    builder.add_node("review", review)
    builder.add_edge(START, "draft")
    builder.add_edge("draft", "review")
    builder.add_edge("review", END)
    return builder.compile(checkpointer=saver)


def main(endpoint: str, bucket: str, prefix: str, thread: str, kind: str, text: str) -> None:
    # Credentials come from the environment (AWS_ACCESS_KEY_ID...), as in production.
    store = S3Store(bucket, prefix=prefix, endpoint_url=endpoint, region_name="us-east-1")
    saver = SynapticSaver(store)
    config = {"configurable": {"thread_id": thread}}
    try:
        if kind == "chat":
            chat_graph(saver).invoke({"log": [f"user: {text}"]}, config)
            snapshot = chat_graph(saver).get_state(config)
        else:
            review_graph(saver).invoke(Command(resume=text), config)
            snapshot = review_graph(saver).get_state(config)
        history = len(list(saver.list(config)))
    finally:
        run_sync(store.close())
    print(json.dumps({"log": snapshot.values["log"], "next": list(snapshot.next),
                      "checkpoints": history}))


if __name__ == "__main__":
    main(*sys.argv[1:])
