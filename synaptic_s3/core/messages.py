"""Chat messages in the Rust ``synaptic`` wire format, so Rust and Python services
can share one bucket.

A message is one JSON object tagged by ``"role"`` (``system``, ``human``,
``assistant``, ``tool``, ``chat``, ``remove``); optional fields are omitted when
empty; fields this library does not know are kept on a round trip. Parsing is as
strict as the Rust crate's serde: ``content`` must be a string for every role but
``remove``, ``tool`` needs ``tool_call_id``, ``chat`` needs ``custom_role``, and
an unknown role is an error.

One class serves every role (the Rust enum's accessors ``tool_calls()`` and
``tool_call_id()`` work on any variant, and so do these attributes).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    StrictStr,
    ValidationError,
    model_serializer,
    model_validator,
)

from synaptic_s3.core.errors import InvalidDataError

Role = Literal["system", "human", "assistant", "tool", "chat", "remove"]
ROLES: tuple[str, ...] = ("system", "human", "assistant", "tool", "chat", "remove")


class _WireModel(BaseModel):
    """Keeps unknown fields and leaves out optional ones that are empty, as serde's
    ``skip_serializing_if`` does in the Rust crate."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    _omit_when_empty: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _drop_empty(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in self._omit_when_empty:
            if name in data and data[name] in (None, [], {}):
                del data[name]
        return data


class ToolCall(_WireModel):
    """A tool invocation requested by the model; ``arguments`` is any JSON value."""

    id: StrictStr
    name: StrictStr
    arguments: Any = Field(default_factory=dict)


class InvalidToolCall(_WireModel):
    """A tool call the model produced that could not be parsed."""

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset({"id", "name", "arguments"})
    id: StrictStr | None = None
    name: StrictStr | None = None
    arguments: StrictStr | None = None
    error: StrictStr


class UsageMetadata(_WireModel):
    """Token counts reported by the provider for one model response."""

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset({"input_details", "output_details"})
    input_tokens: StrictInt
    output_tokens: StrictInt
    total_tokens: StrictInt
    input_details: dict[str, Any] | None = None
    output_details: dict[str, Any] | None = None


_BLOCK_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required string fields, optional string fields)
    "text": (("text",), ()),
    "image": (("url",), ("detail",)),
    "audio": (("url",), ()),
    "video": (("url",), ()),
    "file": (("url",), ("mime_type",)),
    "data": ((), ()),
    "reasoning": (("content",), ()),
}


class ContentBlock(_WireModel):
    """A multimodal content part, tagged by ``type`` (text, image, audio, video,
    file, data, reasoning); its fields stay as given."""

    type: StrictStr

    @model_validator(mode="after")
    def _check_tag(self) -> Self:
        if self.type not in _BLOCK_FIELDS:
            raise ValueError(
                f"unknown content block type {self.type!r} "
                f"(expected one of {', '.join(_BLOCK_FIELDS)})"
            )
        required, optional = _BLOCK_FIELDS[self.type]
        extra = self.model_extra or {}
        for name in required:
            if not isinstance(extra.get(name), str):
                raise ValueError(f"content block {self.type!r} needs a string {name!r}")
        for name in optional:
            if name in extra and extra[name] is not None and not isinstance(extra[name], str):
                raise ValueError(f"content block field {name!r} must be a string")
        if self.type == "data" and "data" not in extra:
            raise ValueError("content block 'data' needs a 'data' field")
        return self


class Message(_WireModel):
    """One chat message of any role; build with :meth:`human`, :meth:`ai`,
    :meth:`system`, :meth:`tool`, :meth:`chat` or :meth:`remove`, parse with
    :meth:`from_dict` / :meth:`from_json`, write with :meth:`to_dict` / :meth:`to_json`.
    """

    _omit_when_empty: ClassVar[frozenset[str]] = frozenset({
        "content", "id", "name", "additional_kwargs", "response_metadata", "content_blocks",
        "tool_calls", "usage_metadata", "invalid_tool_calls", "tool_call_id", "custom_role",
    })

    role: Role
    content: StrictStr | None = None
    id: StrictStr | None = None
    name: StrictStr | None = None
    additional_kwargs: dict[str, Any] = Field(default_factory=dict)
    response_metadata: dict[str, Any] = Field(default_factory=dict)
    content_blocks: list[ContentBlock] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage_metadata: UsageMetadata | None = None
    invalid_tool_calls: list[InvalidToolCall] = Field(default_factory=list)
    tool_call_id: StrictStr | None = None
    custom_role: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _check_role(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError(f"a message is a JSON object, not {type(data).__name__}")
        role = data.get("role")
        if role is None:
            raise ValueError("a message needs a 'role'")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
        return data

    @model_validator(mode="after")
    def _check_required(self) -> Self:
        if self.role == "remove":
            if self.id is None:
                raise ValueError("a 'remove' message needs the 'id' of the message it removes")
            return self
        if self.content is None:
            raise ValueError(f"a {self.role!r} message needs a string 'content'")
        if self.role == "tool" and self.tool_call_id is None:
            raise ValueError("a 'tool' message needs a string 'tool_call_id'")
        if self.role == "chat" and self.custom_role is None:
            raise ValueError("a 'chat' message needs a string 'custom_role'")
        return self

    # -- constructors mirroring the Rust crate's Message::human(..) etc. ---------------

    @classmethod
    def human(cls, content: str, **fields: Any) -> Message:
        return cls(role="human", content=content, **fields)

    @classmethod
    def ai(
        cls, content: str, tool_calls: list[ToolCall] | list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> Message:
        calls = [ToolCall.model_validate(call) for call in tool_calls or []]
        return cls(role="assistant", content=content, tool_calls=calls, **fields)

    @classmethod
    def system(cls, content: str, **fields: Any) -> Message:
        return cls(role="system", content=content, **fields)

    @classmethod
    def tool(cls, content: str, tool_call_id: str, **fields: Any) -> Message:
        return cls(role="tool", content=content, tool_call_id=tool_call_id, **fields)

    @classmethod
    def chat(cls, content: str, custom_role: str, **fields: Any) -> Message:
        return cls(role="chat", content=content, custom_role=custom_role, **fields)

    @classmethod
    def remove(cls, id: str) -> Message:
        return cls(role="remove", id=id)

    # -- wire format -----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Message:
        """Parse one wire-format object; raise :class:`InvalidDataError` saying why not."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidDataError(f"invalid message: {_explain(exc)}") from exc

    @classmethod
    def from_json(cls, text: str | bytes) -> Message:
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise InvalidDataError(f"invalid message: {_explain(exc)}") from exc

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json")
        if self.role != "remove":
            data.setdefault("content", self.content or "")
        return data

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @property
    def is_remove(self) -> bool:
        return self.role == "remove"


def _explain(exc: ValidationError) -> str:
    """One line per problem, with the JSON path where it is: readable in a 400 reply."""
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)


def explain_validation_error(exc: ValidationError) -> str:
    """Public alias of the formatter, for callers validating other models."""
    return _explain(exc)
