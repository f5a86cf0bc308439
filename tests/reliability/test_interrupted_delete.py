"""``delete_session`` killed after its k-th request, for every k, then run again.

The kill is exact, not timed: the proxy holds request k+1 (and every later one)
and signals it; the test then cancels the call, as a Lambda frozen or killed mid
request. Two variants: request k+1 never reaches the server, or it is applied
and only its answer is lost with the process.

After every kill the bucket must be in a state the next delete finishes (the
metadata object goes last, so a session whose metadata is gone has nothing left),
other sessions untouched (including one whose id extends the victim's id, so its
keys share the victim's key prefix); after the rerun, nothing of the session.
"""

from __future__ import annotations

import asyncio

import pytest

from synaptic_s3 import Checkpoint, Message, SessionManager
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import FaultProxy
from tests.reliability.helpers import digest, kill_at_request, make_store, snapshot
from tests.reliability.operations import Snapshot, build_world, owned_by, session_info

pytestmark = [pytest.mark.s3]

MAX_REQUESTS = 20
"""A bound on the loop over k: delete_session sends about four requests."""


async def build_victim(manager: SessionManager) -> tuple[str, Snapshot]:
    """The world of the fault tests, plus a session whose id is the victim's id + "0"
    (written raw): its keys start with the victim's namespace prefixes, minus the '/'."""
    world, written = await build_world(manager)
    twin = world.target + "0"
    store = manager.store
    message = Message.human("twin", id="t0").to_dict()
    checkpoint = Checkpoint({"twin": True}).to_dict()
    await asyncio.gather(
        store.put(("sessions",), twin, {"id": twin, "created_at": "2026-01-01T00:00:00Z"}),
        store.put(("memory", twin), "messages", [message]),
        store.put(("checkpoints", twin), checkpoint["id"], checkpoint),
    )
    written.update({
        f"sessions/{twin}.json": {"id": twin, "created_at": "2026-01-01T00:00:00Z"},
        f"memory/{twin}/messages.json": [message],
        f"checkpoints/{twin}/{checkpoint['id']}.json": checkpoint,
    })
    assert session_info(world.target)  # the victim has a real UUIDv7 id
    return world.target, written


@pytest.mark.parametrize("apply", [False, True], ids=["before-request", "after-request"])
async def test_delete_session_killed_at_every_request_then_rerun(
    endpoint: Endpoint, proxy: FaultProxy, prefix: str, apply: bool
) -> None:
    kills = 0
    for k in range(MAX_REQUESTS):
        place = f"{prefix}-k{k}"
        async with make_store(endpoint, place) as direct:
            victim, before = await build_victim(SessionManager(direct))
            others = digest({key: v for key, v in before.items() if not owned_by(key, victim)})
            async with make_store(endpoint, place, url=proxy.url) as doomed:
                killed = await kill_at_request(
                    proxy, SessionManager(doomed).delete_session(victim), k, apply=apply)

            mid = await snapshot(direct)
            assert {key: v for key, v in mid.items() if not owned_by(key, victim)} == others
            assert mid.items() <= digest(before).items()  # only deletions happened
            victim_left = [key for key in mid if owned_by(key, victim)]
            assert not victim_left or f"sessions/{victim}.json" in victim_left  # metadata last

            async with make_store(endpoint, place, url=proxy.url) as fresh:  # the rerun
                await SessionManager(fresh).delete_session(victim)
            assert await snapshot(direct) == others
        if not killed:
            break
        kills += 1
    else:
        pytest.fail(f"delete_session still unfinished after {MAX_REQUESTS} requests")
    assert kills >= 4  # two listings, one shared DeleteObjects, one DeleteObject at least
