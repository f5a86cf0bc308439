"""The namespace/key <-> object path mapping: total, injective, prefix-safe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synaptic_s3 import InvalidKeyError
from synaptic_s3.core.keys import (
    _check_characters,
    namespace_prefix,
    object_path,
    parse_path,
    validate_key,
    validate_namespace,
)

names = st.text(min_size=0, max_size=40)
namespaces = st.lists(names, min_size=0, max_size=4).map(tuple)


def test_the_documented_layout() -> None:
    assert object_path(("sessions",), "abc") == "sessions/abc.json"
    assert object_path(("memory", "abc"), "messages") == "memory/abc/messages.json"
    assert object_path(("memory", "abc"), "summary") == "memory/abc/summary.json"
    assert object_path(("checkpoints", "abc"), "c1") == "checkpoints/abc/c1.json"


@given(namespaces, names)
def test_any_address_either_round_trips_or_is_rejected(
    namespace: tuple[str, ...], key: str
) -> None:
    try:
        validate_key(namespace, key)
    except InvalidKeyError:
        return
    assert parse_path(object_path(namespace, key)) == (namespace, key)


@given(namespaces, namespaces)
def test_different_namespaces_never_share_an_object_prefix(
    first: tuple[str, ...], second: tuple[str, ...]
) -> None:
    try:
        validate_namespace(first)
        validate_namespace(second)
    except InvalidKeyError:
        return
    a, b = namespace_prefix(first), namespace_prefix(second)
    is_ancestor = first[: len(second)] == second or second[: len(first)] == first
    assert (a.startswith(b) or b.startswith(a)) == is_ancestor


@given(namespaces, names, namespaces, names)
def test_different_addresses_never_share_an_object(
    ns1: tuple[str, ...], k1: str, ns2: tuple[str, ...], k2: str
) -> None:
    try:
        validate_key(ns1, k1)
        validate_key(ns2, k2)
    except InvalidKeyError:
        return
    assert (object_path(ns1, k1) == object_path(ns2, k2)) == ((ns1, k1) == (ns2, k2))


def test_an_object_never_sits_where_a_namespace_directory_would() -> None:
    # key "x" of ("a",) is a/x.json; namespace ("a", "x.json") would be a directory
    # of that same name on a filesystem: such namespace parts are refused.
    with pytest.raises(InvalidKeyError, match="ends with"):
        validate_namespace(("a", "x.json"))


def test_foreign_objects_are_not_parsed_as_items() -> None:
    assert parse_path("sessions/readme.txt") is None
    assert parse_path("sessions/../x.json") is None
    assert parse_path(".json") is None


def test_an_error_names_the_offending_part() -> None:
    with pytest.raises(InvalidKeyError) as raised:
        validate_key(("memory", "a/b"), "messages")
    assert raised.value.namespace == ("memory", "a/b")
    assert "path separator" in str(raised.value)


def test_unicode_names_are_allowed() -> None:
    assert validate_key(("会话", "é"), "🙂") == (("会话", "é"), "🙂")


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=30)
       | st.text(min_size=1, max_size=30))
def test_the_ascii_shortcut_refuses_exactly_what_the_character_check_refuses(name: str) -> None:
    try:
        _check_characters(name, "key", ("ns",), name)
        refused = False
    except InvalidKeyError:
        refused = True
    if name.isascii() and name.isprintable():
        assert not refused


def _parse_path_by_validate_key(path: str) -> tuple[tuple[str, ...], str] | None:
    """parse_path as it was written before its namespace check was cached: the spec."""
    if not path.endswith(".json"):
        return None
    *parts, leaf = path[: -len(".json")].split("/")
    try:
        return validate_key(parts, leaf)
    except InvalidKeyError:
        return None


@given(st.lists(st.sampled_from(["a", "memory", "x.json", ".h", "", "\x00", "\ufdd0", "é",
                                 "k" * 120, "checkpoints", "0000000000000000-0000"]),
                min_size=1, max_size=12).map("/".join),
       st.sampled_from(["", ".json", "/.json"]))
def test_parse_path_agrees_with_validate_key(body: str, ending: str) -> None:
    assert parse_path(body + ending) == _parse_path_by_validate_key(body + ending)
