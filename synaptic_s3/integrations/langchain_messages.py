"""LangChain messages to and from the synaptic wire format, with nothing lost.

Every LangChain field that the wire format (:mod:`synaptic_s3.core.messages`, the Rust
crate's) has a place for goes there, so Rust services and the HTTP API read the
conversation as usual: ``HumanMessage`` -> ``human``, ``AIMessage`` -> ``assistant``
(``tool_calls``, ``invalid_tool_calls``, ``usage_metadata``), ``SystemMessage`` ->
``system``, ``ToolMessage`` -> ``tool``, ``ChatMessage`` -> ``chat`` (``custom_role``),
``RemoveMessage`` -> ``remove``; ``id``, ``name``, ``additional_kwargs`` and
``response_metadata`` keep their names.

What the wire format cannot say exactly is kept, verbatim, in one extra field
``"langchain"`` of the stored message (the wire format keeps unknown fields, so
other readers ignore it): a list ``content`` (the wire ``content`` then holds its text
parts, for readers that only want text), tool calls whose ``id`` is ``None``, invalid
tool calls whose ``error`` is ``None`` or that carry ``index``/``extras``, usage
details that are present but empty, a ``ToolMessage``'s ``status`` and ``artifact``,
and the ``FunctionMessage`` type. Reading prefers those originals, so
``from_wire(to_wire(m)) == m`` for every message LangChain can build (property-tested).

Chunk classes (``AIMessageChunk``...) are stored as their message class: a history
holds whole messages.
"""

from __future__ import annotations

from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from pydantic_core import PydanticSerializationError

from synaptic_s3.core.errors import InvalidDataError
from synaptic_s3.core.messages import InvalidToolCall, Message, Role, ToolCall, UsageMetadata

EXTRA = "langchain"
_INVALID_CALL_KEYS = frozenset({"type", "id", "name", "args", "error"})
_USAGE_KEYS = frozenset({"input_tokens", "output_tokens", "total_tokens",
                         "input_token_details", "output_token_details"})


def _text_of(content: list[Any]) -> str:
    """The text parts of a list content, for readers of the wire ``content``."""
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(
                block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


def _ai_fields(message: AIMessage, extra: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    calls = list(message.tool_calls)
    fields["tool_calls"] = [ToolCall(id=call["id"] or "", name=call["name"],
                                     arguments=call["args"]) for call in calls]
    if any(call["id"] is None for call in calls):
        extra["tool_calls"] = [dict(call) for call in calls]
    invalid = list(message.invalid_tool_calls)
    fields["invalid_tool_calls"] = [
        InvalidToolCall(id=call.get("id"), name=call.get("name"), arguments=call.get("args"),
                        error=call.get("error") or "")
        for call in invalid
    ]
    if any(call.get("error") is None or set(call) - _INVALID_CALL_KEYS for call in invalid):
        extra["invalid_tool_calls"] = [dict(call) for call in invalid]
    usage = message.usage_metadata
    if usage is not None:
        fields["usage_metadata"] = UsageMetadata(
            input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"],
            total_tokens=usage["total_tokens"],
            input_details=dict(usage.get("input_token_details") or {}) or None,
            output_details=dict(usage.get("output_token_details") or {}) or None,
        )
        if set(usage) - _USAGE_KEYS or usage.get("input_token_details") == {} or usage.get(
                "output_token_details") == {}:
            extra["usage_metadata"] = dict(usage)
    return fields


def to_wire(message: BaseMessage) -> Message:
    """The wire-format message for ``message``; :class:`InvalidDataError` for a
    message type the history cannot hold (a bare ``BaseMessage`` subclass of yours)."""
    if isinstance(message, RemoveMessage):
        if not message.id:
            raise InvalidDataError("a RemoveMessage needs the id of the message it removes")
        return Message.remove(message.id)
    extra: dict[str, Any] = {}
    content = message.content
    if isinstance(content, str):
        text = content
    else:
        text = _text_of(content)
        extra["content"] = list(content)
    fields: dict[str, Any] = {
        "id": message.id, "name": message.name,
        "additional_kwargs": dict(message.additional_kwargs),
        "response_metadata": dict(message.response_metadata),
    }
    role: Role
    if isinstance(message, HumanMessage):
        role = "human"
    elif isinstance(message, AIMessage):
        role = "assistant"
        fields.update(_ai_fields(message, extra))
    elif isinstance(message, SystemMessage):
        role = "system"
    elif isinstance(message, ToolMessage):
        role = "tool"
        fields["tool_call_id"] = message.tool_call_id
        extra["status"] = message.status
        if message.artifact is not None:
            extra["artifact"] = message.artifact
    elif isinstance(message, ChatMessage):
        role = "chat"
        fields["custom_role"] = message.role
    elif isinstance(message, FunctionMessage):
        role = "chat"
        fields["custom_role"] = "function"
        extra["type"] = "function"
    else:
        raise InvalidDataError(
            f"cannot store a LangChain {type(message).__name__} (type {message.type!r})")
    if extra:
        fields[EXTRA] = extra
    wire = Message(role=role, content=text, **fields)
    try:
        wire.to_dict()
    except PydanticSerializationError as exc:  # e.g. an object in additional_kwargs
        raise InvalidDataError(f"cannot store a LangChain {type(message).__name__}: "
                               f"a field is not JSON: {exc}") from exc
    return wire


def _usage(message: Message, extra: dict[str, Any]) -> dict[str, Any] | None:
    if "usage_metadata" in extra:
        return cast(dict[str, Any], extra["usage_metadata"])
    usage = message.usage_metadata
    if usage is None:
        return None
    out: dict[str, Any] = {"input_tokens": usage.input_tokens,
                           "output_tokens": usage.output_tokens,
                           "total_tokens": usage.total_tokens}
    if usage.input_details:
        out["input_token_details"] = usage.input_details
    if usage.output_details:
        out["output_token_details"] = usage.output_details
    return out


def from_wire(message: Message) -> BaseMessage:
    """The LangChain message for a wire-format message (any writer's)."""
    if message.role == "remove":
        return RemoveMessage(id=cast(str, message.id))
    found = (message.model_extra or {}).get(EXTRA)
    extra: dict[str, Any] = found if isinstance(found, dict) else {}
    common: dict[str, Any] = {
        "content": extra.get("content", message.content or ""),
        "id": message.id, "name": message.name,
        "additional_kwargs": dict(message.additional_kwargs),
        "response_metadata": dict(message.response_metadata),
    }
    if message.role == "human":
        return HumanMessage(**common)
    if message.role == "system":
        return SystemMessage(**common)
    if message.role == "assistant":
        calls = extra.get("tool_calls") or [
            {"name": call.name, "args": call.arguments, "id": call.id, "type": "tool_call"}
            for call in message.tool_calls]
        invalid = extra.get("invalid_tool_calls") or [
            {"name": call.name, "args": call.arguments, "id": call.id, "error": call.error,
             "type": "invalid_tool_call"} for call in message.invalid_tool_calls]
        return AIMessage(**common, tool_calls=calls, invalid_tool_calls=invalid,
                         usage_metadata=_usage(message, extra))
    if message.role == "tool":
        return ToolMessage(**common, tool_call_id=cast(str, message.tool_call_id),
                           status=extra.get("status", "success"),
                           artifact=extra.get("artifact"))
    if extra.get("type") == "function":
        return FunctionMessage(**common)
    return ChatMessage(**common, role=cast(str, message.custom_role))
