"""The label codec: every string becomes a valid key part, distinct strings stay
distinct, and descending checkpoint keys reverse id order."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synaptic_s3.core.errors import CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import MAX_NAME_BYTES, path_order, validate_namespace
from synaptic_s3.integrations.codec import (
    decode_label,
    descending_key,
    encode_label,
    id_from_descending_key,
    pack_typed,
    unpack_typed,
)

any_text = st.text(max_size=120)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("thread-1", "thread-1"),
        ("", "!"),
        ("child:1", "!child!3A1"),
        ("a|b:c", "!a!7Cb!3Ac"),
        ("alice/x", "!alice!2Fx"),
        ("!bang", "!!21bang"),
        (".hidden", "!!2Ehidden"),
        ("notes.json", "!notes!2Ejson"),
    ],
)
def test_known_labels(value: str, label: str) -> None:
    assert encode_label(value) == label
    assert decode_label(label) == value


@given(any_text)
def test_every_label_is_a_valid_part_and_decodes_back(value: str) -> None:
    label = encode_label(value)
    validate_namespace((label,))
    assert decode_label(label) in (value, None)
    if decode_label(label) is None:
        assert len(label.encode()) == 66  # only a digest is not reversible


@given(any_text, any_text)
def test_distinct_strings_get_distinct_labels(a: str, b: str) -> None:
    if a != b:
        assert encode_label(a) != encode_label(b)
        assert encode_label(a, keep_valid=True) != encode_label(b, keep_valid=True)


def test_keep_valid_keeps_session_ids_and_spaces() -> None:
    session_id = "0193a6f2-6a1b-7c3d-9e4f-123456789abc"
    assert encode_label(session_id, keep_valid=True) == session_id
    assert encode_label("user 1|a:b", keep_valid=True) == "user 1|a:b"
    assert encode_label("a/b", keep_valid=True) == "!a!2Fb"
    assert encode_label("!x", keep_valid=True) == "!!21x"


def test_overlong_labels_become_digests() -> None:
    label = encode_label("x:" * 150)
    assert label.startswith("!.")
    assert len(label) == 66
    assert decode_label(label) is None
    assert encode_label("y" * 150, max_bytes=100) != encode_label("y" * 151, max_bytes=100)


def test_labels_respect_max_bytes() -> None:
    assert len(encode_label("é" * 100).encode()) <= MAX_NAME_BYTES


uuids = st.integers(min_value=0, max_value=2**128 - 1).map(lambda n: str(uuid.UUID(int=n)))


@given(uuids, uuids)
def test_descending_keys_reverse_the_order_of_ids(a: str, b: str) -> None:
    ka, kb = descending_key(a), descending_key(b)
    assert (a < b) == (path_order(ka) > path_order(kb))
    assert id_from_descending_key(ka) == a


def test_descending_key_rejects_other_ids() -> None:
    with pytest.raises(InvalidDataError):
        descending_key("18a1b2c3d4e5f6a7-0001")
    assert id_from_descending_key("not-a-uuid") is None


def test_typed_bytes_round_trip_through_json() -> None:
    packed = pack_typed("msgpack", b"\x00\xffdata")
    assert unpack_typed(packed, ("ns",), "k") == ("msgpack", b"\x00\xffdata")


@pytest.mark.parametrize("bad", [None, {"type": "msgpack"}, {"type": "x", "data": "***"}])
def test_malformed_typed_bytes_are_corrupt_data(bad: object) -> None:
    with pytest.raises(CorruptDataError):
        unpack_typed(bad, ("ns",), "k")
