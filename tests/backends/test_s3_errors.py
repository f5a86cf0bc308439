"""Which S3 failures are "retry later" and which are not (issue 11).

Only throttling, 5xx, timeouts and connection failures are
:class:`StorageUnavailableError` (the API's 503 + Retry-After). Missing credentials,
invalid parameters, KMS errors and unknown 4xx are :class:`StorageError` (or
:class:`AccessDeniedError`), never retried, with a message naming the cause and S3's
request id. Errors a local server can produce come from the server; the others are
S3's exact XML error replies injected on the wire by FaultProxy.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from synaptic_s3 import (
    AccessDeniedError,
    S3Store,
    StorageError,
    StorageUnavailableError,
)
from synaptic_s3.testing import Endpoint
from synaptic_s3.testing.faults import Fault, FaultProxy
from tests.conftest import BUCKET

pytestmark = pytest.mark.s3

NS = ("things",)


@pytest.fixture
async def proxy(moto_endpoint: Endpoint) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(moto_endpoint.url, seed=1) as running:
        yield running


@pytest.fixture
async def through_proxy(moto_endpoint: Endpoint, proxy: FaultProxy) -> AsyncIterator[S3Store]:
    kwargs = {**moto_endpoint.boto3_kwargs(), "endpoint_url": proxy.url}
    async with S3Store(BUCKET, prefix=f"errors-{uuid.uuid4().hex}", max_attempts=2,
                       **kwargs) as store:
        yield store


PERMANENT = [
    (400, "InvalidArgument", StorageError),
    (400, "KMS.DisabledException", StorageError),
    (400, "KMS.NotFoundException", StorageError),
    (400, "KMS.KMSInvalidStateException", StorageError),
    (403, "KMS.AccessDeniedException", AccessDeniedError),
    (403, "AccessDenied", AccessDeniedError),
    (403, "InvalidAccessKeyId", AccessDeniedError),
    (400, "ExpiredToken", AccessDeniedError),
    (405, "MethodNotAllowed", StorageError),
    (400, "SomethingS3AddsNextYear", StorageError),
    (411, "MissingContentLength", StorageError),
]


@pytest.mark.parametrize(("status", "code", "error"), PERMANENT,
                         ids=[code for _, code, _ in PERMANENT])
async def test_a_permanent_error_is_not_unavailable_and_names_cause_and_request_id(
    through_proxy: S3Store, proxy: FaultProxy, status: int, code: str,
    error: type[StorageError],
) -> None:
    proxy.inject(Fault.error(status, code), operation="PutObject")

    with pytest.raises(error) as raised:
        await through_proxy.put(NS, "k", 1)

    assert not isinstance(raised.value, StorageUnavailableError)
    assert type(raised.value) is error
    message = str(raised.value)
    assert code in message
    assert "PutObject" in message
    assert "request id " in message
    assert proxy.count("PutObject") == 1  # not retried


TRANSIENT = [
    (503, "SlowDown"),
    (503, "ServiceUnavailable"),
    (500, "InternalError"),
    (400, "RequestTimeout"),
    (400, "Throttling"),
    (400, "RequestLimitExceeded"),
    (502, "BadGateway"),
]


@pytest.mark.parametrize(("status", "code"), TRANSIENT, ids=[code for _, code in TRANSIENT])
async def test_throttling_and_server_errors_are_unavailable_after_the_retries(
    through_proxy: S3Store, proxy: FaultProxy, status: int, code: str,
) -> None:
    proxy.inject(Fault.error(status, code), operation="GetObject", times=None)

    with pytest.raises(StorageUnavailableError, match=code) as raised:
        await through_proxy.get(NS, "k")

    assert "request id " in str(raised.value)
    assert proxy.count("GetObject") == 2  # botocore retried up to max_attempts


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment where botocore's credential chain finds nothing."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_credentials")
async def test_missing_credentials_are_a_storage_error_that_says_so(
    moto_endpoint: Endpoint,
) -> None:
    async with S3Store(BUCKET, endpoint_url=moto_endpoint.url,
                       region_name=moto_endpoint.region) as store:
        with pytest.raises(StorageError, match="credentials") as raised:
            await store.get(NS, "k")

    assert not isinstance(raised.value, StorageUnavailableError)
    assert "AWS_ACCESS_KEY_ID" in str(raised.value)


@pytest.mark.usefixtures("no_credentials")
async def test_partial_credentials_are_a_storage_error(
    moto_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "only-the-id")  # and no secret
    store = S3Store(BUCKET, endpoint_url=moto_endpoint.url, region_name=moto_endpoint.region)

    with pytest.raises(StorageError, match="AWS_SECRET_ACCESS_KEY") as raised:
        await store.get(NS, "k")  # botocore finds this while creating the client

    assert not isinstance(raised.value, StorageUnavailableError)


async def test_invalid_parameters_are_a_storage_error(moto_endpoint: Endpoint) -> None:
    async with S3Store("Not A Valid Bucket!", **moto_endpoint.boto3_kwargs()) as store:
        with pytest.raises(StorageError, match="invalid request parameters") as raised:
            await store.get(NS, "k")
    assert not isinstance(raised.value, StorageUnavailableError)
