"""Sessions the console tests look at: tool calls, a hostile one, a long one, checkpoints."""

from __future__ import annotations

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, SessionManager

TOOLS_ID = "0195a1b2-c3d4-7e5f-8a6b-0c1d2e3f4a5b"
HOSTILE_ID = "<img src=x onerror=alert(1)> \"q\"?#&%20 ü"
LONG_ID = "019593e6-5260-7e5f-8a6b-00000000a450"
LONG_COUNT = 450
SCRIPT = "<script>window.__pwned = 1; alert('xss')</script>"
IMG = "<img src=x onerror=\"window.__pwned = 2\">"
CHECKPOINT_IDS = ("182d7291f0eae400-0000", "182d7292563ed500-0001", "182d7292bb92c600-0002")
HOSTILE_CHECKPOINT = "182d7294095bfe00-0009"


async def seed(manager: SessionManager) -> None:
    memory = manager.memory()
    await manager.create_session(session_id=TOOLS_ID)
    await memory.append_many(TOOLS_ID, [
        Message.system("You are a travel assistant. Use the tools to check the weather "
                       "and book trains.", id="m-system"),
        Message.human("Is it sunny in Lisbon tomorrow? If so, book me a train from Porto.",
                      id="m-ask"),
        Message.ai("Let me check the forecast and the trains.", id="m-plan", tool_calls=[
            {"id": "call_weather", "name": "get_weather",
             "arguments": {"city": "Lisbon", "day": "tomorrow", "units": "metric"}},
            {"id": "call_trains", "name": "search_trains",
             "arguments": {"from": "Porto", "to": "Lisbon", "date": "2026-12-04",
                           "passengers": [{"type": "adult", "count": 1}]}},
        ]),
        Message.tool('{"forecast": "sunny", "high_c": 19, "low_c": 11}', "call_weather",
                     id="m-weather", name="get_weather"),
        Message.tool("\n".join(f"IC {500 + i}  departs {7 + i // 2:02d}:{(i * 25) % 60:02d}  "
                               f"arrives {10 + i // 2:02d}:{(i * 25 + 10) % 60:02d}  "
                               f"2nd class  €{24 + i}.90" for i in range(40)),
                     "call_trains", id="m-trains", name="search_trains"),
        Message.ai("Tomorrow is sunny in Lisbon (19 °C). The 07:00 IC 500 from Porto is "
                   "€24.90 — shall I book it?", id="m-answer"),
        Message.chat("Approved by the user's travel policy.", "policy-bot", id="m-policy"),
        Message.remove("m-obsolete"),
    ])
    await memory.set_summary(TOOLS_ID, "The user asked about Lisbon's weather and a train "
                             "from Porto; the assistant checked both tools.")
    checkpointer = manager.checkpointer()
    config = CheckpointConfig(thread_id=TOOLS_ID)
    states = [
        {"messages": ["ask"], "step": 1, "city": "Lisbon"},
        {"messages": ["ask", "plan"], "step": 2, "city": "Lisbon",
         "tools": {"pending": ["get_weather", "search_trains"]}},
        {"messages": ["ask", "plan", "weather", "trains"], "step": 3,
         "tools": {"pending": [], "done": ["get_weather", "search_trains"]},
         "forecast": {"sky": "sunny", "high_c": 19}},
    ]
    nodes = ["agent", "tools", "agent"]
    parent = None
    for checkpoint_id, state, node in zip(CHECKPOINT_IDS, states, nodes, strict=True):
        await checkpointer.put(config, Checkpoint(state, id=checkpoint_id, next_node=node,
                                                  parent_id=parent,
                                                  metadata={"source": "loop"}))
        parent = checkpoint_id

    await manager.create_session(session_id=HOSTILE_ID)
    await memory.append_many(HOSTILE_ID, [
        Message.human(SCRIPT, id=SCRIPT),
        Message.ai(IMG, id="m-img", name=IMG, tool_calls=[
            {"id": IMG, "name": SCRIPT, "arguments": {SCRIPT: IMG, "x": [IMG]}}]),
        Message.tool(IMG, IMG, id="m-tool"),
    ])
    await memory.set_summary(HOSTILE_ID, SCRIPT)
    await checkpointer.put(CheckpointConfig(thread_id=HOSTILE_ID),
                           Checkpoint({SCRIPT: IMG}, id=HOSTILE_CHECKPOINT,
                                      next_node=SCRIPT, parent_id=IMG))

    await manager.create_session(session_id=LONG_ID)
    await memory.append_many(LONG_ID, [
        (Message.human if i % 2 == 0 else Message.ai)(f"long message number {i}", id=f"n{i}")
        for i in range(LONG_COUNT)])
