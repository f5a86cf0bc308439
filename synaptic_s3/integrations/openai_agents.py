"""``AgentsSession``: an OpenAI Agents SDK session (``agents.memory.Session``) in the Store.

The SDK's ``Session`` is a runtime-checkable protocol, so this class satisfies it
structurally: ``isinstance(AgentsSession(...), agents.Session)`` is true and
``Runner.run(agent, text, session=...)`` keeps the conversation here. The one way
to build it is ``AgentsSession(manager, session_id)`` (or ``AgentsSession(store,
session_id)``): the adapter depends on the core, the core never on the adapter.

The items of session ``S`` are one JSON object at
``("memory", S, "openai-agents") / "items"`` (``memory/S/openai-agents/items.json``),
under the session's own prefix, so ``SessionManager.delete_session(S)`` removes
them; the synaptic message history next to it is not touched. Reading the history
is one GET.

Every change (add, pop) is a compare-and-swap write through
:func:`~synaptic_s3.core.retry.update_with_retry`, so concurrent writers never lose
items. Each change also records its id in a short log kept in the object: when a
write is answered with a conflict because its own earlier attempt already landed
(a retried PUT whose first answer was lost), the log shows it and the change is
not applied twice.

Behaviour matches the SDK's own sessions where they agree: ``session_settings``
may be a ``SessionSettings`` or a dict (``{"limit": n}``), converted with the SDK's
own coercion, and defaults to ``SessionSettings()``; items that are not JSON raise
``TypeError`` before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from synaptic_s3.core.errors import CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import validate_key
from synaptic_s3.core.retry import Edit, update_with_retry
from synaptic_s3.core.store import Item, Store
from synaptic_s3.ids import uuid7
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager

LABEL = "openai-agents"
KEY = "items"
RECENT_CHANGES = 64
"""How many change ids the object remembers: far more than writers that can race
on one session."""


def coerce_settings(value: Any) -> Any:
    """``session_settings`` as the SDK's sessions hold it: a ``SessionSettings``
    (a dict converted by the SDK's own coercion, ``None`` -> ``SessionSettings()``).
    Without the SDK installed (reading items from a plain script) the value is kept
    as given; :meth:`AgentsSession.get_items` reads ``limit`` from either form."""
    try:
        from agents.memory.session_settings import SessionSettings, coerce_session_settings
    except ImportError:
        return value
    return SessionSettings() if value is None else coerce_session_settings(value)


def _settings_limit(settings: Any) -> int | None:
    if isinstance(settings, dict):
        limit = settings.get("limit")
    else:
        limit = getattr(settings, "limit", None)
    return limit if isinstance(limit, int) else None


class AgentsSession:
    """The conversation history of one session, as the Agents SDK wants it.

    ``source`` is the :class:`SessionManager` (or just its store); ``session_id``
    any valid key (normally one from ``manager.create_session()``).
    ``session_settings`` is the SDK's ``SessionSettings`` or a dict of its fields
    (its ``limit`` is the default for :meth:`get_items`).
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
        self.session_settings = coerce_settings(session_settings)
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
        if limit is None:
            limit = _settings_limit(self.session_settings)
        items, _ = self._parse(await self._store.get(self._namespace, KEY))
        if limit is None or limit < 0:
            return items
        return items[-limit:] if limit else []

    # -- changing --------------------------------------------------------------------------

    async def _change(self, edit: Callable[[list[Any]], tuple[list[Any] | None, Any]]) -> Any:
        """Apply ``edit(items) -> (new_items, result)`` with compare-and-swap; return
        the result of the attempt that landed (``new_items`` ``None``: write nothing)."""
        change = str(uuid7())
        landed: list[Any] = [None]  # the outcome of the latest attempt that wrote

        def decide(current: Item | None) -> Edit[Any]:
            items, changes = self._parse(current)
            if change in changes:
                return Edit(None, landed[0])  # an earlier attempt landed; its answer was lost
            new_items, outcome = edit(list(items))
            landed[0] = outcome
            if new_items is None:
                return Edit(None, outcome)
            body = {"items": new_items, "changes": [*changes, change][-RECENT_CHANGES:]}
            return Edit(body, outcome)

        return await update_with_retry(self._store, self._namespace, KEY, decide,
                                       max_attempts=self._max_attempts)

    async def add_items(self, items: list[Any]) -> None:
        """Append ``items`` (JSON objects, as the SDK produces) in one write. Items
        that are not JSON raise ``TypeError`` (as the SDK's sessions do) and nothing
        is written."""
        if not isinstance(items, list):
            raise TypeError(f"items must be a list, not {type(items).__name__}")
        if not items:
            return
        added = list(items)
        try:
            json.dumps(added, allow_nan=False)
        except ValueError as exc:  # NaN / infinity: valid for the SDK's SQLite, not JSON
            raise InvalidDataError(f"items hold a value JSON cannot carry: {exc}") from exc
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
