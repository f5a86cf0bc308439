"""ChatMessageHistory's retry loop, independent of any backend."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from synaptic_s3 import ChatMessageHistory, ConflictError, InMemoryStore, Message
from synaptic_s3.core.store import JSONValue


class LosingStore(InMemoryStore):
    """Every conditional write loses, as if another writer always got there first."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    async def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: JSONValue,
        *,
        if_version: str | None = None,
        if_absent: bool = False,
    ) -> str:
        if if_absent or if_version is not None:
            self.attempts += 1
            raise ConflictError("another writer won", namespace=namespace, key=key)
        return await super().put(namespace, key, value)


async def test_an_append_that_keeps_losing_raises_conflict_after_the_bounded_attempts() -> None:
    store = LosingStore()
    history = ChatMessageHistory(store, max_attempts=3, backoff_base=0)
    with pytest.raises(ConflictError, match="3 attempts"):
        await history.append("s", Message.human("never lands"))
    assert store.attempts == 3
    assert await history.load("s") == []


async def test_max_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        ChatMessageHistory(InMemoryStore(), max_attempts=0)


async def test_append_many_refuses_a_single_message_passed_as_the_batch() -> None:
    with pytest.raises(TypeError):
        await ChatMessageHistory(InMemoryStore()).append_many("s", Message.human("x"))  # type: ignore[arg-type]


async def test_set_summary_refuses_a_non_string() -> None:
    from synaptic_s3 import InvalidDataError

    with pytest.raises(InvalidDataError):
        await ChatMessageHistory(InMemoryStore()).set_summary("s", 42)  # type: ignore[arg-type]
