"""Names and bytes for the framework integrations: how foreign identifiers become keys.

Framework identifiers are not always valid key parts (:mod:`synaptic_s3.core.keys`):
LangGraph's checkpoint namespaces are ``""`` or ``"outer:<task>|inner:<task>"``,
store labels may hold ``/``, any of them may be long or hold control characters.
:func:`encode_label` maps every string to a valid part, injectively:

* a *plain* string is kept as it is, so the bucket stays readable; plain means
  ``[A-Za-z0-9_.-]`` (the characters S3 calls safe), no leading ``.`` and no
  ``.json`` ending, or, with ``keep_valid=True``, any valid key part: thread ids
  must stay equal to session ids so that ``SessionManager.delete_session`` finds
  them; neither kind starts with ``!``;
* anything else is escaped: ``!`` followed by the string with every character
  outside ``[A-Za-z0-9_-]`` written as ``!XX`` per UTF-8 byte (``"child:1"`` ->
  ``"!child!3A1"``, ``""`` -> ``"!"``), which :func:`decode_label` reverses;
* an escaped form longer than the limit becomes ``!.`` + the SHA-256 of the string.
  That is still injective but not reversible from the key: every object written
  by the integrations also stores its original identifiers, and readers take
  them from there (:func:`decode_label` returns ``None``).

Plain strings never start with ``!``, escaped ones always do and never hold a
``.``, digests always start with ``!.``: the three forms cannot collide.

Checkpoint ids are time-ordered UUID strings and "latest" is the greatest one, but
S3 lists keys in ascending order only. :func:`descending_key` complements every hex
digit (``0`` <-> ``f``), which reverses the order of equal-width ids: the first key
of a listing is the newest checkpoint, found with one request however long the
history. Bytes from a framework serializer are kept in JSON as base64
(:func:`pack_typed`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from synaptic_s3.core.errors import CorruptDataError, InvalidDataError, InvalidKeyError
from synaptic_s3.core.keys import MAX_NAME_BYTES, validate_namespace

ESCAPE = "!"
DIGEST_PREFIX = "!."
_PLAIN_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
_BODY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPE_RE = re.compile(r"!([0-9A-F]{2})")
_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COMPLEMENT = str.maketrans("0123456789abcdef", "fedcba9876543210")


def _is_valid_part(value: str) -> bool:
    try:
        validate_namespace((value,))
    except InvalidKeyError:
        return False
    return True


def _is_plain(value: str, keep_valid: bool, max_bytes: int) -> bool:
    if value.startswith(ESCAPE) or len(value.encode("utf-8", "surrogatepass")) > max_bytes:
        return False
    if keep_valid:
        return _is_valid_part(value)
    return _PLAIN_RE.fullmatch(value) is not None and not value.endswith(".json")


def encode_label(value: str, *, keep_valid: bool = False, max_bytes: int = MAX_NAME_BYTES) -> str:
    """A valid key part (or key) standing for ``value``, distinct for distinct values.

    ``max_bytes`` leaves room for callers that append to the label (write keys).
    """
    if not isinstance(value, str):
        raise InvalidKeyError(f"a label must be a string, not {type(value).__name__}")
    if _is_plain(value, keep_valid, max_bytes):
        return value
    body = "".join(
        char if char in _BODY_SAFE
        else "".join(f"!{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in value
    )
    escaped = ESCAPE + body
    if len(escaped) <= max_bytes:
        return escaped
    return DIGEST_PREFIX + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def decode_label(label: str) -> str | None:
    """The string :func:`encode_label` was given, or ``None`` when the label is a
    digest (or not something it produces): then read the original from the object."""
    if not label.startswith(ESCAPE):
        return label
    if label.startswith(DIGEST_PREFIX):
        return None
    body = label[len(ESCAPE):]
    out = bytearray()
    position = 0
    while position < len(body):
        if body[position] == ESCAPE:
            match = _ESCAPE_RE.match(body, position)
            if match is None:
                return None
            out.append(int(match.group(1), 16))
            position = match.end()
        elif body[position] in _BODY_SAFE:
            out.append(ord(body[position]))
            position += 1
        else:
            return None
    try:
        return out.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


def is_uuid(value: object) -> bool:
    """Whether ``value`` is a canonical (lowercase, hyphenated) UUID string."""
    return isinstance(value, str) and _UUID_RE.fullmatch(value) is not None


def descending_key(checkpoint_id: str) -> str:
    """The key of a checkpoint id: ascending key order is descending id order."""
    if not is_uuid(checkpoint_id):
        raise InvalidDataError(
            f"checkpoint id {checkpoint_id!r} is not a lowercase UUID string "
            "(LangGraph generates UUIDv6 ids; only those keep their order as keys)"
        )
    return checkpoint_id.translate(_COMPLEMENT)


def id_from_descending_key(key: str) -> str | None:
    """Inverse of :func:`descending_key`; ``None`` for keys it never produces."""
    return key.translate(_COMPLEMENT) if is_uuid(key) else None


def pack_typed(tag: str, data: bytes) -> dict[str, str]:
    """A serializer's ``(type, bytes)`` pair as a JSON object."""
    return {"type": tag, "data": base64.b64encode(data).decode("ascii")}


def unpack_typed(value: Any, namespace: Sequence[str], key: str) -> tuple[str, bytes]:
    """Inverse of :func:`pack_typed`; anything else is corrupt data at ``namespace/key``."""
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("type"), str)
        or not isinstance(value.get("data"), str)
    ):
        raise CorruptDataError("expected a {type, data} object", namespace=namespace, key=key)
    try:
        data = base64.b64decode(value["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CorruptDataError(f"data is not base64: {exc}", namespace=namespace,
                               key=key) from exc
    return value["type"], data
