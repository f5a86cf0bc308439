"""``S3Store(session=...)``: an aiobotocore ``AioSession`` or an ``aioboto3.Session``
signs the store's requests with its own credentials (profile, region); other sessions
and ambiguous credentials are refused with a clear error.

The proof of "its own credentials" is a SeaweedFS whose identities differ: a reader
may read and list but not write, so which identity signed shows in the answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import aioboto3
import boto3
import botocore.session
import pytest
from aiobotocore.session import AioSession

from synaptic_s3 import AccessDeniedError, S3Store
from synaptic_s3.testing import Endpoint, create_bucket, seaweedfs_server
from tests.conftest import BUCKET

READER = {"name": "reader", "credentials": [{"accessKey": "reader", "secretKey": "reader-secret"}],
          "actions": ["Read", "List"]}
ADMIN = {"name": "admin", "credentials": [{"accessKey": "admin", "secretKey": "admin-secret"}],
         "actions": ["Admin"]}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with seaweedfs_server(tmp_path_factory.mktemp("sessions"),
                          identities=[ADMIN, READER]) as endpoint:
        create_bucket(endpoint, BUCKET, credentials={"aws_access_key_id": "admin",
                                                     "aws_secret_access_key": "admin-secret"})
        yield endpoint


def aio_session(access_key: str, secret_key: str) -> AioSession:
    session = AioSession()
    session.set_credentials(access_key, secret_key)
    return session


def store(endpoint: Endpoint, session: object, prefix: str) -> S3Store:
    return S3Store(BUCKET, prefix=prefix, endpoint_url=endpoint.url, region_name="us-east-1",
                   session=session)  # type: ignore[arg-type]


async def test_an_aiobotocore_session_signs_with_its_credentials(secured: Endpoint) -> None:
    prefix = f"aio-{uuid.uuid4().hex}"
    async with store(secured, aio_session("admin", "admin-secret"), prefix) as admin:
        await admin.put(("things",), "k", {"v": 1})
    async with store(secured, aio_session("reader", "reader-secret"), prefix) as reader:
        assert (await reader.get(("things",), "k")).value == {"v": 1}  # type: ignore[union-attr]
        with pytest.raises(AccessDeniedError, match="PutObject"):
            await reader.put(("things",), "k", {"v": 2})


async def test_an_aioboto3_session_signs_with_its_credentials(secured: Endpoint) -> None:
    prefix = f"aioboto3-{uuid.uuid4().hex}"
    admin_session = aioboto3.Session(aws_access_key_id="admin",
                                     aws_secret_access_key="admin-secret")
    async with store(secured, admin_session, prefix) as admin:
        await admin.put(("things",), "k", {"v": 1})
    reader_session = aioboto3.Session(aws_access_key_id="reader",
                                      aws_secret_access_key="reader-secret")
    async with store(secured, reader_session, prefix) as reader:
        assert (await reader.get(("things",), "k")).value == {"v": 1}  # type: ignore[union-attr]
        with pytest.raises(AccessDeniedError, match="PutObject"):
            await reader.put(("things",), "k", {"v": 2})


async def test_a_sessions_profile_supplies_the_credentials(
    secured: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[writer]\naws_access_key_id = admin\n"
                           "aws_secret_access_key = admin-secret\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    async with store(secured, AioSession(profile="writer"), f"p-{uuid.uuid4().hex}") as s:
        await s.put(("things",), "k", 1)
        assert (await s.get(("things",), "k")).value == 1  # type: ignore[union-attr]


async def test_the_sessions_region_is_used_when_the_store_names_none(
    moto_endpoint: Endpoint,
) -> None:
    session = aio_session(**{"access_key": "a", "secret_key": "b"})
    session.set_config_variable("region", "eu-west-3")
    async with S3Store(BUCKET, endpoint_url=moto_endpoint.url, session=session) as s:
        assert (await s.client()).meta.region_name == "eu-west-3"


@pytest.mark.parametrize("session", [boto3.Session(), botocore.session.get_session(), "s3"],
                         ids=["boto3", "botocore", "str"])
def test_a_session_with_synchronous_clients_is_refused(session: object) -> None:
    with pytest.raises(TypeError, match="AioSession or an aioboto3 Session"):
        S3Store(BUCKET, session=session)  # type: ignore[arg-type]


def test_credentials_for_both_the_session_and_the_store_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        S3Store(BUCKET, session=AioSession(), aws_access_key_id="a",
                aws_secret_access_key="b")
