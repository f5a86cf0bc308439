"""The one place that turns ``(namespace, key)`` into an object path, and back.

Every backend maps names through this module, so the rules are identical on
memory, files and S3, and a reader looking for "how does ``("memory", id)``
become ``memory/<id>/messages.json``" finds it here and nowhere else.

Rules (checked before any I/O):

* a namespace is a non-empty sequence of parts; parts and keys are non-empty strings
  of at most :data:`MAX_NAME_BYTES` UTF-8 bytes;
* no ``/`` or ``\\`` (they would cross into another namespace); no control
  characters, surrogates or Unicode non-characters (S3's XML requests cannot carry
  them); no leading ``.`` (covers ``.`` and ``..``, and reserves hidden names for
  the file store's temporary and lock files);
* a namespace part may not end in ``.json``: on a filesystem the directory
  ``a/x.json/`` would collide with the file of key ``x`` in namespace ``("a",)``.

Because no part contains ``/``, two different namespaces never share an object
prefix: the prefix of ``("a", "b")`` is ``a/b/`` and no other namespace's objects
start with it.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

from synaptic_s3.core.errors import InvalidKeyError

SUFFIX = ".json"
SEPARATOR = "/"
MAX_NAME_BYTES = 200
"""Longest part or key, in UTF-8 bytes: leaves room under NAME_MAX (255) for the
suffix and the file store's temporary names."""
MAX_DEPTH = 16
MAX_PATH_BYTES = 1000
"""S3 keys are at most 1,024 bytes; a little is left for a store prefix."""

Namespace = tuple[str, ...]


def _is_noncharacter(code: int) -> bool:
    """Unicode's 66 non-characters (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF): never meant
    for interchange, and not routable in URLs by the HTTP API."""
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _check_characters(name: str, what: str, namespace: Sequence[str] | None,
                      key: str | None) -> None:
    for ch in name:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or _is_noncharacter(ord(ch)):
            raise InvalidKeyError(
                f"{what} {name!r} contains a control, surrogate or non-character "
                f"U+{ord(ch):04X}",
                namespace=namespace, key=key,
            )


def _check_name(name: object, what: str, namespace: Sequence[str] | None, key: str | None) -> str:
    if not isinstance(name, str):
        raise InvalidKeyError(f"{what} must be a string, not {type(name).__name__}",
                              namespace=namespace, key=key)
    if not name:
        raise InvalidKeyError(f"{what} is empty", namespace=namespace, key=key)
    if name.startswith("."):
        raise InvalidKeyError(f"{what} {name!r} starts with '.'", namespace=namespace, key=key)
    if "/" in name or "\\" in name:
        raise InvalidKeyError(f"{what} {name!r} contains a path separator",
                              namespace=namespace, key=key)
    # Printable ASCII (every generated id) holds no control, surrogate or
    # non-character: skipping the per-character look-up halves a listing's key checks.
    if not (name.isascii() and name.isprintable()):
        _check_characters(name, what, namespace, key)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidKeyError(f"{what} is longer than {MAX_NAME_BYTES} bytes",
                              namespace=namespace, key=key)
    return name


def validate_namespace(namespace: Sequence[str], *, allow_empty: bool = False) -> Namespace:
    """Return ``namespace`` as a tuple, or raise :class:`InvalidKeyError`."""
    if isinstance(namespace, str) or not isinstance(namespace, Sequence):
        raise InvalidKeyError(
            f"a namespace is a sequence of strings, not {type(namespace).__name__}"
        )
    parts = tuple(namespace)
    if not parts and not allow_empty:
        raise InvalidKeyError("namespace is empty")
    if len(parts) > MAX_DEPTH:
        raise InvalidKeyError(f"namespace is deeper than {MAX_DEPTH}", namespace=parts)
    for part in parts:
        _check_name(part, "namespace part", parts, None)
        if part.endswith(SUFFIX):
            raise InvalidKeyError(f"namespace part {part!r} ends with {SUFFIX!r}",
                                  namespace=parts)
    return parts


def validate_key(namespace: Sequence[str], key: str) -> tuple[Namespace, str]:
    """Validate both halves of an address; return the namespace as a tuple."""
    parts = validate_namespace(namespace)
    _check_name(key, "key", parts, key if isinstance(key, str) else None)
    if len(object_path(parts, key).encode("utf-8")) > MAX_PATH_BYTES:
        raise InvalidKeyError(f"path is longer than {MAX_PATH_BYTES} bytes",
                              namespace=parts, key=key)
    return parts, key


def namespace_prefix(namespace: Sequence[str]) -> str:
    """``("memory", "abc")`` -> ``"memory/abc/"``: every object of the namespace and
    of its sub-namespaces starts with this, and nothing else does. ``()`` -> ``""``."""
    return "".join(part + SEPARATOR for part in namespace)


def object_path(namespace: Sequence[str], key: str) -> str:
    """``(("memory", "abc"), "messages")`` -> ``"memory/abc/messages.json"``."""
    return namespace_prefix(namespace) + key + SUFFIX


def path_order(key: str) -> str:
    """Sort key for listings: keys come back in the order of their object paths (what
    S3's ListObjectsV2 returns), on every backend. Equal to plain string order for
    keys of one length, such as UUIDv7 ids and generated checkpoint ids."""
    return key + SUFFIX


def parse_path(path: str) -> tuple[Namespace, str] | None:
    """Inverse of :func:`object_path`; ``None`` for paths no valid address maps to
    (foreign objects in the bucket are skipped by listings, never misread)."""
    if not path.endswith(SUFFIX):
        return None
    *parts, leaf = path[: -len(SUFFIX)].split(SEPARATOR)
    namespace = _valid_namespace(tuple(parts))
    if namespace is None or len(path.encode("utf-8")) > MAX_PATH_BYTES:
        return None  # ``path`` is object_path(namespace, leaf): validate_key's length rule
    try:
        _check_name(leaf, "key", namespace, leaf)
    except InvalidKeyError:
        return None
    return namespace, leaf


@functools.lru_cache(maxsize=256)
def _valid_namespace(parts: Namespace) -> Namespace | None:
    """A listing's paths share their namespace: checked once, not once per key."""
    try:
        return validate_namespace(parts)
    except InvalidKeyError:
        return None
