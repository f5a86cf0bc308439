"""Messages speak the Rust synaptic wire format, as strictly as the Rust crate parses it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from synaptic_s3 import InvalidDataError, Message, ToolCall

WIRE_EXAMPLES = [
    {"role": "human", "content": "What is Rust?"},
    {"role": "assistant", "content": "",
     "tool_calls": [{"id": "call_1", "name": "search", "arguments": {"q": "rust"}}]},
    {"role": "tool", "content": "Rust is ...", "tool_call_id": "call_1"},
    {"role": "assistant", "content": "Rust is a systems programming language.",
     "usage_metadata": {"input_tokens": 12, "output_tokens": 9, "total_tokens": 21}},
    {"role": "system", "content": "be brief", "id": "m0", "name": "setup"},
    {"role": "chat", "content": "hello", "custom_role": "narrator"},
    {"role": "remove", "id": "m7"},
    {"role": "human", "content": "look", "content_blocks": [
        {"type": "text", "text": "a cat"}, {"type": "image", "url": "https://x/cat.png"}]},
    {"role": "assistant", "content": "x",
     "invalid_tool_calls": [{"name": "broken", "arguments": "{", "error": "bad json"}]},
]


@pytest.mark.parametrize("wire", WIRE_EXAMPLES)
def test_wire_format_round_trips_unchanged(wire: dict[str, Any]) -> None:
    assert Message.from_dict(wire).to_dict() == wire


@pytest.mark.parametrize("wire", WIRE_EXAMPLES)
def test_json_text_round_trips_unchanged(wire: dict[str, Any]) -> None:
    assert json.loads(Message.from_json(json.dumps(wire)).to_json()) == wire


def test_unknown_fields_are_kept_on_a_round_trip() -> None:
    wire = {"role": "human", "content": "hi", "x_trace": {"span": 7}}
    message = Message.from_dict(wire)
    assert message.to_dict() == wire


def test_constructors_set_the_wire_roles() -> None:
    assert [m.role for m in [Message.human("a"), Message.ai("b"), Message.system("c"),
                             Message.tool("d", "call"), Message.chat("e", "narrator"),
                             Message.remove("m1")]] == [
        "human", "assistant", "system", "tool", "chat", "remove"]


def test_ai_constructor_takes_tool_calls_as_objects_or_dicts() -> None:
    message = Message.ai("", tool_calls=[{"id": "c1", "name": "search", "arguments": {"q": 1}}])
    assert message.tool_calls == [ToolCall(id="c1", name="search", arguments={"q": 1})]
    assert message.tool_calls[0].arguments == {"q": 1}


def test_empty_optional_fields_are_omitted() -> None:
    assert Message.human("hi").to_dict() == {"role": "human", "content": "hi"}


def test_empty_content_is_still_written() -> None:
    assert Message.ai("").to_dict() == {"role": "assistant", "content": ""}


def test_every_role_has_the_common_attributes() -> None:
    message = Message.human("hi")
    assert (message.tool_calls, message.tool_call_id, message.additional_kwargs,
            message.response_metadata, message.name, message.id) == ([], None, {}, {}, None, None)


@pytest.mark.parametrize(
    ("wire", "complaint"),
    [
        ({"role": "wizard", "content": "x"}, "unknown role 'wizard'"),
        ({"content": "x"}, "needs a 'role'"),
        ({"role": "human"}, "needs a string 'content'"),
        ({"role": "human", "content": 42}, "content"),
        ({"role": "human", "content": None}, "needs a string 'content'"),
        ({"role": "tool", "content": "x"}, "tool_call_id"),
        ({"role": "chat", "content": "x"}, "custom_role"),
        ({"role": "remove"}, "'id'"),
        ({"role": "assistant", "content": "", "tool_calls": [{"id": "c"}]}, "name"),
        ({"role": "human", "content": "x", "content_blocks": [{"type": "hologram"}]},
         "hologram"),
        ({"role": "human", "content": "x", "content_blocks": [{"type": "text"}]}, "text"),
        ({"role": "assistant", "content": "x", "usage_metadata": {"input_tokens": "1"}},
         "input_tokens"),
        (["role", "human"], "JSON object"),
    ],
)
def test_invalid_messages_are_rejected_with_a_reason(wire: Any, complaint: str) -> None:
    with pytest.raises(InvalidDataError, match="invalid message") as raised:
        Message.from_dict(wire)
    assert complaint in str(raised.value)


def test_invalid_json_text_is_rejected() -> None:
    with pytest.raises(InvalidDataError):
        Message.from_json("{not json")
