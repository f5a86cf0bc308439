"""Fast reading of stored message arrays: bytes to :class:`Message` objects at about the
cost of ``json.loads`` alone, with exactly the strictness of :meth:`Message.from_dict`.

Why: restoring a long history spent most of its time in per-message pydantic
validation (5.7x a bare ``json.loads`` of the same bytes at 10,000 messages), not in
I/O. The work is split in two steps that are each cheap:

1. :func:`loads` parses the bytes with ``msgspec`` (C, faster than ``json.loads``),
   falling back to ``json.loads`` for anything msgspec refuses or might read
   differently, so the values are the ones the standard library would give.
2. :func:`build` checks one decoded object against the wire format's rules with plain
   type tests and builds the ``Message`` directly (no pydantic validation run). It
   *accepts* only what ``Message.from_dict`` accepts, building an equal object; for
   anything else it hands the object to ``Message.from_dict``, so every error (and
   every rare shape this fast path does not know, e.g. content blocks) is reported
   by the one reference implementation, word for word. ``tests/unit/test_decode.py``
   checks the agreement property-based.

Built objects are indistinguishable from validated ones: same fields, same
``model_fields_set``, unknown fields kept in ``model_extra``, and mutable field values
copied as pydantic copies them (the raw dicts stay untouched, so a cache of them is
safe from callers mutating what they loaded).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Sequence
from typing import Any

import msgspec
from pydantic import ValidationError

from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.messages import (
    ROLES,
    ContentBlock,
    InvalidToolCall,
    Message,
    ToolCall,
    UsageMetadata,
)
from synaptic_s3.core.store import decode_value

__all__ = ["build", "build_all", "encode_each", "loads"]

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_new = object.__new__
_set = object.__setattr__
_ROLES = frozenset(ROLES)
_SCALARS = frozenset({"role", "content", "id", "name", "tool_call_id", "custom_role"})


class _Fallback(Exception):
    """The fast path does not vouch for this object: let pydantic decide."""


def loads(body: bytes, namespace: Namespace, key: str) -> Any:
    """Parse a stored object's bytes exactly as :meth:`Store.get` does (same values,
    same :class:`CorruptDataError`), only faster.

    msgspec does the work; whatever it refuses (invalid JSON, ``NaN``, lone
    surrogates, integers past 64 bits, deep nesting) goes to the store's own
    ``json.loads``-based decoder, which then accepts it the same way or raises."""
    try:
        return _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return decode_value(body, namespace, key)


def encode_each(items: Sequence[Any]) -> list[str]:
    """Each decoded value as compact JSON text (UTF-8 kept as is), the values
    unchanged: msgspec's encoder, or ``json.dumps`` for what it refuses (integers past
    64 bits, lone surrogates)."""
    out: list[str] = []
    append = out.append
    encode = _encoder.encode
    for value in items:
        try:
            append(encode(value).decode())
        except (TypeError, ValueError, OverflowError, UnicodeError):
            append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return out


def build(data: Any) -> Message:
    """``Message.from_dict(data)``, built without running pydantic when ``data`` is
    a message in a shape the fast path knows; same result, same errors."""
    try:
        return _build(data)
    except _Fallback:
        return Message.from_dict(data)


def build_all(items: Sequence[Any]) -> list[Message]:
    """:func:`build` of each item (raises on the first invalid one, from ``from_dict``).

    The cyclic garbage collector is paused meanwhile, as msgspec pauses it while it
    decodes: every object made here is kept, so the collections a burst of ~10
    containers per message would trigger (measured: half the cost of building
    10,000 messages) would find nothing to free."""
    out: list[Message] = []
    append = out.append
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        for data in items:
            try:
                append(_build(data))
            except _Fallback:
                append(Message.from_dict(data))
    finally:
        if paused:
            gc.enable()
    return out


def _dict(value: Any) -> dict[str, Any]:
    if type(value) is dict:
        return dict(value)
    raise _Fallback


def _model(cls: type[Any], fields: dict[str, Any], given: set[str],
           extra: dict[str, Any]) -> Any:
    obj = _new(cls)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", given)
    _set(obj, "__pydantic_extra__", extra)
    _set(obj, "__pydantic_private__", None)
    return obj


def _extra_key(key: str) -> str:
    # pydantic treats names starting with "_" specially; leave those to it.
    if key[:1] == "_":
        raise _Fallback
    return key


def _tool_call(data: Any) -> ToolCall:
    if type(data) is not dict:
        raise _Fallback
    ident, name = data.get("id"), data.get("name")
    if type(ident) is not str or type(name) is not str:
        raise _Fallback
    fields = {"id": ident, "name": name, "arguments": data.get("arguments", {})}
    given = {"id", "name"}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key == "arguments":
            given.add(key)
        elif key != "id" and key != "name":
            extra[_extra_key(key)] = value
    result: ToolCall = _model(ToolCall, fields, given, extra)
    return result


def _usage(data: Any) -> UsageMetadata | None:
    if data is None:
        return None
    if type(data) is not dict:
        raise _Fallback
    fields: dict[str, Any] = {}
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        value = data.get(key)
        if type(value) is not int:
            raise _Fallback
        fields[key] = value
    given = {"input_tokens", "output_tokens", "total_tokens"}
    extra: dict[str, Any] = {}
    for key in ("input_details", "output_details"):
        value = data.get(key)
        if value is not None:
            value = _dict(value)
        if key in data:
            given.add(key)
        fields[key] = value
    for key, value in data.items():
        if key not in fields:
            extra[_extra_key(key)] = value
    result: UsageMetadata = _model(UsageMetadata, fields, given, extra)
    return result


def _list(value: Any) -> list[Any]:
    if type(value) is list:
        return value
    raise _Fallback


def _build(data: Any) -> Message:
    if type(data) is not dict:
        raise _Fallback
    get = data.get
    role, content, ident = get("role"), get("content"), get("id")
    name, tool_call_id, custom_role = get("name"), get("tool_call_id"), get("custom_role")
    if type(role) is not str or role not in _ROLES:
        raise _Fallback
    for value in (content, ident, name, tool_call_id, custom_role):
        if value is not None and type(value) is not str:
            raise _Fallback
    # The rules of Message._check_required.
    if role == "remove":
        if ident is None:
            raise _Fallback
    elif (content is None or (role == "tool" and tool_call_id is None)
          or (role == "chat" and custom_role is None)):
        raise _Fallback
    fields: dict[str, Any] = {
        "role": role, "content": content, "id": ident, "name": name,
        "additional_kwargs": {}, "response_metadata": {}, "content_blocks": [],
        "tool_calls": [], "usage_metadata": None, "invalid_tool_calls": [],
        "tool_call_id": tool_call_id, "custom_role": custom_role,
    }
    keys = data.keys()
    if keys <= _SCALARS:  # the common message: nothing nested, nothing unknown
        simple: Message = _model(Message, fields, set(keys), {})
        return simple
    given: set[str] = set()
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            extra[_extra_key(key)] = value
            continue
        given.add(key)
        if key == "additional_kwargs" or key == "response_metadata":
            fields[key] = _dict(value)
        elif key == "tool_calls":
            fields[key] = [_tool_call(call) for call in _list(value)]
        elif key == "usage_metadata":
            fields[key] = _usage(value)
        elif key == "content_blocks":
            fields[key] = _validated(ContentBlock, _list(value))
        elif key == "invalid_tool_calls":
            fields[key] = _validated(InvalidToolCall, _list(value))
    result: Message = _model(Message, fields, given, extra)
    return result


def _validated(cls: type[ContentBlock] | type[InvalidToolCall], items: list[Any]) -> list[Any]:
    """Rare sub-models (content blocks, invalid tool calls), validated by pydantic
    itself; any problem is left to ``from_dict`` to word."""
    try:
        return [cls.model_validate(item) for item in items]
    except ValidationError:
        raise _Fallback from None
