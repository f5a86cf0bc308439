"""Key/namespace encoding against a real S3 endpoint (tests/unit/test_keys.py checks the
pure mapping): any name either round-trips through an S3 object or is rejected
before any I/O, and no two namespaces' objects overlap on the server.

Hypothesis drives a synchronous test that runs each example on its own event loop
(``asyncio.Runner``): hypothesis does not run ``async def`` tests itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synaptic_s3 import InvalidKeyError, S3Store
from synaptic_s3.core.keys import namespace_prefix, object_path, validate_key, validate_namespace
from synaptic_s3.testing import Endpoint
from tests.reliability.helpers import ENDPOINTS, make_store

pytestmark = [pytest.mark.s3]

TRICKY = [
    "%", "%2F", "%2e%2e", "+", " ", "a b", "?x=1", "#frag", "&", "=", ";", ":", "@", "*", "~",
    "é", "e\u0301", "\u200b", "\ufeff", "\u2028", "\ufdd0", "\ufffe", "\uffff",
    "\U0001fffe", "\U0001f600", "ǅ", "ß", "ﬁ",
    "<tag>", "&amp;", "'\"", "x.json", "x.json ", "a..b", "..", ".", "/", "\\", "\x00",
    "\x7f", "\u0085", "CON", "nul", "-", "_", "A" * 200, "é" * 101,
]
XML_UNSAFE = ("\ufffe", "\uffff")
"""Characters S3's XML documents (DeleteObjects, error bodies) cannot carry: names
holding them were accepted once and then could never be deleted (fixed in 8ed3509)."""
names = st.one_of(st.sampled_from(TRICKY), st.text(min_size=0, max_size=24))
namespaces = st.lists(names, min_size=1, max_size=3).map(tuple)


@st.composite
def namespace_pairs(draw: st.DrawFn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Two namespaces, often related: equal, parent/child, or sharing a text prefix
    (``("a", "b")`` and ``("a", "bc")``): the cases an overlap would come from."""
    first = draw(namespaces)
    relation = draw(st.sampled_from(["independent", "child", "longer-label", "same"]))
    if relation == "child":
        return first, (*first, draw(names))
    if relation == "longer-label":
        return first, (*first[:-1], first[-1] + draw(names))
    if relation == "same":
        return first, first
    return first, draw(namespaces)


EXAMPLES = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=ENDPOINTS)
def s3_endpoint(request: pytest.FixtureRequest) -> Endpoint:
    return request.getfixturevalue(f"{request.param}_endpoint")  # type: ignore[no-any-return]


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner


def is_valid(namespace: tuple[str, ...], key: str | None = None) -> bool:
    try:
        validate_namespace(namespace) if key is None else validate_key(namespace, key)
    except InvalidKeyError:
        return False
    return True


async def raw_keys(store: S3Store, prefix: str) -> list[str]:
    client = await store.client()
    listed = await client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix + prefix)
    return [entry["Key"] for entry in listed.get("Contents", ())]


async def round_trip(store: S3Store, namespace: tuple[str, ...], key: str) -> None:
    if not is_valid(namespace, key):
        with pytest.raises(InvalidKeyError):
            await store.put(namespace, key, "never stored")
        return
    value = {"namespace": list(namespace), "key": key}
    await store.put(namespace, key, value)
    try:
        item = await store.get(namespace, key)
        assert item is not None
        assert item.value == value
        assert [k async for k in store.iter_keys(namespace)] == [key]
        assert namespace in await store.list_namespaces(namespace[:1])
        assert await raw_keys(store, namespace_prefix(namespace)) == [
            store.prefix + object_path(namespace, key)]
    finally:
        await store.delete(namespace, key)
    assert await store.get(namespace, key) is None


async def no_overlap(store: S3Store, first: tuple[str, ...], second: tuple[str, ...]) -> None:
    if not (is_valid(first) and is_valid(second)):
        return
    await store.put(first, "one", 1)
    await store.put(second, "two", 2)
    try:
        descends = second[: len(first)] == first
        expected_keys = ["one", "two"] if first == second else ["one"]
        assert [k async for k in store.iter_keys(first)] == expected_keys
        assert (second in await store.list_namespaces(first)) == descends
        await store.delete_namespace(first)
        survivor = await store.get(second, "two")
        assert (survivor is None) == descends  # only a sub-namespace goes with it
    finally:
        await store.delete_namespace(first)
        await store.delete_namespace(second)


def test_any_name_round_trips_through_an_s3_object_or_is_rejected(
    s3_endpoint: Endpoint, runner: asyncio.Runner
) -> None:
    store = make_store(s3_endpoint, f"keys-{uuid.uuid4().hex}")

    @EXAMPLES
    @given(namespaces, names)
    def check(namespace: tuple[str, ...], key: str) -> None:
        runner.run(round_trip(store, namespace, key))

    try:
        check()
        for name in TRICKY:  # every tricky name surely tried, as a part and as a key
            runner.run(round_trip(store, ("t", name), name))
    finally:
        runner.run(store.close())


def test_two_namespaces_never_share_objects_on_the_server(
    s3_endpoint: Endpoint, runner: asyncio.Runner
) -> None:
    store = make_store(s3_endpoint, f"overlap-{uuid.uuid4().hex}")

    @EXAMPLES
    @given(namespace_pairs())
    def check(pair: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
        runner.run(no_overlap(store, *pair))

    try:
        check()
    finally:
        runner.run(store.close())


@pytest.mark.parametrize("char", XML_UNSAFE, ids=["U+FFFE", "U+FFFF"])
async def test_a_name_s3_xml_cannot_carry_is_rejected_or_works(
    char: str, endpoint: Endpoint, prefix: str
) -> None:
    namespace = ("memory", f"session{char}")
    if not is_valid(namespace, "messages"):
        return  # rejected before any I/O: the fix
    async with make_store(endpoint, prefix) as store:
        await store.put(namespace, "messages", [])
        assert await store.get(("memory", f"other{char}"), "messages") is None
        await store.delete_namespace(namespace)
        assert await store.get(namespace, "messages") is None
