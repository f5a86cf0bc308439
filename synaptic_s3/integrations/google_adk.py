"""``AdkSessionService``: Google ADK's ``BaseSessionService`` over a synaptic Store.

Build it from a :class:`~synaptic_s3.session.SessionManager`:
``AdkSessionService(manager)``, then ``Runner(agent=..., app_name=...,
session_service=...)``. ADK is imported here only
(``pip install "synaptic-s3[google-adk]"``).

Layout (``enc`` is :func:`~synaptic_s3.integrations.codec.encode_label`):

* an ADK session ``(app, user, id)`` is ONE synaptic session whose id is
  ``adk-`` + a digest of the three (ADK ids are unique per app and user only, synaptic
  ids are global); its object is ``memory/<that id>/google-adk/session.json``:
  the session-scoped state, every event (ADK's JSON form) and
  ``last_update_time``. Resuming a session is ONE GET of it, plus the app and
  user state, read concurrently. ``SessionManager.delete_session`` and retention
  treat it like any other session;
* ``google-adk/<enc app>/sessions/<enc user>/<enc id>.json``: the listing entry
  ``list_sessions`` walks;
* ``google-adk/<enc app>/state.json``: app state (``app:`` keys, prefix removed),
  shared by every user of the app; ``google-adk/<enc app>/users/<enc user>/state.json``:
  user state (``user:`` keys), shared by the user's sessions. They outlive any one
  session (as in every ADK service): :meth:`AdkSessionService.delete_user` removes
  a user's state and sessions, :meth:`AdkSessionService.delete_app` everything of
  an app.

``temp:`` keys are applied to the caller's session object and never stored, as
ADK's base class does. Every change is a compare-and-swap write
(:func:`~synaptic_s3.core.retry.update_with_retry`): two writers appending to one
session both land, in the order their writes succeed, and state deltas merge key
by key (the last write of a key wins). Unlike ADK's database services, a session
object that is behind the store is not refused (``StaleSessionError``): its event
is appended after the newer ones, like ADK's in-memory service does. An event
whose id and content are already stored is not appended again (a retried write
whose answer was lost, or a re-delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Sequence
from typing import Any

from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.sessions.base_session_service import (
    BaseSessionService,
    GetSessionConfig,
    ListSessionsResponse,
)
from google.adk.sessions.session import Session
from google.adk.sessions.state import State
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError, to_jsonable_python

from synaptic_s3.core.errors import ConflictError, CorruptDataError, InvalidDataError
from synaptic_s3.core.keys import Namespace
from synaptic_s3.core.retry import Edit, gather_bounded, update_with_retry
from synaptic_s3.core.store import Item, Store
from synaptic_s3.ids import uuid7
from synaptic_s3.integrations.codec import decode_label, encode_label
from synaptic_s3.memory import NAMESPACE as MEMORY
from synaptic_s3.session import SessionManager

ROOT = "google-adk"
LABEL = "google-adk"
SESSION_KEY = "session"
STATE_KEY = "state"


def synaptic_session_id(app_name: str, user_id: str, session_id: str) -> str:
    """The synaptic session holding ADK session ``(app_name, user_id, session_id)``."""
    digest = hashlib.sha256("\x00".join((app_name, user_id, session_id)).encode(
        "utf-8", "surrogatepass")).hexdigest()
    return f"adk-{digest[:40]}"


def _json(value: Any, what: str) -> Any:
    try:
        return to_jsonable_python(value)
    except PydanticSerializationError as exc:
        raise InvalidDataError(f"{what} is not JSON-serialisable: {exc}") from exc


def _split(state: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any],
                                                  dict[str, Any]]:
    """(app, user, session) parts of a state or delta; ``temp:`` keys dropped."""
    app: dict[str, Any] = {}
    user: dict[str, Any] = {}
    session: dict[str, Any] = {}
    for key, value in (state or {}).items():
        if key.startswith(State.APP_PREFIX):
            app[key.removeprefix(State.APP_PREFIX)] = value
        elif key.startswith(State.USER_PREFIX):
            user[key.removeprefix(State.USER_PREFIX)] = value
        elif not key.startswith(State.TEMP_PREFIX):
            session[key] = value
    return app, user, session


def _event_json(event: Event) -> dict[str, Any]:
    dumped: dict[str, Any] = event.model_dump(mode="json", exclude_none=True)
    return dumped


class AdkSessionService(BaseSessionService):
    """ADK sessions, events and app/user/session state in the manager's store."""

    def __init__(self, manager: SessionManager, *, max_attempts: int = 64) -> None:
        if not isinstance(manager, SessionManager):
            raise TypeError("AdkSessionService takes a SessionManager")
        self._manager = manager
        self._store: Store = manager.store
        self._max_attempts = max_attempts

    # -- addresses -------------------------------------------------------------------------

    @staticmethod
    def _session_namespace(app_name: str, user_id: str, session_id: str) -> Namespace:
        return (MEMORY, synaptic_session_id(app_name, user_id, session_id), LABEL)

    @staticmethod
    def _app_namespace(app_name: str) -> Namespace:
        return (ROOT, encode_label(app_name))

    def _user_namespace(self, app_name: str, user_id: str) -> Namespace:
        return (*self._app_namespace(app_name), "users", encode_label(user_id))

    def _listing_namespace(self, app_name: str, user_id: str) -> Namespace:
        return (*self._app_namespace(app_name), "sessions", encode_label(user_id))

    # -- state -----------------------------------------------------------------------------

    async def _read_state(self, namespace: Namespace) -> dict[str, Any]:
        item = await self._store.get(namespace, STATE_KEY)
        if item is None:
            return {}
        value = item.value
        if not isinstance(value, dict) or not isinstance(value.get("state"), dict):
            raise CorruptDataError("expected {state: {...}}", namespace=namespace,
                                   key=STATE_KEY)
        state: dict[str, Any] = value["state"]
        return state

    async def _merge_state(self, namespace: Namespace, delta: dict[str, Any]) -> None:
        if not delta:
            return

        async def edit(current: Item | None) -> Edit[None]:
            state = {} if current is None else await self._read_state(namespace)
            return Edit({"state": {**state, **delta}}, None)

        await update_with_retry(self._store, namespace, STATE_KEY, edit,
                                max_attempts=self._max_attempts)

    def _merged(self, app_name: str, user_id: str, record: dict[str, Any],
                app_state: dict[str, Any], user_state: dict[str, Any],
                events: list[Event]) -> Session:
        state = dict(record["state"])
        state.update({State.APP_PREFIX + key: value for key, value in app_state.items()})
        state.update({State.USER_PREFIX + key: value for key, value in user_state.items()})
        return Session(id=record["id"], app_name=app_name, user_id=user_id, state=state,
                       events=events, last_update_time=record["last_update_time"])

    # -- the session object ----------------------------------------------------------------

    @staticmethod
    def _record(item: Item | None) -> dict[str, Any] | None:
        if item is None:
            return None
        value = item.value
        if (not isinstance(value, dict) or not isinstance(value.get("state"), dict)
                or not isinstance(value.get("events"), list)
                or not isinstance(value.get("last_update_time"), int | float)
                or not isinstance(value.get("id"), str)):
            raise CorruptDataError("not an ADK session object", namespace=item.namespace,
                                   key=item.key)
        return value

    @staticmethod
    def _events(raw: Sequence[Any], where: Namespace) -> list[Event]:
        try:
            return [Event.model_validate(event) for event in raw]
        except ValidationError as exc:
            raise CorruptDataError(f"stored ADK event does not parse: {exc.error_count()} "
                                   "error(s)", namespace=where, key=SESSION_KEY) from exc

    # -- BaseSessionService ----------------------------------------------------------------

    async def create_session(self, *, app_name: str, user_id: str,
                             state: dict[str, Any] | None = None,
                             session_id: str | None = None) -> Session:
        session_id = (session_id.strip() if session_id else None) or str(uuid7())
        app_delta, user_delta, session_state = _split(_json(state or {}, "state"))
        namespace = self._session_namespace(app_name, user_id, session_id)
        now = time.time()
        record = {"app_name": app_name, "user_id": user_id, "id": session_id,
                  "state": session_state, "events": [], "last_update_time": now}
        # Registered first, so that retention and delete_session see it (a conflict:
        # registered by an earlier create of the same id).
        with contextlib.suppress(ConflictError):
            await self._manager.create_session(session_id=namespace[1])
        # The listing entry before the object: an interrupted create leaves an entry
        # whose object is missing, which list_sessions skips.
        await self._store.put(self._listing_namespace(app_name, user_id),
                              encode_label(session_id),
                              {"app_name": app_name, "user_id": user_id, "id": session_id})
        try:
            await self._store.put(namespace, SESSION_KEY, record, if_absent=True)
        except ConflictError as exc:
            # Our own write, landed, whose answer was lost (a retried PUT), is success.
            existing = await self._store.get(namespace, SESSION_KEY)
            if existing is None or existing.value != record:
                raise AlreadyExistsError(
                    f"Session with id {session_id} already exists.") from exc
        await self._merge_state(self._app_namespace(app_name), app_delta)
        await self._merge_state(self._user_namespace(app_name, user_id), user_delta)
        got = await self.get_session(app_name=app_name, user_id=user_id,
                                     session_id=session_id)
        if got is None:  # deleted by someone else in between
            raise SessionNotFoundError(f"Session {session_id} was deleted while created.")
        return got

    async def get_session(self, *, app_name: str, user_id: str, session_id: str,
                          config: GetSessionConfig | None = None) -> Session | None:
        session_id = session_id.strip() if session_id else session_id
        namespace = self._session_namespace(app_name, user_id, session_id)
        item, app_state, user_state = await asyncio.gather(
            self._store.get(namespace, SESSION_KEY),
            self._read_state(self._app_namespace(app_name)),
            self._read_state(self._user_namespace(app_name, user_id)))
        record = self._record(item)
        if record is None:
            return None
        raw: list[Any] = record["events"]
        if config is not None:
            if config.num_recent_events is not None:
                raw = raw[-config.num_recent_events:] if config.num_recent_events else []
            if config.after_timestamp is not None:
                raw = [e for e in raw if e.get("timestamp", 0) >= config.after_timestamp]
        return self._merged(app_name, user_id, record, app_state, user_state,
                            self._events(raw, namespace))

    async def _user_ids(self, app_name: str) -> list[str]:
        found = await self._store.list_namespaces((*self._app_namespace(app_name), "sessions"))
        users: list[str] = []
        for namespace in found:
            user = decode_label(namespace[-1])
            if user is None:  # a digest: the entries carry the original
                page = await self._store.list_keys(namespace, limit=1)
                for entry in await self._store.get_many(namespace, page.keys):
                    user = str(entry.value.get("user_id")) if isinstance(entry.value,
                                                                          dict) else None
            if user is not None:
                users.append(user)
        return users

    async def _listed(self, app_name: str, user_id: str,
                      app_state: dict[str, Any]) -> list[Session]:
        listing = self._listing_namespace(app_name, user_id)
        ids: list[str] = []
        digests: list[str] = []
        async for key in self._store.iter_keys(listing):
            decoded = decode_label(key)
            if decoded is None:
                digests.append(key)
            else:
                ids.append(decoded)
        for entry in await self._store.get_many(listing, digests):
            if isinstance(entry.value, dict) and isinstance(entry.value.get("id"), str):
                ids.append(entry.value["id"])
        user_state = await self._read_state(self._user_namespace(app_name, user_id))
        items = await gather_bounded(
            (self._store.get(self._session_namespace(app_name, user_id, sid), SESSION_KEY)
             for sid in ids), self._store.max_concurrency)
        sessions = []
        for item in items:
            record = self._record(item)
            if record is not None:  # an entry whose create or delete was interrupted
                sessions.append(self._merged(app_name, user_id, record, app_state,
                                             user_state, []))
        return sessions

    async def list_sessions(self, *, app_name: str,
                            user_id: str | None = None) -> ListSessionsResponse:
        """Sessions without events, state merged, oldest ``last_update_time`` first.
        Costs one listing per user, one GET per session and per user state."""
        app_state = await self._read_state(self._app_namespace(app_name))
        users = [user_id] if user_id is not None else await self._user_ids(app_name)
        sessions = [s for found in await gather_bounded(
            (self._listed(app_name, user, app_state) for user in users),
            self._store.max_concurrency) for s in found]
        sessions.sort(key=lambda s: (s.last_update_time, s.user_id, s.id))
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        """Remove the session's object (with the synaptic session holding it), then its
        listing entry; app and user state stay. Idempotent."""
        session_id = session_id.strip() if session_id else session_id
        namespace = self._session_namespace(app_name, user_id, session_id)
        await self._manager.delete_session(namespace[1])
        await self._store.delete(self._listing_namespace(app_name, user_id),
                                 encode_label(session_id))

    async def get_user_state(self, *, app_name: str, user_id: str) -> dict[str, Any]:
        return await self._read_state(self._user_namespace(app_name, user_id))

    async def append_event(self, session: Session, event: Event) -> Event:
        if event.partial:
            return event
        self._apply_temp_state(session, event)
        event = self._trim_temp_delta_state(event)
        delta = event.actions.state_delta if event.actions else {}
        app_delta, user_delta, session_delta = _split(_json(delta, "state delta"))
        stored = _event_json(event)
        namespace = self._session_namespace(session.app_name, session.user_id, session.id)

        def edit(current: Item | None) -> Edit[None]:
            record = self._record(current)
            if record is None:
                raise SessionNotFoundError(f"Session {session.id} not found.")
            if any(e.get("id") == event.id and e == stored for e in record["events"]):
                return Edit(None, None)  # already stored: a retry or a re-delivery
            return Edit({**record, "state": {**record["state"], **session_delta},
                         "events": [*record["events"], stored],
                         "last_update_time": event.timestamp}, None)

        await update_with_retry(self._store, namespace, SESSION_KEY, edit,
                                max_attempts=self._max_attempts)
        await self._merge_state(self._app_namespace(session.app_name), app_delta)
        await self._merge_state(self._user_namespace(session.app_name, session.user_id),
                                user_delta)
        session.last_update_time = event.timestamp
        return self._commit_event_to_session(session, event)

    # -- retention -------------------------------------------------------------------------

    async def delete_user(self, *, app_name: str, user_id: str) -> None:
        """Every session of ``user_id`` in ``app_name``, then the user's state."""
        for session in (await self.list_sessions(app_name=app_name, user_id=user_id)).sessions:
            await self.delete_session(app_name=app_name, user_id=user_id,
                                      session_id=session.id)
        await self._store.delete_namespace(self._listing_namespace(app_name, user_id))
        await self._store.delete_namespace(self._user_namespace(app_name, user_id))

    async def delete_app(self, *, app_name: str) -> None:
        """Every session and all app and user state of ``app_name``."""
        for user in await self._user_ids(app_name):
            await self.delete_user(app_name=app_name, user_id=user)
        await self._store.delete_namespace(self._app_namespace(app_name))
