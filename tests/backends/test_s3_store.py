"""What is specific to S3: the object layout, raw bodies, ETags, and clear errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator

import boto3
import pytest

from synaptic_s3 import (
    AccessDeniedError,
    BucketNotFoundError,
    Checkpoint,
    CheckpointConfig,
    CorruptDataError,
    Message,
    S3Store,
    SessionManager,
    StorageUnavailableError,
)
from synaptic_s3.testing import Endpoint, create_bucket, seaweedfs_server
from synaptic_s3.testing.servers import free_port
from tests.conftest import BUCKET


@pytest.fixture(params=["moto_endpoint", "seaweedfs_endpoint"])
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.fixture
async def s3(endpoint: Endpoint) -> AsyncIterator[S3Store]:
    async with S3Store(BUCKET, prefix=f"layout-{uuid.uuid4().hex}",
                       **endpoint.boto3_kwargs()) as store:
        yield store


def raw_client(endpoint: Endpoint):  # type: ignore[no-untyped-def]
    return boto3.client("s3", **endpoint.boto3_kwargs())


async def test_objects_follow_the_documented_layout(s3: S3Store, endpoint: Endpoint) -> None:
    manager = SessionManager(s3)
    session_id = await manager.create_session()
    await manager.memory().append(session_id, Message.human("hi", id="m1"))
    await manager.memory().set_summary(session_id, "a greeting")
    checkpoint = Checkpoint({"step": 1})
    await manager.checkpointer().put(CheckpointConfig(session_id), checkpoint)
    listed = raw_client(endpoint).list_objects_v2(Bucket=BUCKET, Prefix=s3.prefix)
    assert sorted(obj["Key"].removeprefix(s3.prefix) for obj in listed["Contents"]) == sorted([
        f"sessions/{session_id}.json",
        f"memory/{session_id}/messages.json",
        f"memory/{session_id}/summary.json",
        f"checkpoints/{session_id}/{checkpoint.id}.json",
    ])


async def test_object_bodies_are_the_plain_json_values(s3: S3Store, endpoint: Endpoint) -> None:
    manager = SessionManager(s3)
    await manager.memory().append("s1", Message.human("hi", id="m1"))
    await manager.memory().set_summary("s1", "short")
    client = raw_client(endpoint)

    def body(key: str) -> object:
        return json.loads(client.get_object(Bucket=BUCKET, Key=s3.prefix + key)["Body"].read())

    assert body("memory/s1/messages.json") == [{"role": "human", "content": "hi", "id": "m1"}]
    assert body("memory/s1/summary.json") == "short"


async def test_objects_are_written_as_application_json(s3: S3Store, endpoint: Endpoint) -> None:
    await s3.put(("things",), "k", {"a": 1})
    head = raw_client(endpoint).head_object(Bucket=BUCKET, Key=s3.prefix + "things/k.json")
    assert head["ContentType"] == "application/json"


async def test_the_version_token_is_the_etag(s3: S3Store, endpoint: Endpoint) -> None:
    version = await s3.put(("things",), "k", 1)
    head = raw_client(endpoint).head_object(Bucket=BUCKET, Key=s3.prefix + "things/k.json")
    assert version == head["ETag"]


async def test_objects_written_by_other_tools_are_read(s3: S3Store, endpoint: Endpoint) -> None:
    raw_client(endpoint).put_object(
        Bucket=BUCKET, Key=s3.prefix + "sessions/from-rust.json",
        Body=b'{"id": "from-rust", "created_at": "2026-01-01 00:00:00.123456789 UTC"}',
    )
    info = await SessionManager(s3).get_session("from-rust")
    assert info is not None
    assert info.created_at == "2026-01-01 00:00:00.123456789 UTC"


async def test_a_body_that_is_not_json_is_corrupt_and_names_the_key(
    s3: S3Store, endpoint: Endpoint
) -> None:
    raw_client(endpoint).put_object(Bucket=BUCKET, Key=s3.prefix + "memory/s/messages.json",
                                    Body=b"{truncated")
    with pytest.raises(CorruptDataError, match="messages") as raised:
        await SessionManager(s3).memory().load("s")
    assert raised.value.namespace == ("memory", "s")


async def test_foreign_objects_in_the_prefix_are_ignored_by_listings(
    s3: S3Store, endpoint: Endpoint
) -> None:
    raw_client(endpoint).put_object(Bucket=BUCKET, Key=s3.prefix + "sessions/README.txt", Body=b"")
    assert await SessionManager(s3).list_sessions() == []


async def test_a_prefix_keeps_stores_apart(endpoint: Endpoint) -> None:
    async with (
        S3Store(BUCKET, prefix="tenant-a", **endpoint.boto3_kwargs()) as a,
        S3Store(BUCKET, prefix="tenant-ab", **endpoint.boto3_kwargs()) as ab,
    ):
        await a.put(("things",), "k", "a")
        await ab.delete_namespace(("things",))
        item = await a.get(("things",), "k")
        assert item is not None
        await a.delete_namespace(("things",))


async def test_a_missing_bucket_is_named_in_the_error(endpoint: Endpoint) -> None:
    async with S3Store("no-such-bucket-here", **endpoint.boto3_kwargs()) as store:
        with pytest.raises(BucketNotFoundError, match="no-such-bucket-here") as raised:
            await store.get(("sessions",), "x")
    assert raised.value.bucket == "no-such-bucket-here"


async def test_a_missing_bucket_fails_listings_too(endpoint: Endpoint) -> None:
    async with S3Store("no-such-bucket-here", **endpoint.boto3_kwargs()) as store:
        with pytest.raises(BucketNotFoundError):
            await SessionManager(store).list_sessions()


async def test_an_unreachable_endpoint_is_storage_unavailable() -> None:
    port = free_port()  # nothing listens there
    async with S3Store(BUCKET, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="y",
                       max_attempts=1, connect_timeout=1) as store:
        with pytest.raises(StorageUnavailableError, match="GetObject"):
            await store.get(("sessions",), "x")


async def test_ensure_bucket_creates_a_missing_bucket_once(endpoint: Endpoint) -> None:
    name = f"fresh-{uuid.uuid4().hex[:12]}"
    async with S3Store(name, **endpoint.boto3_kwargs()) as store:
        await store.ensure_bucket()
        await store.ensure_bucket()
        await store.put(("things",), "k", 1)
        assert (await store.get(("things",), "k")) is not None
        await store.delete_namespace(("things",))


def test_a_kms_key_without_kms_encryption_is_refused() -> None:
    with pytest.raises(ValueError, match="aws:kms"):
        S3Store(BUCKET, sse_kms_key_id="key")


async def test_sse_s3_encryption_is_requested_on_every_write(moto_endpoint: Endpoint) -> None:
    async with S3Store(BUCKET, prefix=f"sse-{uuid.uuid4().hex}", sse="AES256",
                       **moto_endpoint.boto3_kwargs()) as store:
        await store.put(("things",), "k", 1)
        head = raw_client(moto_endpoint).head_object(Bucket=BUCKET,
                                                    Key=store.prefix + "things/k.json")
    assert head["ServerSideEncryption"] == "AES256"


async def test_deleting_more_than_a_thousand_objects_uses_batches(
    moto_endpoint: Endpoint,
) -> None:
    async with S3Store(BUCKET, prefix=f"bulk-{uuid.uuid4().hex}",
                       **moto_endpoint.boto3_kwargs()) as store:
        # Seeded straight into the in-process server's backend: 1,100 signed PUTs would
        # take most of the test's time, and none of them is what it checks.
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for i in range(1100):
            backend.put_object(BUCKET, f"{store.prefix}checkpoints/t/{i:05d}.json", b"{}")
        assert await store.delete_namespace(("checkpoints", "t")) == 1100
        assert (await store.list_keys(("checkpoints", "t"))).keys == []


READER = {"name": "reader", "credentials": [{"accessKey": "reader", "secretKey": "reader-secret"}],
          "actions": ["Read", "List"]}
ADMIN = {"name": "admin", "credentials": [{"accessKey": "admin", "secretKey": "admin-secret"}],
         "actions": ["Admin"]}


@pytest.fixture(scope="module")
def secured_seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    with seaweedfs_server(tmp_path_factory.mktemp("secured"),
                          identities=[ADMIN, READER]) as endpoint:
        create_bucket(endpoint, BUCKET)
        yield endpoint


async def test_denied_access_is_access_denied(secured_seaweedfs: Endpoint) -> None:
    async with S3Store(BUCKET, endpoint_url=secured_seaweedfs.url, region_name="us-east-1",
                       aws_access_key_id="reader", aws_secret_access_key="reader-secret") as store:
        with pytest.raises(AccessDeniedError, match="PutObject") as raised:
            await store.put(("sessions",), "x", {})
    assert raised.value.bucket == BUCKET
    assert "request id " in str(raised.value)  # SeaweedFS's own x-amz-request-id


async def test_wrong_credentials_are_access_denied(secured_seaweedfs: Endpoint) -> None:
    async with S3Store(BUCKET, endpoint_url=secured_seaweedfs.url, region_name="us-east-1",
                       aws_access_key_id="nobody", aws_secret_access_key="wrong") as store:
        with pytest.raises(AccessDeniedError):
            await store.get(("sessions",), "x")


# -- listings through the paginator: pages cut short, StartAfter with continuation tokens ----

@pytest.fixture
def two_key_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """ListObjectsV2 pages of 2 objects, so a few keys exercise every paging path."""
    monkeypatch.setattr("synaptic_s3.store.s3._LIST_PAGE", 2)


@pytest.mark.usefixtures("two_key_pages")
async def test_list_keys_after_a_key_across_several_requests(s3: S3Store) -> None:
    for key in ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]:
        await s3.put(("things",), key, key)
    await s3.put(("things", "sub"), "k0", "nested")

    page = await s3.list_keys(("things",), after="k2", limit=4)  # 2 requests of 2
    rest = await s3.list_keys(("things",), after=page.next_after, limit=4)

    assert (page.keys, page.next_after) == (["k3", "k4", "k5", "k6"], "k6")
    assert (rest.keys, rest.next_after) == (["k7"], None)


@pytest.mark.usefixtures("two_key_pages")
async def test_a_page_ending_with_the_last_key_announces_no_next_page(s3: S3Store) -> None:
    for key in ["k1", "k2", "k3", "k4"]:
        await s3.put(("things",), key, key)

    page = await s3.list_keys(("things",), limit=4)  # the 2nd request says "not truncated"

    assert (page.keys, page.next_after) == (["k1", "k2", "k3", "k4"], None)


@pytest.mark.usefixtures("two_key_pages")
async def test_sub_namespaces_between_keys_do_not_hide_keys(s3: S3Store) -> None:
    # "a" < "b/" < "c": a common prefix counts towards each page's 2 entries
    for ns, key in [(("t",), "a"), (("t", "b"), "x"), (("t", "b2"), "x"), (("t",), "c"),
                    (("t",), "d")]:
        await s3.put(ns, key, key)

    seen: list[str] = []
    after = None
    while True:
        page = await s3.list_keys(("t",), after=after, limit=1)
        seen.extend(page.keys)
        if page.next_after is None:
            break
        after = page.next_after

    assert seen == ["a", "c", "d"]


@pytest.mark.usefixtures("two_key_pages")
async def test_iter_entries_and_namespaces_follow_every_page(s3: S3Store) -> None:
    for i in range(5):
        await s3.put(("t", f"n{i}"), "k", i)

    entries = [e async for page in s3.iter_entries(("t",)) for e in page]

    assert [e.namespace for e in entries] == [("t", f"n{i}") for i in range(5)]
    assert await s3.list_namespaces(("t",)) == [("t", f"n{i}") for i in range(5)]
    assert await s3.delete_namespace(("t",)) == 5
