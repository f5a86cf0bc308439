"""``AgentsSession``: an OpenAI Agents SDK session (``agents.memory.Session``) in the Store.

The SDK's ``Session`` is a runtime-checkable protocol, so this class satisfies it
without importing the SDK: ``isinstance(AgentsSession(...), agents.Session)`` is
true and ``Runner.run(agent, text, session=...)`` keeps the conversation here.

The items of session ``S`` are one JSON object at
``("memory", S, "openai-agents") / "items"`` (``memory/S/openai-agents/items.json``),
under the session's own prefix, so ``SessionManager.delete_session(S)`` removes
them; the synaptic message history next to it is not touched. Reading the history
is one GET.

Every change (add, pop) is a compare-and-swap write, retried on conflict, so
concurrent writers never lose items. Each change also records its id in a short
log kept in the object: when a write is answered with a conflict because its own
earlier attempt already landed (a retried PUT whose first answer was lost), the
log shows it and the change is not applied twice.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from synaptic_s3.core.errors import ConflictError, CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.store import Item, Store
from synaptic_s3.ids import uuid7
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager

LABEL = "openai-agents"
KEY = "items"
RECENT_CHANGES = 64
"""How many change ids the object remembers: far more than writers that can race
on one session."""


class AgentsSession:
    """The conversation history of one session, as the Agents SDK wants it.

    ``source`` is the :class:`SessionManager` (or just its store); ``session_id``
    any valid key (normally one from ``manager.create_session()``).
    ``session_settings`` is the SDK's optional ``SessionSettings`` (its ``limit``
    is the default for :meth:`get_items`).
    """

    session_settings: Any = None

    def __init__(
        self,
        source: SessionManager | Store,
        session_id: str,
        *,
        session_settings: Any = None,
        max_attempts: int = 64,
    ) -> None:
        self._store = source.store if isinstance(source, SessionManager) else source
        self._namespace = (MEMORY, session_id, LABEL)
        validate_key(self._namespace, KEY)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.session_id = session_id
        self.session_settings = session_settings
        self._max_attempts = max_attempts

    # -- reading ---------------------------------------------------------------------------

    def _parse(self, item: Item | None) -> tuple[list[Any], list[str]]:
        if item is None:
            return [], []
        value = item.value
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("items"), list)
            or not isinstance(value.get("changes"), list)
        ):
            raise CorruptDataError("expected {items: [...], changes: [...]}",
                                   namespace=self._namespace, key=KEY)
        return value["items"], value["changes"]

    async def get_items(self, limit: int | None = None) -> list[Any]:
        """The newest ``limit`` items (default: ``session_settings.limit``, else all),
        oldest first. ``limit=0`` gives none; a negative limit gives all, as the SDK's
        SQLite session does."""
        if limit is None and self.session_settings is not None:
            limit = getattr(self.session_settings, "limit", None)
        items, _ = self._parse(await self._store.get(self._namespace, KEY))
        if limit is None or limit < 0:
            return items
        return items[-limit:] if limit else []

    # -- changing --------------------------------------------------------------------------

    async def _change(self, edit: Any) -> Any:
        """Apply ``edit(items) -> (new_items, result)`` with compare-and-swap; return
        the result of the attempt that landed."""
        change = str(uuid7())
        outcome: Any = None
        for attempt in range(self._max_attempts):
            current = await self._store.get(self._namespace, KEY)
            items, changes = self._parse(current)
            if change in changes:
                return outcome  # an earlier attempt landed; its answer was lost
            new_items, outcome = edit(list(items))
            if new_items is None:
                return outcome  # nothing to change
            body = {"items": new_items, "changes": [*changes, change][-RECENT_CHANGES:]}
            try:
                await self._store.put(
                    self._namespace, KEY, body,
                    if_absent=current is None,
                    if_version=None if current is None else current.version,
                )
                return outcome
            except ConflictError:
                await asyncio.sleep(random.uniform(0, min(0.25, 0.005 * 2 ** min(attempt, 16))))
        raise ConflictError(
            f"change kept losing to concurrent writers ({self._max_attempts} attempts)",
            namespace=self._namespace, key=KEY,
        )

    async def add_items(self, items: list[Any]) -> None:
        """Append ``items`` (JSON objects, as the SDK produces) in one write."""
        if not isinstance(items, list):
            raise InvalidDataError(f"items must be a list, not {type(items).__name__}")
        if not items:
            return
        added = list(items)
        await self._change(lambda current: (current + added, None))

    async def pop_item(self) -> Any:
        """Remove and return the newest item, or ``None`` when there is none."""

        def pop(current: list[Any]) -> tuple[list[Any] | None, Any]:
            if not current:
                return None, None
            return current[:-1], current[-1]

        return await self._change(pop)

    async def clear_session(self) -> None:
        """Remove every item of this session (the session itself stays)."""
        await self._store.delete(self._namespace, KEY)


def agents_session(manager: SessionManager, session_id: str) -> AgentsSession:
    """``manager.agents_session(session_id)`` until ``SessionManager`` has that method."""
    return AgentsSession(manager, session_id)
