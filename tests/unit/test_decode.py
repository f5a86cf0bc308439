"""The fast message decoder agrees with the pydantic reference on every input: it
accepts exactly what ``Message.from_dict`` accepts, builds an equal object (fields,
fields set, extras, dump), and raises the same error with the same words otherwise."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synaptic_s3.core.decode import build, build_all, loads
from synaptic_s3.core.errors import CorruptDataError, InvalidDataError
from synaptic_s3.core.messages import ROLES, Message

MISSING = object()

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(
    allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6,
)
# Values that are sometimes right and often wrong for a field.
wrongish = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.lists(
    st.integers(), max_size=2) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
strings = st.text(max_size=10)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field value: usually the right kind, sometimes missing, sometimes wrong."""
    return st.one_of(st.just(MISSING), strategy, strategy, wrongish)


def objects(fields: dict[str, st.SearchStrategy[Any]],
            extra_keys: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build_object(draw: st.DrawFn) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, strategy in fields.items():
            value = draw(maybe(strategy))
            if value is not MISSING:
                data[name] = value
        for key, value in draw(st.dictionaries(extra_keys, json_values, max_size=2)).items():
            data.setdefault(key, value)
        keys = list(data)
        order = draw(st.permutations(keys))
        return {key: data[key] for key in order}

    return build_object()


extra_keys = st.sampled_from(["x", "_private", "model_config", "extra_field", "role2"]) | st.text(
    max_size=6)
tool_calls = objects({"id": strings, "name": strings, "arguments": json_values}, extra_keys)
usage = objects({
    "input_tokens": st.integers(), "output_tokens": st.integers(), "total_tokens": st.integers(),
    "input_details": st.dictionaries(strings, json_values, max_size=2),
    "output_details": st.dictionaries(strings, json_values, max_size=2),
}, extra_keys)
blocks = objects({
    "type": st.sampled_from(["text", "image", "audio", "video", "file", "data", "reasoning",
                             "bogus"]),
    "text": strings, "url": strings, "detail": strings, "mime_type": strings,
    "content": strings, "data": json_values,
}, extra_keys)
invalid_calls = objects({"id": strings, "name": strings, "arguments": strings,
                         "error": strings}, extra_keys)
messages = objects({
    "role": st.sampled_from([*ROLES, "bogus", "Human"]),
    "content": strings,
    "id": strings,
    "name": strings,
    "additional_kwargs": st.dictionaries(strings, json_values, max_size=2),
    "response_metadata": st.dictionaries(strings, json_values, max_size=2),
    "content_blocks": st.lists(blocks, max_size=2),
    "tool_calls": st.lists(tool_calls | wrongish, max_size=3),
    "usage_metadata": usage,
    "invalid_tool_calls": st.lists(invalid_calls, max_size=2),
    "tool_call_id": strings,
    "custom_role": strings,
}, extra_keys)
anything = messages | json_values


def outcome(parse: Any, data: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(data)
    except InvalidDataError as exc:
        return "error", str(exc)


def assert_same_model(fast: Any, reference: Any) -> None:
    assert type(fast) is type(reference)
    assert fast == reference
    assert fast.model_fields_set == reference.model_fields_set
    assert fast.model_extra == reference.model_extra
    assert fast.model_dump() == reference.model_dump()
    assert list(fast.__dict__) == list(reference.__dict__)
    for name in type(reference).model_fields:
        mine, theirs = getattr(fast, name), getattr(reference, name)
        if isinstance(theirs, list):
            assert len(mine) == len(theirs)
            for a, b in zip(mine, theirs, strict=True):
                if hasattr(b, "model_fields_set"):
                    assert_same_model(a, b)
        elif hasattr(theirs, "model_fields_set"):
            assert_same_model(mine, theirs)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(anything)
def test_fast_build_agrees_with_from_dict(data: Any) -> None:
    reference = outcome(Message.from_dict, copy.deepcopy(data))
    fast = outcome(build, data)
    assert fast[0] == reference[0], (fast, reference)
    if reference[0] == "error":
        assert fast[1] == reference[1]
        return
    assert_same_model(fast[1], reference[1])
    assert fast[1].to_dict() == reference[1].to_dict()
    assert fast[1].to_json() == reference[1].to_json()


@settings(max_examples=300, deadline=None)
@given(st.lists(messages, max_size=6))
def test_build_all_agrees_with_from_dict_per_item(items: list[Any]) -> None:
    reference: list[Message] | str
    try:
        reference = [Message.from_dict(copy.deepcopy(item)) for item in items]
    except InvalidDataError as exc:
        reference = str(exc)
    if isinstance(reference, str):
        with pytest.raises(InvalidDataError) as raised:
            build_all(items)
        assert str(raised.value) == reference
    else:
        assert build_all(items) == reference


def test_built_message_does_not_share_mutable_fields_with_the_raw_dict() -> None:
    """As with pydantic, which copies dict fields: a caller mutating a loaded message
    never changes the raw dict (which the history's cache keeps and writes back)."""
    raw = {"role": "human", "content": "hi", "additional_kwargs": {"a": 1},
           "response_metadata": {"b": 2}}
    message = build(raw)
    message.additional_kwargs["c"] = 3
    message.response_metadata.clear()
    assert raw == {"role": "human", "content": "hi", "additional_kwargs": {"a": 1},
                   "response_metadata": {"b": 2}}


def test_built_message_is_a_working_model() -> None:
    message = build({"role": "assistant", "content": "x", "tool_calls": [
        {"id": "c1", "name": "f", "arguments": {"q": 1}, "extra": True}], "custom": [1]})
    message.content = "changed"
    assert message.to_dict() == {"role": "assistant", "content": "changed", "custom": [1],
                                 "tool_calls": [{"id": "c1", "name": "f", "arguments": {"q": 1},
                                                 "extra": True}]}
    assert message.model_copy(update={"id": "m"}).id == "m"
    assert Message.model_validate(message.model_dump()) == message


json_documents = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8,
)


def same_json(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_json(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=500, deadline=None)
@given(json_documents, st.booleans())
def test_loads_reads_what_json_loads_reads(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(body)
    except ValueError:
        with pytest.raises(CorruptDataError):
            loads(body, ("memory", "s"), "messages")
        return
    assert same_json(loads(body, ("memory", "s"), "messages"), expected)


@pytest.mark.parametrize("body", [
    b"", b"[", b"[1,]", b"\xff", b'{"a":1}x', b"[" * 100_000 + b"]" * 100_000,
])
def test_loads_reports_corrupt_json_as_the_store_does(body: bytes) -> None:
    from synaptic_s3.core.store import decode_value

    with pytest.raises(CorruptDataError) as reference:
        decode_value(body, ("memory", "s"), "messages")
    with pytest.raises(CorruptDataError) as fast:
        loads(body, ("memory", "s"), "messages")
    assert str(fast.value) == str(reference.value)


@pytest.mark.parametrize("body", [
    b"[NaN, Infinity, -Infinity]", b'["\\ud800"]', b"[123456789012345678901234567890]",
    b"[-9223372036854775809, 18446744073709551616]", b"[1e400]", b'{"a": 1, "a": 2}',
])
def test_loads_accepts_what_json_loads_accepts(body: bytes) -> None:
    assert same_json(loads(body, ("memory", "s"), "messages"), json.loads(body))


# -- the history's read path: a malformed stored message is named by its position ----------


@pytest.mark.parametrize(("segment_bytes", "bad"), [(None, 2), (400, 1), (400, 7)])
async def test_load_names_the_position_of_a_malformed_message(segment_bytes: int | None,
                                                              bad: int) -> None:
    from synaptic_s3 import ChatMessageHistory, InMemoryStore

    store = InMemoryStore()
    history = ChatMessageHistory(store, segment_bytes=segment_bytes)
    for index in range(9):
        await history.append("s", Message.human(f"message number {index} " + "x" * 40))
    # Corrupt the stored copy of message `bad` wherever it lives (tail or a segment).
    objects = [(("memory", "s", "segments"), key)
               async for key in store.iter_keys(("memory", "s", "segments"))]
    position = 0
    for namespace, key in [*objects, (("memory", "s"), "messages")]:
        item = await store.get(namespace, key)
        assert item is not None
        start = position
        position += len(item.value)
        if start <= bad < position:
            value = item.value
            value[bad - start]["tool_calls"] = [{"id": 1, "name": "f"}]
            await store.put(namespace, key, value)
    assert position == 9
    assert bool(objects) == (segment_bytes is not None)  # the 400-byte cases have segments
    with pytest.raises(CorruptDataError, match=f"message {bad} is invalid: invalid message: "
                                                "tool_calls.0.id: Input should be a valid string"):
        await ChatMessageHistory(store, segment_bytes=segment_bytes).load("s")


async def test_load_keeps_unknown_fields_and_omits_empties() -> None:
    from synaptic_s3 import ChatMessageHistory, InMemoryStore

    store = InMemoryStore()
    stored = [{"role": "human", "content": "hi", "id": "a", "future_field": {"x": 1}},
              {"role": "assistant", "content": "", "id": "b", "tool_calls": [],
               "additional_kwargs": {}}]
    await store.put(("memory", "s"), "messages", stored)
    loaded = await ChatMessageHistory(store).load("s")
    assert [m.to_dict() for m in loaded] == [
        {"role": "human", "content": "hi", "id": "a", "future_field": {"x": 1}},
        {"role": "assistant", "content": "", "id": "b"}]
    assert loaded == [Message.from_dict(m) for m in stored]
