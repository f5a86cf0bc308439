"""The C-speed acceptance check never vouches for a message the reference refuses,
and vouches for every shape this library and the Rust crate write (else the HTTP read
path would quietly fall back to the slow one)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synaptic_s3.core.decode import encode_each
from synaptic_s3.core.errors import InvalidDataError
from synaptic_s3.core.messages import Message
from synaptic_s3.core.wire_check import accepts
from tests.unit.test_decode import anything, json_values, messages


def reference_accepts(item: Any) -> bool:
    try:
        Message.from_dict(copy.deepcopy(item))
    except InvalidDataError:
        return False
    return True


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(anything)
def test_an_accepted_item_is_accepted_by_the_reference(item: Any) -> None:
    if accepts([item]):
        assert reference_accepts(item), item


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(messages, max_size=5))
def test_a_list_is_accepted_only_when_every_item_is(items: list[Any]) -> None:
    if accepts(items):
        assert all(reference_accepts(item) for item in items)


WRITTEN = [
    Message.human("hi"),
    Message.system("be brief", name="sys"),
    Message.ai("calling", tool_calls=[{"id": "c1", "name": "search", "arguments": {"q": 1}}],
               usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3,
                               "input_details": {"cache": 1}},
               response_metadata={"model": "m"}, additional_kwargs={"k": [1]}),
    Message.tool("result", tool_call_id="c1"),
    Message.chat("aside", custom_role="critic"),
    Message.remove("m-1"),
    Message.model_validate({"role": "assistant", "content": "",
                            "invalid_tool_calls": [{"error": "bad json", "arguments": "{"}],
                            "content_blocks": [
                                {"type": "text", "text": "t"},
                                {"type": "image", "url": "u", "detail": "high"},
                                {"type": "audio", "url": "u"}, {"type": "video", "url": "u"},
                                {"type": "file", "url": "u", "mime_type": "a/b"},
                                {"type": "data", "data": None},
                                {"type": "reasoning", "content": "r"}]}),
]


@pytest.mark.parametrize("message", WRITTEN, ids=lambda m: m.role)
def test_every_shape_this_library_writes_is_accepted(message: Message) -> None:
    assert accepts([message.to_dict()])


def test_unknown_fields_and_explicit_nulls_of_optional_strings_are_accepted() -> None:
    """What a Rust (serde) or other writer may store: fields it added, and null
    for an absent optional string."""
    assert accepts([{"role": "human", "content": "x", "name": None, "id": None,
                     "synaptic_s3_tail": {"epoch": "e"}, "future": [1, 2]}])


@pytest.mark.parametrize("item", [
    {"role": "human"},
    {"role": "human", "content": None},
    {"role": "tool", "content": "x"},
    {"role": "chat", "content": "x"},
    {"role": "remove"},
    {"role": "bogus", "content": "x"},
    {"role": "human", "content": "x", "tool_calls": None},
    {"role": "human", "content": "x", "additional_kwargs": None},
    {"role": "human", "content": "x", "usage_metadata": {"input_tokens": True,
                                                          "output_tokens": 1, "total_tokens": 1}},
    {"role": "human", "content": "x", "usage_metadata": {"input_tokens": 1.0,
                                                          "output_tokens": 1, "total_tokens": 1}},
    {"role": "human", "content": "x", "content_blocks": [{"type": "data"}]},
    {"role": "human", "content": "x", "content_blocks": [{"type": "text", "text": 1}]},
    {"role": "human", "content": 3},
    ["role", "human"],
], ids=repr)
def test_what_the_reference_refuses_is_not_accepted(item: Any) -> None:
    assert not reference_accepts(item)
    assert not accepts([item])


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=4))
def test_encoded_items_decode_to_the_same_values(values: list[Any]) -> None:
    encoded = encode_each(values)
    assert [json.loads(text) for text in encoded] == values


def test_values_msgspec_cannot_encode_fall_back_to_the_standard_library() -> None:
    values = [{"big": 2**70}, {"s": "\ud800"}, {"é": "ü"}]
    assert encode_each(values) == [
        json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in values]
