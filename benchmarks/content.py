"""The fixed workload's data: the same message texts and checkpoint states for every peer,
so bytes moved differ only by each peer's own encoding."""

from __future__ import annotations

from typing import Any

from synaptic_s3.ids import uuid7

_FILLER = (
    "The quick brown fox jumps over the lazy dog while the agent keeps its notes short "
    "and to the point, as an LLM turn of about two hundred characters would."
)


def text(index: int, role: str) -> str:
    """A ~200 character chat message, distinct per index and role."""
    return f"{role} #{index}: {_FILLER}"


def wire_message(index: int, role: str = "human") -> dict[str, Any]:
    """One message in the synaptic wire format (what synaptic-s3 and the Rust crate store)."""
    return {"role": role, "content": text(index, role), "id": str(uuid7())}


def wire_history(count: int) -> list[dict[str, Any]]:
    """``count`` messages alternating human / assistant."""
    return [wire_message(i, "human" if i % 2 == 0 else "assistant") for i in range(count)]


def checkpoint_state(step: int) -> dict[str, Any]:
    """A small graph state (~300 bytes of JSON), the same for every checkpointer."""
    return {"step": step, "next": "agent", "scratch": text(step, "state")}
