"""The one table that turns what botocore raises into the library's errors.

The line that matters is "retry or not": the HTTP API answers
:class:`StorageUnavailableError` with 503 and ``Retry-After``, so a client keeps
retrying it. Only what can pass by itself belongs there: throttling, 5xx, timeouts
and connection failures (all already retried by botocore's ``standard`` mode before
they reach us). Everything else is a misconfiguration or a bug that retrying
repeats for ever: missing credentials, invalid parameters, KMS errors and any 4xx
we do not know. Those become :class:`StorageError` (or :class:`AccessDeniedError`
for permission problems) with a message that names the cause and S3's request ids,
which is what AWS support asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from synaptic_s3.core.errors import (
    AccessDeniedError,
    BucketNotFoundError,
    ConflictError,
    StorageError,
    StorageUnavailableError,
)

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    BotoCoreError, aiohttp.ClientError, asyncio.TimeoutError, ConnectionError,
)
"""What a call on the client may raise besides :class:`ClientError`."""


@dataclass(frozen=True, slots=True)
class _Kind:
    error: type[StorageError] | type[ConflictError]
    hint: str


_UNAVAILABLE = _Kind(StorageUnavailableError, "retry later")
_THROTTLED = _Kind(StorageUnavailableError, "S3 is throttling this prefix; retry later")
_DENIED = _Kind(AccessDeniedError, "the credentials in use may not do this")
_KMS_DENIED = _Kind(AccessDeniedError,
                    "the credentials may not use the bucket's KMS key (kms:GenerateDataKey "
                    "to write, kms:Decrypt to read)")
_KMS = _Kind(StorageError, "the KMS key used for server-side encryption cannot be used; "
             "check that it exists, is enabled and is in the bucket's region")
_CONFLICT = _Kind(ConflictError, "a conditional write lost")
_PERMANENT = _Kind(StorageError, "S3 refused the request; retrying will not help")

_BY_CODE: dict[str, _Kind] = {
    # throttling and server trouble: transient
    **dict.fromkeys(("SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                     "RequestThrottled", "TooManyRequestsException", "BandwidthLimitExceeded",
                     "KMS.ThrottlingException"), _THROTTLED),
    **dict.fromkeys(("InternalError", "ServiceUnavailable", "RequestTimeout",
                     "KMS.KMSInternalException", "KMS.DependencyTimeoutException"),
                    _UNAVAILABLE),
    # permissions
    **dict.fromkeys(("AccessDenied", "AllAccessDisabled", "AccountProblem"), _DENIED),
    "InvalidAccessKeyId": _Kind(AccessDeniedError, "the access key id is not known to S3"),
    "SignatureDoesNotMatch": _Kind(AccessDeniedError,
                                   "the secret access key does not match the key id"),
    **dict.fromkeys(("ExpiredToken", "TokenRefreshRequired", "InvalidToken"),
                    _Kind(AccessDeniedError, "the session token is invalid or expired")),
    "RequestTimeTooSkewed": _Kind(StorageError, "this machine's clock is too far off"),
    "KMS.AccessDeniedException": _KMS_DENIED,
    # conditional writes
    "PreconditionFailed": _CONFLICT,
    "ConditionalRequestConflict": _CONFLICT,
}


def classify(exc: ClientError) -> _Kind:
    """The table lookup: by code, then KMS codes, then by HTTP status."""
    code, status = error_code(exc), error_status(exc)
    kind = _BY_CODE.get(code)
    if kind is not None:
        return kind
    if code.startswith("KMS."):
        return _KMS
    if status == 412:
        return _CONFLICT
    if status in (429, 503) or status >= 500:
        return _UNAVAILABLE
    if status == 403:
        return _DENIED
    return _PERMANENT


_NETWORK = (HTTPClientError, BotoConnectionError, aiohttp.ClientError, asyncio.TimeoutError,
            ConnectionError)
"""Timeouts, refused or dropped connections, bodies cut short: transient."""


def translate(
    exc: BaseException,
    operation: str,
    where: str,
    bucket: str,
    namespace: Sequence[str] | None = None,
    key: str | None = None,
) -> StorageError | ConflictError:
    """The library error for ``exc`` raised by ``operation`` on ``where`` (an S3 URL);
    ``namespace``/``key`` name the item for a :class:`ConflictError`."""
    if isinstance(exc, ClientError):
        return _translate_client_error(exc, operation, where, bucket, namespace, key)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return StorageError(
            f"{operation} {where}: {exc}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE), or run where an IAM role provides credentials",
            bucket=bucket)
    if isinstance(exc, ParamValidationError):
        return StorageError(f"{operation} {where}: invalid request parameters: {exc}",
                            bucket=bucket)
    if isinstance(exc, _NETWORK):
        return StorageUnavailableError(
            f"{operation} {where} failed: {type(exc).__name__}: {exc}; retry later",
            bucket=bucket)
    return StorageError(f"{operation} {where} failed: {type(exc).__name__}: {exc}",
                        bucket=bucket)


def _translate_client_error(
    exc: ClientError,
    operation: str,
    where: str,
    bucket: str,
    namespace: Sequence[str] | None,
    key: str | None,
) -> StorageError | ConflictError:
    code = error_code(exc)
    if code == "NoSuchBucket":
        return BucketNotFoundError(bucket)
    kind = classify(exc)
    if kind.error is ConflictError:
        return ConflictError(f"conditional {operation} lost: {code or error_status(exc)}",
                             namespace=namespace, key=key)
    message = str(exc.response.get("Error", {}).get("Message", "")).strip()
    detail = f"{code or 'HTTP ' + str(error_status(exc))}" + (f" ({message})" if message else "")
    text = f"{operation} {where} failed: {detail}: {kind.hint}{request_ids(exc)}"
    error_class: type[StorageError] = kind.error  # type: ignore[assignment]
    return error_class(text, bucket=bucket)


def request_ids(exc: ClientError) -> str:
    """``"; request id X, host id Y"``: what AWS support needs to find the request."""
    meta = exc.response.get("ResponseMetadata", {})
    request_id = meta.get("RequestId") or exc.response.get("Error", {}).get("RequestId")
    host_id = meta.get("HostId")
    parts = []
    if request_id:
        parts.append(f"request id {request_id}")
    if host_id:
        parts.append(f"host id {host_id}")
    return "; " + ", ".join(parts) if parts else ""


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
