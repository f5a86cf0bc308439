"""A C-speed acceptance check of decoded wire-format messages.

Why: deciding that a stored message is valid cost more than parsing its bytes when
every field was type-tested in Python. These ``msgspec`` types spell out the same
rules as :class:`~synaptic_s3.core.messages.Message` (tagged by ``role``, strict
strings and integers, ``content`` required but for ``remove``, ``tool_call_id`` for
``tool``, ``custom_role`` for ``chat``, content blocks tagged by ``type`` with their
required string fields) so that :func:`accepts` can vouch for a whole page of messages
in one call into C.

The check only ever *accepts*: it is exactly as strict as the reference or stricter
(msgspec refuses, for example, integers past 64 bits, which pydantic takes). Whatever
it refuses goes to :meth:`Message.from_dict`, which has the final word and the error
message, so a refusal here costs speed, never correctness.
``tests/unit/test_decode.py`` checks property-based that everything accepted here is
accepted by the reference. Unknown fields are allowed everywhere (the wire format keeps
them), so the types below ignore them; the values are never taken from these objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

__all__ = ["accepts"]


# -- content blocks, tagged by "type" ----------------------------------------------------

class _Block(msgspec.Struct, tag_field="type", kw_only=True, gc=False):
    pass


class _Text(_Block, tag="text"):
    text: str


class _Image(_Block, tag="image"):
    url: str
    detail: str | None = None


class _Audio(_Block, tag="audio"):
    url: str


class _Video(_Block, tag="video"):
    url: str


class _File(_Block, tag="file"):
    url: str
    mime_type: str | None = None


class _Data(_Block, tag="data"):
    data: Any


class _Reasoning(_Block, tag="reasoning"):
    content: str


_AnyBlock = _Text | _Image | _Audio | _Video | _File | _Data | _Reasoning


# -- nested models -----------------------------------------------------------------------

class _ToolCall(msgspec.Struct, kw_only=True, gc=False):
    id: str
    name: str
    arguments: Any = None


class _InvalidToolCall(msgspec.Struct, kw_only=True, gc=False):
    id: str | None = None
    name: str | None = None
    arguments: str | None = None
    error: str


class _Usage(msgspec.Struct, kw_only=True, gc=False):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_details: dict[str, Any] | None = None
    output_details: dict[str, Any] | None = None


# -- messages, tagged by "role" ------------------------------------------------------------

class _Message(msgspec.Struct, tag_field="role", kw_only=True, gc=False):
    # Containers may be missing but never null, as in the reference; UNSET (a
    # singleton) stands for missing, so nothing is allocated for an absent field.
    id: str | None = None
    name: str | None = None
    additional_kwargs: dict[str, Any] | UnsetType = UNSET
    response_metadata: dict[str, Any] | UnsetType = UNSET
    content_blocks: list[_AnyBlock] | UnsetType = UNSET
    tool_calls: list[_ToolCall] | UnsetType = UNSET
    usage_metadata: _Usage | None = None
    invalid_tool_calls: list[_InvalidToolCall] | UnsetType = UNSET
    tool_call_id: str | None = None
    custom_role: str | None = None


class _System(_Message, tag="system"):
    content: str


class _Human(_Message, tag="human"):
    content: str


class _Assistant(_Message, tag="assistant"):
    content: str


class _Tool(_Message, tag="tool"):
    content: str
    tool_call_id: str  # required for this role


class _Chat(_Message, tag="chat"):
    content: str
    custom_role: str  # required for this role


class _Remove(_Message, tag="remove"):
    content: str | None = None
    id: str  # the message it removes


_MESSAGES = list[_System | _Human | _Assistant | _Tool | _Chat | _Remove]


def accepts(items: Sequence[Any]) -> bool:
    """Whether every item is certainly a valid message (``False``: ask the reference):
    one ``msgspec.convert`` over the decoded objects."""
    try:
        msgspec.convert(items, _MESSAGES)
    except msgspec.ValidationError:
        return False
    return True
