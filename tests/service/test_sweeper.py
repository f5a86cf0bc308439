"""The idle-session sweeper handler against S3 (moto over HTTP): disabled by
default, bounded, resumable, per-user layouts included, metrics emitted."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from synaptic_s3 import Message, S3Store, SessionManager
from synaptic_s3.service import sweeper
from synaptic_s3.service.isolation import ScopedStore, subject_scope
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET

pytestmark = [pytest.mark.s3]

LATER = datetime.now(UTC) + timedelta(days=31)


@pytest.fixture
def env(moto_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in (("AWS_ACCESS_KEY_ID", moto_endpoint.credentials["aws_access_key_id"]),
                        ("AWS_SECRET_ACCESS_KEY",
                         moto_endpoint.credentials["aws_secret_access_key"])):
        monkeypatch.setenv(name, value)
    return {"SESSIONS_BUCKET": BUCKET, "SESSIONS_PREFIX": f"sweep-{uuid.uuid4().hex}",
           "S3_ENDPOINT_URL": moto_endpoint.url, "AWS_REGION": moto_endpoint.region,
           "IDLE_DAYS": "30"}


def store_of(env: dict[str, str], endpoint: Endpoint) -> S3Store:
    return S3Store(BUCKET, prefix=env["SESSIONS_PREFIX"], **endpoint.boto3_kwargs())


async def make_sessions(manager: SessionManager, count: int) -> list[str]:
    ids = [await manager.create_session() for _ in range(count)]
    for session_id in ids:
        await manager.memory().append(session_id, Message.human("hi"))
    return ids


def plenty() -> int:
    return 10**9


async def test_disabled_without_idle_days(env: dict[str, str]) -> None:
    assert await sweeper.sweep({**env, "IDLE_DAYS": "0"}, plenty) == {"enabled": False}
    assert await sweeper.sweep({k: v for k, v in env.items() if k != "IDLE_DAYS"},
                               plenty) == {"enabled": False}


@pytest.mark.parametrize(("name", "value"), [("IDLE_DAYS", "x"), ("IDLE_DAYS", "-1"),
                                             ("SWEEP_MAX_SESSIONS", "0")])
async def test_bad_settings_are_refused(env: dict[str, str], name: str, value: str) -> None:
    with pytest.raises(sweeper.SweeperConfigError, match=name):
        await sweeper.sweep({**env, name: value}, plenty)


async def test_a_run_deletes_idle_sessions_and_keeps_recent_ones(
    env: dict[str, str], moto_endpoint: Endpoint
) -> None:
    async with store_of(env, moto_endpoint) as store:
        ids = await make_sessions(SessionManager(store), 3)
        assert (await sweeper.sweep(env, plenty))["deleted"] == 0  # nothing idle yet
        summary = await sweeper.sweep(env, plenty, now=LATER)
        assert summary == {"enabled": True, "idle_days": 30, "idle": 3, "deleted": 3,
                           "kept": 0, "remaining": 0}
        assert await SessionManager(store).list_sessions() == []
        assert len(ids) == 3


async def test_runs_are_bounded_and_the_next_one_resumes(
    env: dict[str, str], moto_endpoint: Endpoint
) -> None:
    async with store_of(env, moto_endpoint) as store:
        await make_sessions(SessionManager(store), 3)
        bounded = {**env, "SWEEP_MAX_SESSIONS": "2"}
        first = await sweeper.sweep(bounded, plenty, now=LATER)
        assert (first["deleted"], first["remaining"]) == (2, 1)
        second = await sweeper.sweep(bounded, plenty, now=LATER)
        assert (second["deleted"], second["remaining"]) == (1, 0)


async def test_a_run_stops_when_the_invocation_is_nearly_over(
    env: dict[str, str], moto_endpoint: Endpoint
) -> None:
    async with store_of(env, moto_endpoint) as store:
        await make_sessions(SessionManager(store), 2)
        summary = await sweeper.sweep(env, lambda: sweeper.SAFETY_MS - 1, now=LATER)
        assert (summary["deleted"], summary["remaining"]) == (0, 2)


async def test_per_user_layouts_are_swept_too(env: dict[str, str],
                                              moto_endpoint: Endpoint) -> None:
    async with store_of(env, moto_endpoint) as store:
        alice = SessionManager(ScopedStore(store, subject_scope("alice")))
        bob = SessionManager(ScopedStore(store, subject_scope("bob")))
        await make_sessions(alice, 2)
        await make_sessions(bob, 1)
        summary = await sweeper.sweep({**env, "ISOLATION_MODE": "jwt"}, plenty, now=LATER)
        assert summary["deleted"] == 3
        assert await alice.list_sessions() == []
        assert await bob.list_sessions() == []


def test_the_handler_emits_metrics(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    context = SimpleNamespace(function_name="sweeper", memory_limit_in_mb=512,
                              invoked_function_arn="arn:aws:lambda:us-east-1:1:function:s",
                              aws_request_id="r-1", get_remaining_time_in_millis=plenty)
    summary: dict[str, Any] = sweeper.handler({}, context)
    assert summary["enabled"] is True
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines()
               if line.startswith("{") and "_aws" in line]
    names = {metric["Name"] for record in emitted
             for directive in record["_aws"]["CloudWatchMetrics"]
             for metric in directive["Metrics"]}
    assert {"IdleSessionsDeleted", "IdleSessionsKept", "IdleSessionsRemaining"} <= names
