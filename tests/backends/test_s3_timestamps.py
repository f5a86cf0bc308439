"""The S3 client's fast timestamp parser gives the values botocore's own parser gives,
as timezone-aware UTC datetimes, on every form S3 sends (and defers to botocore on
any other)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import boto3
import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from synaptic_s3 import S3Store
from synaptic_s3.store.s3_timestamps import parse_timestamp
from synaptic_s3.testing import Endpoint
from tests.conftest import BUCKET

S3_FORMS = [
    "2024-05-01T12:34:56.000Z",  # ListObjectsV2's LastModified
    "2024-05-01T12:34:56Z",
    "2024-05-01T12:34:56.123456Z",
    "1999-12-31T23:59:59.999Z",
    "2024-02-29T00:00:00.000Z",
    "2024-05-01T12:34:56+02:00",
    "Wed, 01 May 2024 12:34:56 GMT",  # GetObject's Last-Modified header
    "Thu, 29 Feb 2024 00:00:00 GMT",
]


@pytest.mark.parametrize("text", S3_FORMS)
def test_s3_forms_parse_to_botocores_values_in_aware_utc(text: str) -> None:
    ours = parse_timestamp(text)
    assert ours == botocore_parse_timestamp(text)
    assert ours.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["1714566896", "1714566896.5", "2024-05-01T12:34:56",
                                  "20240501T123456Z"])
def test_other_forms_are_left_to_botocore(text: str) -> None:
    assert parse_timestamp(text) == botocore_parse_timestamp(text)
    assert (parse_timestamp(text).tzinfo is None) == (
        botocore_parse_timestamp(text).tzinfo is None)


def test_what_botocore_refuses_is_refused() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        parse_timestamp("not a time")


@pytest.fixture(params=["moto_endpoint", "seaweedfs_endpoint"])
async def s3_and_endpoint(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[S3Store, Endpoint]]:
    endpoint: Endpoint = request.getfixturevalue(request.param)
    async with S3Store(BUCKET, prefix=f"times-{uuid.uuid4().hex}",
                       **endpoint.boto3_kwargs()) as store:
        yield store, endpoint


@pytest.mark.s3
async def test_listings_and_reads_report_what_a_plain_botocore_client_reports(
    s3_and_endpoint: tuple[S3Store, Endpoint],
) -> None:
    store, endpoint = s3_and_endpoint
    for key in ("a", "b"):
        await store.put(("t",), key, key)
    plain = boto3.client("s3", **endpoint.boto3_kwargs())  # botocore's default parser
    listed = plain.list_objects_v2(Bucket=BUCKET, Prefix=store.prefix)["Contents"]
    head = plain.head_object(Bucket=BUCKET, Key=store.prefix + "t/a.json")

    entries = [entry async for page in store.iter_entries() for entry in page]
    item = await store.get(("t",), "a")

    assert [e.updated_at for e in entries] == [o["LastModified"] for o in listed]
    assert all(e.updated_at.utcoffset() == timedelta(0) for e in entries)
    assert item is not None
    assert item.updated_at == head["LastModified"]
    assert item.updated_at.utcoffset() == timedelta(0)
