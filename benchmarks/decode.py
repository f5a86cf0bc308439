"""Restore and append CPU against the raw work on the same bytes, in one process.

    .venv/bin/python -m benchmarks.decode [--sizes 100,1000,10000,50000] [--repeat 9]

For histories of mixed messages (human, assistant with tool calls and usage, tool,
system; ~200 characters of text each) kept in an in-process store with the default
segmented layout (1 MiB segments), it measures, as medians of ``--repeat`` runs with
the collector left on as in production:

* ``load`` of the whole history by a new ``ChatMessageHistory`` (no cache), against
  the raw reference: the same objects read with ``Store.get_raw`` and parsed with
  ``json.loads`` (the bytes a bare S3 GET returns); and, for the record, the previous
  read path (``json.loads`` then ``Message.from_dict`` per message); the floor of
  any API returning ``Message`` objects (:mod:`benchmarks.message_floor`); and
  ``page_json`` of the whole history (what the HTTP service sends: every message
  checked, then encoded again, no object built);
* the CPU time (``time.process_time``) of appending one message to a history this
  instance knows (warm) and to one it does not (cold: it reads the tail first), and of
  encoding the whole history once with ``json.dumps``, to show an append costs what it
  touches, not what the session holds.

No network: the store is in memory, so the ratios isolate the CPU this library adds
to the I/O (against S3, the GETs' latency is added to both sides).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.message_floor import floor_objects
from synaptic_s3 import ChatMessageHistory, InMemoryStore, Message
from synaptic_s3.core.store import Store

SESSION = "0193a6f2-6a1b-7c3d-9e4f-123456789abc"
TEXT = ("The quick brown fox jumps over the lazy dog while the agent keeps its notes "
        "short and to the point, as an LLM turn of about two hundred characters would.")


def mixed(index: int) -> Message:
    """The index-th message of a typical agent conversation."""
    kind = index % 4
    content = f"#{index}: {TEXT}"
    if kind == 0:
        return Message.human(content)
    if kind == 1:
        return Message.ai(content, tool_calls=[{"id": f"call-{index}", "name": "search",
                                                "arguments": {"query": content[:40]}}],
                          usage_metadata={"input_tokens": 120, "output_tokens": 40,
                                          "total_tokens": 160},
                          response_metadata={"model": "example-1", "finish": "tool_calls"})
    if kind == 2:
        return Message.tool(content, tool_call_id=f"call-{index - 1}")
    return Message.ai(content)


async def fill(store: Store, count: int) -> None:
    history = ChatMessageHistory(store)
    batch = 1000
    for low in range(0, count, batch):
        await history.append_many(SESSION, [mixed(i) for i in range(low, min(count, low + batch))])


async def stored_objects(store: Store) -> list[tuple[tuple[str, ...], str]]:
    """Every object the history is made of: the segments, then the tail."""
    segments = ("memory", SESSION, "segments")
    keys = [(segments, key) async for key in store.iter_keys(segments)]
    return [*keys, (("memory", SESSION), "messages")]


async def timed(action: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Median CPU time in ms (in-process, no I/O: the CPU is the whole cost, and it is
    less disturbed than wall time by the other work of a shared machine)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        await action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


async def load_row(count: int, repeat: int) -> dict[str, Any]:
    store = InMemoryStore()
    await fill(store, count)
    objects = await stored_objects(store)

    async def raw() -> list[Any]:
        values: list[Any] = []
        for namespace, key in objects:
            item = await store.get_raw(namespace, key)
            assert item is not None
            values.extend(json.loads(item.body))
        return values

    async def previous() -> list[Message]:
        return [Message.from_dict(m) for m in await raw()]

    async def floor() -> list[Message]:
        return floor_objects(await raw())

    async def passed_through() -> list[str]:
        return (await ChatMessageHistory(store).page_json(SESSION, limit=count)).items

    async def ours() -> list[Message]:
        return await ChatMessageHistory(store).load(SESSION)

    assert len(await ours()) == count
    raw_ms = await timed(raw, repeat)
    ours_ms = await timed(ours, repeat)
    previous_ms = await timed(previous, repeat)
    floor_ms = await timed(floor, repeat)
    json_ms = await timed(passed_through, repeat)
    raw_ms = min(raw_ms, await timed(raw, repeat))  # the reference at its best, both sides
    return {"messages": count, "objects": len(objects), "raw_ms": raw_ms, "load_ms": ours_ms,
            "previous_ms": previous_ms, "ratio": ours_ms / raw_ms,
            "floor_ratio": floor_ms / raw_ms, "json_ratio": json_ms / raw_ms,
            "previous_ratio": previous_ms / raw_ms}


def cpu(action: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Median CPU time in ms of ``action`` (each run on a fresh event loop turn)."""
    loop = asyncio.get_event_loop()
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        loop.run_until_complete(action())
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def append_row(count: int, repeat: int) -> dict[str, Any]:
    loop = asyncio.get_event_loop()
    store = InMemoryStore()
    loop.run_until_complete(fill(store, count))
    warm = ChatMessageHistory(store)
    loop.run_until_complete(warm.count(SESSION))  # now it knows the tail
    serial = iter(range(count, count + 10 * repeat))

    async def warm_append() -> None:
        await warm.append(SESSION, mixed(next(serial)))

    async def cold_append() -> None:
        await ChatMessageHistory(store).append(SESSION, mixed(next(serial)))

    everything = loop.run_until_complete(ChatMessageHistory(store).load(SESSION))
    dicts = [m.to_dict() for m in everything]

    async def encode_all() -> None:
        json.dumps(dicts, ensure_ascii=False, separators=(",", ":"))

    return {"messages": count, "warm_ms": cpu(warm_append, repeat),
            "cold_ms": cpu(cold_append, repeat), "encode_all_ms": cpu(encode_all, repeat)}


def report(loads: list[dict[str, Any]], appends: list[dict[str, Any]]) -> str:
    lines = ["| messages | objects | raw GET + json.loads | load | ratio | floor (objects, no "
             "check) | page_json (checked, re-encoded, no objects) | previous path | ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['messages']:,} | {r['objects']} | {r['raw_ms']:.2f} ms | {r['load_ms']:.2f} ms"
              f" | **{r['ratio']:.2f}x** | {r['floor_ratio']:.2f}x | **{r['json_ratio']:.2f}x**"
              f" | {r['previous_ms']:.2f} ms"
              f" | {r['previous_ratio']:.2f}x |" for r in loads]
    lines += ["", "| messages | warm append (CPU) | cold append (CPU) | json.dumps of the whole "
              "history |", "|---:|---:|---:|---:|"]
    lines += [f"| {r['messages']:,} | {r['warm_ms']:.2f} ms | {r['cold_ms']:.2f} ms"
              f" | {r['encode_all_ms']:.2f} ms |" for r in appends]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000,50000")
    parser.add_argument("--append-sizes", default="1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    append_sizes = [int(s) for s in args.append_sizes.split(",") if s]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loads = [loop.run_until_complete(load_row(n, args.repeat)) for n in sizes]
    appends = [append_row(n, args.repeat) for n in append_sizes]
    print(report(loads, appends))


if __name__ == "__main__":
    main()
