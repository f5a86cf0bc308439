"""What "deleted" means when the bucket keeps versions (docs/reliability.md): the library
and the API no longer see a deleted session at once, but every earlier version of its
objects (one per append for messages.json) stays in the bucket, readable by version
id, until a lifecycle rule expires noncurrent versions or someone deletes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from synaptic_s3 import Checkpoint, CheckpointConfig, Message, S3Store, SessionManager
from synaptic_s3.testing import Endpoint, create_bucket
from tests.reliability.helpers import boto_session

pytestmark = [pytest.mark.s3]


@pytest.fixture
async def versioned(moto_endpoint: Endpoint) -> AsyncIterator[S3Store]:
    bucket = f"versioned-{uuid.uuid4().hex[:12]}"
    create_bucket(moto_endpoint, bucket)
    store = S3Store(bucket, endpoint_url=moto_endpoint.url, region_name=moto_endpoint.region,
                    session=boto_session(moto_endpoint))
    client = await store.client()
    await client.put_bucket_versioning(Bucket=bucket,
                                       VersioningConfiguration={"Status": "Enabled"})
    async with store:
        yield store


async def test_a_deleted_session_is_gone_for_the_library_but_its_versions_remain(
    versioned: S3Store,
) -> None:
    manager = SessionManager(versioned)
    session_id = await manager.create_session()
    for text in ("one", "two", "three"):
        await manager.memory().append(session_id, Message.human(text))
    await manager.checkpointer().put(CheckpointConfig(session_id), Checkpoint({"s": 1}))
    await manager.delete_session(session_id)

    assert await manager.get_session(session_id) is None
    assert await manager.memory().load(session_id) == []
    assert await manager.list_sessions() == []
    assert await versioned.list_namespaces() == []

    client = await versioned.client()
    listed = await client.list_object_versions(Bucket=versioned.bucket)
    kept = [v for v in listed.get("Versions", ()) if "/messages.json" in v["Key"]]
    markers = listed.get("DeleteMarkers", ())
    assert len(kept) == 3  # one full copy of the history per append
    assert len(markers) == 3  # sessions/, messages, checkpoint: each hidden by a marker
    oldest = min(kept, key=lambda v: v["LastModified"])
    recovered = await client.get_object(Bucket=versioned.bucket, Key=oldest["Key"],
                                        VersionId=oldest["VersionId"])
    async with recovered["Body"] as body:
        assert b"one" in await body.read()  # readable by anyone with s3:GetObjectVersion
