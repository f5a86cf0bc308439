"""The JWT isolation matrix: two users, every route, every way of naming the other
user's data. Neither can list, read, append to or delete the other's sessions,
whatever ids (or cursors) they send; each request's S3 traffic stays inside the
caller's own prefix; the victim's data is byte-for-byte unchanged afterwards.

Requests go through the WSGI -> API Gateway translation (percent-decoding like API
Gateway), with the caller's ``sub`` as the JWT authorizer would put it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from werkzeug.test import Client

from synaptic_s3.service.isolation import subject_scope
from synaptic_s3.testing import Endpoint
from tests.reliability.service_harness import Harness, Reply, bearer

pytestmark = [pytest.mark.s3]

ALICE = "alice|42"
BOB = "bob@example.com"
REFUSED = {400, 404, 405}


@dataclass(frozen=True)
class Owned:
    """One user's session and its checkpoint."""

    user: str
    session_id: str
    checkpoint_id: str


def call(harness: Harness, user: str, method: str, path: str,
         body: bytes | None = None) -> Reply:
    headers = {**bearer(user), **({"Content-Type": "application/json"} if body else {})}
    response = Client(harness.wsgi).open(path, method=method, data=body, headers=headers)
    return Reply(response.status_code, dict(response.headers), response.get_data(as_text=True))


def populate(harness: Harness, user: str) -> Owned:
    session_id = call(harness, user, "POST", "/sessions").body["id"]
    base = f"/sessions/{session_id}"
    assert call(harness, user, "POST", f"{base}/messages",
                b'{"role":"human","content":"secret of ' + user.encode() + b'"}').status == 201
    assert call(harness, user, "PUT", f"{base}/summary", b'{"summary":"mine"}').status == 200
    checkpoint = call(harness, user, "POST", f"{base}/checkpoints", b'{"state":{"k":1}}')
    assert checkpoint.status == 201
    return Owned(user, session_id, checkpoint.body["id"])


def view(harness: Harness, owned: Owned) -> list[object]:
    """Everything the owner sees of their session."""
    base = f"/sessions/{owned.session_id}"
    return [call(harness, owned.user, "GET", path).body for path in (
        base, f"{base}/messages", f"{base}/summary", f"{base}/checkpoints",
        f"{base}/checkpoints/{owned.checkpoint_id}")]


def spellings(victim: Owned, own_session: str) -> list[str]:
    """Ways of naming the victim's session from the attacker's side."""
    scope = "/".join(subject_scope(victim.user))
    vid = victim.session_id
    return [
        vid,
        vid.upper(),
        f"{vid}%20",
        f"..%2F..%2F{scope}%2Fsessions%2F{vid}",
        f"..%2F{scope.replace('/', '%2F')}%2F{vid}",
        f"{scope.split('/')[1]}",
        f"%2e%2e%2f{vid}",
        f"{own_session}%2F..%2F..%2F{vid}",
        f"{own_session}%2F..%2F{vid}",
    ]


def attempts(victim: Owned, own: Owned) -> list[tuple[str, str, bytes | None]]:
    """(method, path, body): every route with every spelling of the victim's ids."""
    found: list[tuple[str, str, bytes | None]] = []
    for sid in spellings(victim, own.session_id):
        base = f"/sessions/{sid}"
        found += [
            ("GET", base, None), ("DELETE", base, None),
            ("GET", f"{base}/messages", None), ("DELETE", f"{base}/messages", None),
            ("POST", f"{base}/messages", b'{"role":"human","content":"intruder"}'),
            ("GET", f"{base}/summary", None), ("PUT", f"{base}/summary", b'{"summary":"x"}'),
            ("GET", f"{base}/checkpoints", None), ("GET", f"{base}/checkpoints/latest", None),
            ("POST", f"{base}/checkpoints", b'{"state":"intruder"}'),
            ("GET", f"{base}/checkpoints/{victim.checkpoint_id}", None),
        ]
    own_base = f"/sessions/{own.session_id}"
    found += [  # the victim's checkpoint id under the attacker's own session
        ("GET", f"{own_base}/checkpoints/{victim.checkpoint_id}", None),
        ("GET", f"{own_base}/checkpoints/..%2F..%2F{victim.session_id}", None),
        ("POST", f"{own_base}/checkpoints",
         b'{"id":"../../' + victim.session_id.encode() + b'","state":1}'),
    ]
    return found


@pytest.fixture(scope="module")
def harness(moto_endpoint: Endpoint) -> Iterator[Harness]:
    with asyncio.Runner() as runner:
        service = Harness(moto_endpoint, runner, isolation="jwt")
        try:
            yield service
        finally:
            service.close()


@pytest.fixture(scope="module")
def users(harness: Harness) -> dict[str, Owned]:
    return {user: populate(harness, user) for user in (ALICE, BOB)}


@pytest.mark.parametrize(("attacker", "victim"), [(BOB, ALICE), (ALICE, BOB)],
                         ids=["bob-vs-alice", "alice-vs-bob"])
def test_no_route_reaches_the_other_users_session(
    harness: Harness, users: dict[str, Owned], attacker: str, victim: str
) -> None:
    before = view(harness, users[victim])
    for method, path, body in attempts(users[victim], users[attacker]):
        since = len(harness.proxy.exchanges)
        reply = call(harness, attacker, method, path, body)
        assert reply.status in REFUSED, (method, path, reply.status, reply.text[:200])
        assert harness.strays(attacker, since) == [], (method, path)
    assert view(harness, users[victim]) == before


@pytest.mark.parametrize(("attacker", "victim"), [(BOB, ALICE), (ALICE, BOB)],
                         ids=["bob-vs-alice", "alice-vs-bob"])
def test_listing_shows_only_ones_own_sessions_whatever_the_cursor(
    harness: Harness, users: dict[str, Owned], attacker: str, victim: str
) -> None:
    own = users[attacker].session_id
    victim_sid = users[victim].session_id
    def signed(subject: str, after: str) -> str:
        """A cursor as if the attacker knew the cursor key (the default is derived from
        the store URL): it still only names a place in the attacker's own listing."""
        return harness.app.cursors.encode("sessions", subject_scope(subject), "", after)

    for query in ("", "?limit=1000", f"?cursor={signed(attacker, victim_sid)}",
                  f"?cursor={signed(attacker, '0')}", f"?cursor={signed(attacker, '00000000')}"):
        since = len(harness.proxy.exchanges)
        reply = call(harness, attacker, "GET", f"/sessions{query}")
        assert reply.status == 200
        listed = [info["id"] for info in reply.body["sessions"]]
        assert set(listed) <= {own}, query
        assert harness.strays(attacker, since) == []
    victims_cursor = call(harness, attacker, "GET", f"/sessions?cursor={signed(victim, '0')}")
    assert (victims_cursor.status, victims_cursor.code) == (400, "invalid_cursor")


def test_every_object_lives_under_its_owners_prefix(
    harness: Harness, users: dict[str, Owned]
) -> None:
    for owned in users.values():
        scope = harness.scope(owned.user)
        written = [key for op, key in harness.touched() if op == "PutObject"
                   and owned.session_id in key]
        assert written
        assert all(key.startswith(scope) for key in written)


def test_a_request_without_a_subject_touches_nothing(harness: Harness) -> None:
    since = len(harness.proxy.exchanges)
    response = Client(harness.wsgi).open("/sessions", method="POST")
    assert response.status_code == 401
    assert harness.touched(since) == []
