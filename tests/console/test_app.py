"""The HTTP handler: routes, bad input, errors, and the rules around writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from synaptic_s3 import InMemoryStore, SessionManager
from synaptic_s3.console.app import ConsoleApp, Request, Response, loopback_hosts
from synaptic_s3.core.errors import StorageUnavailableError
from synaptic_s3.core.store import Item
from tests.console.seed import (
    CHECKPOINT_IDS,
    HOSTILE_ID,
    LONG_ID,
    SCRIPT,
    TOOLS_ID,
    seed,
)

HOST = {"host": "127.0.0.1:8090"}


class ForkingManager(SessionManager):
    """A manager with the fork API other helpers add (the console must find it)."""

    forks: list[tuple[str, str | None]]

    async def fork_session(self, session_id: str, *, messages: Any = None,
                           checkpoint_id: str | None = None) -> str:
        self.forks.append((session_id, checkpoint_id))
        return await self.create_session(session_id=f"fork of {session_id}")


class FailingStore(InMemoryStore):
    """Fails reads on demand: a storage outage, or a bug below the console."""

    failure: BaseException | None = None

    async def get(self, namespace: Sequence[str], key: str) -> Item | None:
        if self.failure is not None:
            raise self.failure
        return await super().get(namespace, key)


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as run:
        yield run


def _app(runner: asyncio.Runner, *, writes: bool = False, forking: bool = False,
         store: InMemoryStore | None = None) -> ConsoleApp:
    manager = (ForkingManager if forking else SessionManager)(store or InMemoryStore())
    if isinstance(manager, ForkingManager):
        manager.forks = []
    runner.run(seed(manager))
    app = ConsoleApp(manager, run=runner.run, store_label="memory://", allow_writes=writes,
                     log=lambda _: None)
    app.restrict_to("127.0.0.1", 8090)
    return app


def get(app: ConsoleApp, target: str, **headers: str) -> Response:
    return app.handle(Request("GET", target, {**HOST, **headers}))


def post(app: ConsoleApp, target: str, form: dict[str, str], **headers: str) -> Response:
    return app.handle(Request("POST", target, {
        **HOST, "content-type": "application/x-www-form-urlencoded",
        "origin": "http://127.0.0.1:8090", "sec-fetch-site": "same-origin", **headers},
        urlencode(form).encode()))


def text(response: Response) -> str:
    return response.body.decode()


def s(session_id: str, *rest: str) -> str:
    return "/console/s/" + "/".join([quote(session_id, safe=""), *rest])


# -- reading ------------------------------------------------------------------------------


def test_sessions_newest_first_by_default(runner: asyncio.Runner) -> None:
    page = text(get(_app(runner), "/console/"))
    assert page.index(quote(HOSTILE_ID, safe="")) < page.index(TOOLS_ID) < page.index(LONG_ID)


def test_sessions_oldest_first(runner: asyncio.Runner) -> None:
    page = text(get(_app(runner), "/console/?order=oldest"))
    assert page.index(LONG_ID) < page.index(TOOLS_ID) < page.index(quote(HOSTILE_ID, safe=""))


@pytest.mark.parametrize("order", ["newest", "oldest"])
def test_sessions_page_through_250(runner: asyncio.Runner, order: str) -> None:
    manager = SessionManager(InMemoryStore())
    ids = [runner.run(manager.create_session()) for _ in range(250)]
    app = ConsoleApp(manager, run=runner.run, store_label="memory://")
    expected = ids[::-1] if order == "newest" else ids
    seen: list[str] = []
    target: str | None = f"/console/?order={order}"
    pages = 0
    while target is not None:
        page = text(get(app, target))
        pages += 1
        seen += [sid for sid in expected if f"/console/s/{sid}\"" in page]
        marker = 'rel="next" href="'
        target = (page[page.index(marker) + len(marker):].split('"')[0].replace("&amp;", "&")
                  if marker in page else None)
    assert pages == 3
    assert sorted(seen, key=expected.index) == expected
    assert len(seen) == 250


def test_search_opens_an_exact_id(runner: asyncio.Runner) -> None:
    response = get(_app(runner), "/console/?" + urlencode({"q": HOSTILE_ID}))
    assert response.status == 303
    assert dict(response.headers)["Location"] == s(HOSTILE_ID)


def test_search_for_a_missing_id_lists_what_follows(runner: asyncio.Runner) -> None:
    response = get(_app(runner), "/console/?q=0195a1")
    assert response.status == 200
    assert "No session has the id" in text(response)
    assert TOOLS_ID in text(response)
    assert LONG_ID not in text(response)  # sorts before the query


def test_conversation_shows_the_newest_page_first(runner: asyncio.Runner) -> None:
    page = text(get(_app(runner), s(LONG_ID)))
    assert "long message number 449" in page
    assert "long message number 250" in page
    assert "long message number 249<" not in page
    assert "messages 251&ndash;450 of 450" in page


@pytest.mark.parametrize(("query", "first", "last"), [
    ("end=250", 50, 249), ("end=50", 0, 49), ("start=0", 0, 199), ("start=400", 400, 449)])
def test_conversation_pages(runner: asyncio.Runner, query: str, first: int, last: int) -> None:
    page = text(get(_app(runner), s(LONG_ID) + "?" + query))
    assert f"long message number {first}<" in page
    assert f"long message number {last}<" in page
    assert f"long message number {last + 1}<" not in page
    assert f"long message number {first - 1}<" not in page


def test_checkpoint_page_diffs_against_its_parent(runner: asyncio.Runner) -> None:
    page = text(get(_app(runner), s(TOOLS_ID, "checkpoints", CHECKPOINT_IDS[1])))
    assert ('<tr class="op-added"><td class="op">added</td><td class="path">'
            "<code>/messages/1</code>") in page
    assert "<code>/tools</code>" in page
    assert "<code>/step</code>" in page


def test_checkpoint_with_a_missing_parent_says_so(runner: asyncio.Runner) -> None:
    page = get(_app(runner), s(HOSTILE_ID, "checkpoints", "182d7294095bfe00-0009"))
    assert page.status == 200
    assert "is not in the store" in text(page)
    assert SCRIPT not in text(page)


def test_timeline_lists_checkpoints(runner: asyncio.Runner) -> None:
    page = text(get(_app(runner), s(TOOLS_ID, "checkpoints")))
    assert all(cid in page for cid in CHECKPOINT_IDS)
    assert "2025-03-17T01:23:22.000Z" in page


def test_head_has_no_body(runner: asyncio.Runner) -> None:
    response = _app(runner).handle(Request("HEAD", "/console/", HOST))
    assert response.status == 200
    assert response.body == b""


def test_security_headers_on_every_page(runner: asyncio.Runner) -> None:
    for target in ("/console/", "/console/nope", s(TOOLS_ID)):
        headers = dict(get(_app(runner), target).headers)
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"


def test_static_files(runner: asyncio.Runner) -> None:
    response = get(_app(runner), "/console/static/console.css")
    assert response.status == 200
    assert dict(response.headers)["Content-Type"].startswith("text/css")


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "status"), [
    ("/console", 303),
    ("/elsewhere", 404),
    ("/console/nope", 404),
    ("/console/static/other.js", 404),
    (s(TOOLS_ID, "nope"), 404),
    (s("no-such-session"), 404),
    (s(TOOLS_ID, "checkpoints", "no-such-checkpoint"), 404),
    ("/console/s/%FF%FE", 400),
    ("/console/s/.hidden", 400),
    ("/console/s/", 400),
    ("/console/?order=sideways", 400),
    ("/console/?order=oldest&order=newest", 400),
    ("/console/?q=.dot", 400),
    ("/console/?after=.dot", 400),
    (s(LONG_ID) + "?start=-1", 400),
    (s(LONG_ID) + "?start=abc", 400),
    (s(LONG_ID) + "?start=%D9%A3", 400),  # an Arabic-Indic digit is not a position
    (s(LONG_ID) + "?start=1&end=2", 400),
    (s(LONG_ID) + "?end=99999999999999", 400),
    (s(TOOLS_ID, "checkpoints") + "?after=.x", 400),
])
def test_bad_requests(runner: asyncio.Runner, target: str, status: int) -> None:
    response = get(_app(runner), target)
    assert response.status == status
    if status >= 400:
        assert "Traceback" not in text(response)
        assert "<h1 class=\"error\">" in text(response)


def test_other_methods_are_refused(runner: asyncio.Runner) -> None:
    app = _app(runner, writes=True)
    assert app.handle(Request("PUT", "/console/", HOST)).status == 405
    assert app.handle(Request("DELETE", s(TOOLS_ID), HOST)).status == 405
    assert post(app, "/console/", {"token": app.token}).status == 405
    assert post(app, s(TOOLS_ID), {"token": app.token}).status == 405


@pytest.mark.parametrize("host", ["evil.example:8090", "127.0.0.1:9999", "", "localhost"])
def test_foreign_host_is_refused(runner: asyncio.Runner, host: str) -> None:
    response = get(_app(runner), "/console/", host=host)
    assert response.status == 400
    assert TOOLS_ID not in text(response)
    assert "memory://" not in text(response)  # not even where the sessions live


def test_loopback_hosts() -> None:
    assert loopback_hosts("127.0.0.1", 8090) == frozenset(
        {"127.0.0.1:8090", "localhost:8090", "[::1]:8090"})
    assert loopback_hosts("0.0.0.0", 8090) is None  # bound elsewhere on purpose: no check


def test_storage_errors_are_a_readable_page(runner: asyncio.Runner) -> None:
    store = FailingStore()
    app = _app(runner, store=store)
    store.failure = StorageUnavailableError("the endpoint timed out")
    response = get(app, s(TOOLS_ID))
    assert response.status == 503
    assert "the endpoint timed out" in text(response)


def test_a_bug_below_is_a_500_without_traceback(runner: asyncio.Runner) -> None:
    store = FailingStore()
    logged: list[str] = []
    app = _app(runner, store=store)
    app._log = logged.append
    store.failure = RuntimeError("secret internals")
    response = get(app, s(TOOLS_ID))
    assert response.status == 500
    assert "secret internals" not in text(response)
    assert "Traceback" not in text(response)
    assert "secret internals" in logged[0]


# -- writes ---------------------------------------------------------------------------------


def test_read_only_by_default(runner: asyncio.Runner) -> None:
    app = _app(runner)
    assert "Delete" not in text(get(app, s(TOOLS_ID)))
    assert get(app, s(TOOLS_ID, "delete")).status == 403
    assert post(app, s(TOOLS_ID, "delete"), {"token": app.token}).status == 403
    assert get(app, s(TOOLS_ID)).status == 200  # still there


def test_delete_after_confirmation(runner: asyncio.Runner) -> None:
    app = _app(runner, writes=True)
    confirm = text(get(app, s(HOSTILE_ID, "delete")))
    assert f'name="token" value="{app.token}"' in confirm
    assert f'action="{s(HOSTILE_ID, "delete")}"' in confirm.replace("&amp;", "&")
    response = post(app, s(HOSTILE_ID, "delete"), {"token": app.token})
    assert response.status == 200
    assert get(app, s(HOSTILE_ID)).status == 404
    assert post(app, s(HOSTILE_ID, "delete"), {"token": app.token}).status == 404


@pytest.mark.parametrize(("form", "headers"), [
    ({}, {}),
    ({"token": "wrong"}, {}),
    ({"token": "TOKEN"}, {"origin": "http://evil.example"}),
    ({"token": "TOKEN"}, {"origin": "null"}),
    ({"token": "TOKEN"}, {"sec-fetch-site": "cross-site"}),
    ({"token": "TOKEN"}, {"sec-fetch-site": "same-site"}),
    ({"token": "TOKEN"}, {"content-type": "text/plain"}),
])
def test_cross_site_or_tokenless_writes_are_refused(runner: asyncio.Runner,
                                                    form: dict[str, str],
                                                    headers: dict[str, str]) -> None:
    app = _app(runner, writes=True)
    form = {k: app.token if v == "TOKEN" else v for k, v in form.items()}
    response = post(app, s(TOOLS_ID, "delete"), form, **headers)
    assert response.status in (400, 403)
    assert get(app, s(TOOLS_ID)).status == 200  # nothing was deleted


def test_a_token_from_another_console_is_refused(runner: asyncio.Runner) -> None:
    first, second = _app(runner, writes=True), _app(runner, writes=True)
    assert first.token != second.token
    assert post(second, s(TOOLS_ID, "delete"), {"token": first.token}).status == 403


class WithoutFork(SessionManager):
    """A manager of a library version before forks (the console must not offer them)."""

    fork_session = None  # type: ignore[assignment]


def test_no_fork_without_the_library_api(runner: asyncio.Runner) -> None:
    app = _app(runner, writes=True)
    app.manager = WithoutFork(app.manager.store)
    assert not app.can_fork
    assert "Fork" not in text(get(app, s(TOOLS_ID)))
    assert get(app, s(TOOLS_ID, "fork")).status == 404
    assert post(app, s(TOOLS_ID, "fork"), {"token": app.token}).status == 404


def test_fork_from_a_checkpoint_when_the_library_can(runner: asyncio.Runner) -> None:
    app = _app(runner, writes=True, forking=True)
    assert app.can_fork
    assert "Fork from here" in text(get(app, s(TOOLS_ID, "checkpoints", CHECKPOINT_IDS[1])))
    confirm = text(get(app, s(TOOLS_ID, "fork") + f"?checkpoint={CHECKPOINT_IDS[1]}"))
    assert f'name="checkpoint" value="{CHECKPOINT_IDS[1]}"' in confirm
    response = post(app, s(TOOLS_ID, "fork"), {"token": app.token,
                                                "checkpoint": CHECKPOINT_IDS[1]})
    assert response.status == 303
    assert dict(response.headers)["Location"] == s(f"fork of {TOOLS_ID}")
    assert app.manager.forks == [(TOOLS_ID, CHECKPOINT_IDS[1])]  # type: ignore[attr-defined]


def test_timeline_pages_by_fifty(runner: asyncio.Runner) -> None:
    from synaptic_s3 import Checkpoint, CheckpointConfig

    app = _app(runner)
    ids = [f"{n:016x}-0000" for n in range(1, 52)]
    for checkpoint_id in ids:
        runner.run(app.manager.checkpointer().put(CheckpointConfig(LONG_ID),
                                                  Checkpoint({}, id=checkpoint_id)))
    first = text(get(app, s(LONG_ID, "checkpoints")))
    assert ids[49] in first
    assert ids[50] not in first
    assert f"after={ids[49]}" in first
    second = text(get(app, s(LONG_ID, "checkpoints") + f"?after={ids[49]}"))
    assert ids[50] in second
    assert ids[49] + "<" not in second
    assert 'rel="next"' not in second


def test_a_root_checkpoint_shows_its_state_as_added(runner: asyncio.Runner) -> None:
    page = text(get(_app(runner), s(TOOLS_ID, "checkpoints", CHECKPOINT_IDS[0])))
    assert "has no parent" in page
    assert page.count('<tr class="op-added">') == 3  # messages, step, city


def test_more_than_a_thousand_changes_are_cut_and_said(runner: asyncio.Runner) -> None:
    from synaptic_s3 import Checkpoint, CheckpointConfig

    app = _app(runner)
    config = CheckpointConfig(LONG_ID)
    runner.run(app.manager.checkpointer().put(config, Checkpoint({}, id="a-0")))
    runner.run(app.manager.checkpointer().put(config, Checkpoint(
        {f"k{n}": n for n in range(1001)}, id="a-1", parent_id="a-0")))
    page = text(get(app, s(LONG_ID, "checkpoints", "a-1")))
    assert page.count('<tr class="op-added">') == 1000
    assert "Only the first changes are shown." in page


def test_refused_credentials_are_a_502_page(runner: asyncio.Runner) -> None:
    from synaptic_s3.core.errors import AccessDeniedError

    store = FailingStore()
    app = _app(runner, store=store)
    store.failure = AccessDeniedError("not allowed: s3:GetObject")
    response = get(app, s(TOOLS_ID))
    assert response.status == 502
    assert "s3:GetObject" in text(response)


def test_privacy_headers(runner: asyncio.Runner) -> None:
    headers = dict(get(_app(runner), s(TOOLS_ID)).headers)
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_typed_request_with_sec_fetch_site_none_may_write(runner: asyncio.Runner) -> None:
    app = _app(runner, writes=True)
    response = post(app, s(TOOLS_ID, "delete"), {"token": app.token}, **{
        "sec-fetch-site": "none"})
    assert response.status == 200
    assert get(app, s(TOOLS_ID)).status == 404
