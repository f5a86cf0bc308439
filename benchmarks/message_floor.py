"""The floor of any read API that returns pydantic ``Message`` objects: building them
from decoded JSON with no check at all (``object.__new__`` and the field values, the
way :mod:`synaptic_s3.core.decode` builds them once a message is known to be valid).

``load`` cannot cost less than reading the bytes plus this; the benchmarks report it
next to ``load`` so the part that validation adds, and the part no validation can
remove, are both visible.
"""

from __future__ import annotations

import gc
from typing import Any

from synaptic_s3.core.messages import Message, ToolCall, UsageMetadata

_new = object.__new__
_set = object.__setattr__


def _model(cls: type[Any], fields: dict[str, Any]) -> Any:
    obj = _new(cls)
    _set(obj, "__dict__", fields)
    _set(obj, "__pydantic_fields_set__", set(fields))
    _set(obj, "__pydantic_extra__", {})
    _set(obj, "__pydantic_private__", None)
    return obj


_DEFAULTS = dict.fromkeys(Message.model_fields)


def floor_objects(values: list[dict[str, Any]]) -> list[Message]:
    """Message objects with no check: the least any eager pydantic API must do."""
    out = []
    paused = gc.isenabled()
    gc.disable()
    try:
        for data in values:
            fields = _DEFAULTS.copy()
            fields.update(data)
            fields["additional_kwargs"] = dict(data.get("additional_kwargs", ()))
            fields["response_metadata"] = dict(data.get("response_metadata", ()))
            fields["content_blocks"] = []
            fields["invalid_tool_calls"] = []
            fields["tool_calls"] = [_model(ToolCall, dict(call))
                                    for call in data.get("tool_calls", ())]
            usage = data.get("usage_metadata")
            if usage is not None:
                fields["usage_metadata"] = _model(UsageMetadata, dict(usage))
            out.append(_model(Message, fields))
    finally:
        if paused:
            gc.enable()
    return out
