"""Stored objects are data, never code: hostile bodies planted in the bucket (by anyone
with write access to it) either fail to load with CorruptDataError or load as inert
JSON values; nothing they name is imported, constructed or called.

Every payload names :func:`tripwire`; the test fails if it ever runs.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from synaptic_s3 import CheckpointConfig, CorruptDataError, S3Store, SessionManager
from synaptic_s3.testing import Endpoint
from tests.reliability.helpers import make_store

pytestmark = [pytest.mark.s3]

TRIPPED: list[Any] = []
HERE = __name__


def tripwire(*args: Any, **kwargs: Any) -> str:
    """What every hostile payload tries to call."""
    TRIPPED.append((args, kwargs))
    return "tripped"


class Armed:
    """Unpickling this calls tripwire."""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return tripwire, ("pickle",)


PICKLES = [pickle.dumps(Armed(), protocol=p) for p in (0, 2, 5)]
"""Pickles of every protocol family: text (0), binary (2), framed (5)."""

CODE_SHAPED_JSON: list[Any] = [
    {"__class__": f"{HERE}.tripwire", "__init__": {"x": 1}},
    {"__reduce__": [f"{HERE}.tripwire", ["json"]]},
    {"py/object": f"{HERE}.Armed", "py/reduce": [{"py/function": f"{HERE}.tripwire"}]},
    {"$type": f"{HERE}.Armed, tests", "value": 1},
    {"lc": 1, "type": "constructor", "id": [HERE, "tripwire"], "kwargs": {"x": 1}},
    {"__proto__": {"polluted": True}, "constructor": {"prototype": {"polluted": True}}},
    {"!!python/object/apply:tests.reliability.test_hostile_payloads.tripwire": ["yaml"]},
    "cos\nsystem\n(S'echo tripped'\ntR.",
]


@pytest.fixture(autouse=True)
def disarmed() -> Any:
    TRIPPED.clear()
    yield
    assert TRIPPED == [], "a stored payload ran code"


@pytest.fixture
async def store(moto_endpoint: Endpoint, prefix: str) -> Any:
    async with make_store(moto_endpoint, prefix) as opened:
        yield opened


async def plant(store: S3Store, key: str, body: bytes) -> None:
    client = await store.client()
    await client.put_object(Bucket=store.bucket, Key=store.prefix + key, Body=body)


def only_json_types(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_json_types(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


# -- StoreCheckpointer --------------------------------------------------------------------


@pytest.mark.parametrize("body", PICKLES, ids=["pickle-0", "pickle-2", "pickle-5"])
async def test_a_pickled_checkpoint_is_corrupt_data(store: S3Store, body: bytes) -> None:
    await plant(store, "checkpoints/t/c1.json", body)
    checkpointer = SessionManager(store).checkpointer()
    with pytest.raises(CorruptDataError):
        await checkpointer.get(CheckpointConfig("t", "c1"))
    with pytest.raises(CorruptDataError):
        await checkpointer.get(CheckpointConfig("t"))  # latest
    with pytest.raises(CorruptDataError):
        await checkpointer.list(CheckpointConfig("t"))


@pytest.mark.parametrize("state", CODE_SHAPED_JSON, ids=lambda s: str(s)[:24])
async def test_a_code_shaped_checkpoint_loads_as_inert_data(store: S3Store, state: Any) -> None:
    planted = {"id": "c1", "state": state, "metadata": {"__class__": "os.system"},
               "__class__": f"{HERE}.Armed"}
    await plant(store, "checkpoints/t/c1.json", json.dumps(planted).encode())
    loaded = await SessionManager(store).checkpointer().get(CheckpointConfig("t"))
    assert loaded is not None
    assert loaded.to_dict() == {**planted, "next_node": None, "parent_id": None}
    assert only_json_types(loaded.to_dict())


@pytest.mark.parametrize(("body", "why"), [
    (b"1" * 5000, "an integer over Python's 4,300-digit limit"),
    (b"\xff\xfe{\x00", "not UTF-8"),
    (b'{"id": "c1", "state": 1', "cut short"),
    (b"[]", "not an object"),
    (b'{"id": 7, "state": 1}', "id of the wrong type"),
])
async def test_a_malformed_checkpoint_is_corrupt_data(
    store: S3Store, body: bytes, why: str
) -> None:
    await plant(store, "checkpoints/t/c1.json", body)
    with pytest.raises(CorruptDataError):
        await SessionManager(store).checkpointer().get(CheckpointConfig("t", "c1"))


@pytest.mark.parametrize(("number", "loaded"), [
    ("1" * 4000, int("1" * 4000)), ("1e999", float("inf")), ("-1e999", float("-inf")),
    ("1e-999", 0.0), ("123456789012345678901234567890.5", 1.2345678901234568e29),
])
async def test_huge_numbers_load_as_plain_numbers(
    store: S3Store, number: str, loaded: Any
) -> None:
    await plant(store, "checkpoints/t/c1.json", f'{{"id": "c1", "state": {number}}}'.encode())
    checkpoint = await SessionManager(store).checkpointer().get(CheckpointConfig("t", "c1"))
    assert checkpoint is not None
    assert checkpoint.state == loaded


async def test_duplicate_keys_load_as_the_last_value(store: S3Store) -> None:
    await plant(store, "checkpoints/t/c1.json", b'{"id": "c1", "state": 1, "state": {"x": 2}}')
    checkpoint = await SessionManager(store).checkpointer().get(CheckpointConfig("t", "c1"))
    assert checkpoint is not None
    assert checkpoint.state == {"x": 2}


async def test_nesting_within_the_parser_limit_loads_as_data(store: S3Store) -> None:
    depth = 500
    body = b'{"id": "c1", "state": ' + b"[" * depth + b"]" * depth + b"}"
    await plant(store, "checkpoints/t/c1.json", body)
    checkpoint = await SessionManager(store).checkpointer().get(CheckpointConfig("t", "c1"))
    assert checkpoint is not None


@pytest.mark.parametrize("where", ["checkpoints/t/c1.json", "memory/s/messages.json",
                                   "sessions/s.json"])
async def test_deeply_nested_json_is_corrupt_data(store: S3Store, where: str) -> None:
    depth = 100_000
    await plant(store, where, b"[" * depth + b"]" * depth)
    manager = SessionManager(store)
    reads = {
        "checkpoints": lambda: manager.checkpointer().get(CheckpointConfig("t", "c1")),
        "memory": lambda: manager.memory().load("s"),
        "sessions": lambda: manager.get_session("s"),
    }
    read = reads[where.split("/")[0]]
    with pytest.raises(CorruptDataError):
        await read()


async def test_storing_a_too_deeply_nested_value_is_invalid_data(store: S3Store) -> None:
    from synaptic_s3 import InvalidDataError

    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(InvalidDataError):
        await store.put(("checkpoints", "t"), "deep", value)


# -- session metadata and messages ----------------------------------------------------------


@pytest.mark.parametrize("body", [*PICKLES[:1], b"\x80\x04K\x01."],
                         ids=["pickle-0", "pickle-int"])
async def test_pickled_session_metadata_and_messages_are_corrupt_data(
    store: S3Store, body: bytes
) -> None:
    await plant(store, "sessions/s.json", body)
    await plant(store, "memory/s/messages.json", body)
    manager = SessionManager(store)
    with pytest.raises(CorruptDataError):
        await manager.get_session("s")
    with pytest.raises(CorruptDataError):
        await manager.memory().load("s")


async def test_code_shaped_message_fields_load_as_inert_data(store: S3Store) -> None:
    message = {"role": "human", "content": "hi", "id": "m1", "__class__": f"{HERE}.Armed",
               "additional_kwargs": CODE_SHAPED_JSON[4], "py/object": f"{HERE}.tripwire"}
    await plant(store, "memory/s/messages.json", json.dumps([message]).encode())
    [loaded] = await SessionManager(store).memory().load("s")
    assert loaded.to_dict() == message
    assert only_json_types(loaded.to_dict())


@pytest.mark.parametrize("message", [
    {"role": "__class__", "content": "x"},
    {"role": f"{HERE}.tripwire", "content": "x"},
    {"role": "human", "content": {"__class__": "os.system"}},
])
async def test_a_message_of_unknown_shape_is_corrupt_data(store: S3Store, message: Any) -> None:
    await plant(store, "memory/s/messages.json", json.dumps([message]).encode())
    with pytest.raises(CorruptDataError):
        await SessionManager(store).memory().load("s")


# -- the LangGraph checkpointer (a tagged format: msgpack / json constructors) ---------------


async def _saver_with_planted(store: S3Store, tag: str, data: bytes) -> Any:
    pytest.importorskip("langgraph.checkpoint.base")
    from langgraph.checkpoint.base import empty_checkpoint

    from synaptic_s3.integrations.codec import pack_typed
    from synaptic_s3.integrations.langgraph_checkpoint import SynapticSaver

    saver = SynapticSaver(store)
    checkpoint = empty_checkpoint()
    config = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    await saver.aput(config, checkpoint, {"source": "input", "step": 0}, {})
    [item_key] = [k async for k in store.iter_keys(("checkpoints", "t", "langgraph", "!"))]
    item = await store.get(("checkpoints", "t", "langgraph", "!"), item_key)
    assert item is not None
    await store.put(item.namespace, item.key, {**item.value, "checkpoint": pack_typed(tag, data)})
    return saver, config


def _msgpack_constructor(code: int, args: Any) -> bytes:
    ormsgpack = pytest.importorskip("ormsgpack")
    inner = ormsgpack.packb([HERE, "tripwire", args])
    return bytes(ormsgpack.packb({"v": ormsgpack.Ext(code, inner)}))


@pytest.mark.parametrize("code", [0, 1, 2], ids=["single-arg", "pos-args", "kw-args"])
async def test_a_msgpack_constructor_for_an_unlisted_type_is_not_called(
    store: S3Store, code: int
) -> None:
    args: Any = {0: "msgpack", 1: ["msgpack"], 2: {"x": "msgpack"}}[code]
    saver, config = await _saver_with_planted(store, "msgpack", _msgpack_constructor(code, args))
    loaded = await saver.aget_tuple(config)
    assert loaded is not None
    assert loaded.checkpoint == {"v": args}  # LangGraph hands back the raw arguments


async def test_a_json_constructor_for_an_unlisted_type_is_not_called(store: S3Store) -> None:
    payload = json.dumps({"v": CODE_SHAPED_JSON[4]}).encode()
    saver, config = await _saver_with_planted(store, "json", payload)
    try:
        loaded = await saver.aget_tuple(config)
    except CorruptDataError:
        return
    assert loaded is not None
    assert only_json_types(loaded.checkpoint)


@pytest.mark.parametrize("body", PICKLES, ids=["pickle-0", "pickle-2", "pickle-5"])
async def test_a_pickle_tagged_langgraph_checkpoint_is_refused(store: S3Store, body: bytes) -> None:
    saver, config = await _saver_with_planted(store, "pickle", body)
    with pytest.raises(CorruptDataError, match="refusing to unpickle"):
        await saver.aget_tuple(config)


def test_the_payloads_really_are_armed() -> None:
    """Guards the guard: each pickle WOULD call tripwire if anything unpickled it."""
    for body in PICKLES:
        assert pickle.loads(body) == "tripped"  # the one place anything is unpickled
    TRIPPED.clear()
