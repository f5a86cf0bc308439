"""``S3Store``: the store on Amazon S3 or any S3-compatible endpoint (MinIO, SeaweedFS, moto).

Each item is one object, ``<prefix><ns...>/<key>.json``, whose body is the value's
JSON; the bucket holds nothing else (no index or marker objects), so the Rust crate
and any S3 tool see exactly what we see.

* One aiobotocore client per event loop using the store, created on first use (or
  by ``async with``) and reused for every request of that loop, closed when the loop
  ends or the store closes (:mod:`synaptic_s3.store.s3_clients`): a store works from
  any loop and any thread. The connection pool is sized to ``max_concurrency``,
  which also bounds fan-out (bulk gets, deletes).
* aiobotocore directly, not aioboto3: the store only ever creates a client, and
  aioboto3's session and client (boto3, s3transfer, 80 more modules) added ~90 ms of
  CPU to every Lambda init. An ``aioboto3.Session`` passed in still works
  (:func:`client_factory`) without this module importing aioboto3.
* Conditional writes map onto S3's own: ``if_absent`` -> ``IfNoneMatch: *``,
  ``if_version`` -> ``IfMatch: <ETag>``. A 412 (or AWS's 409 for a concurrent
  conditional write) is a :class:`ConflictError`, never a retry.
* Transient failures (5xx, throttling, dropped connections) are retried by
  botocore's ``standard`` retry mode (bounded, exponential backoff with jitter);
  what outlasts it becomes :class:`StorageUnavailableError`. Permanent failures
  (credentials, permissions, KMS, invalid parameters, unknown 4xx) become
  :class:`StorageError` / :class:`AccessDeniedError` naming the cause and S3's request
  id (the table is :mod:`synaptic_s3.store.s3_errors`). No botocore exception leaves
  this module.
* Listings go through botocore's ``list_objects_v2`` paginator.
* With an ``endpoint_url`` (MinIO, SeaweedFS, moto) addressing is path-style and
  request checksums are sent only when S3 requires them, which such servers accept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import ClientError

from synaptic_s3.core.errors import (
    ConflictError,
    NotFoundError,
    StorageError,
    StorageUnavailableError,
)
from synaptic_s3.core.keys import Namespace, namespace_prefix, object_path, parse_path, path_order
from synaptic_s3.core.retry import gather_bounded
from synaptic_s3.core.store import Entry, KeyPage, RawItem, Store
from synaptic_s3.store import s3_timestamps as timestamps
from synaptic_s3.store.s3_clients import LoopClients
from synaptic_s3.store.s3_errors import TRANSPORT_ERRORS, error_code, error_status, translate

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

ServerSideEncryption = Literal["AES256", "aws:kms"]
_DELETE_BATCH = 1000  # DeleteObjects' limit
_LIST_PAGE = 1000  # ListObjectsV2's largest page


class S3Store(Store):
    """A :class:`Store` on one bucket (and optional key prefix) of an S3 endpoint.

    Use it as ``async with S3Store(...) as store:`` or keep it open for the life of
    the process (a Lambda container) and ``await store.close()`` at the end.

    ``session``: an ``aiobotocore.session.AioSession`` (or an ``aioboto3.Session``)
    whose credentials, profile and region the store's clients use; without one the
    store makes its own, with the explicit keys if given (giving both is refused).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        session: AioSession | AsyncClientSession | None = None,
        max_concurrency: int = 16,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        sse: ServerSideEncryption | None = None,
        sse_kms_key_id: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("bucket must not be empty")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if sse_kms_key_id is not None and sse != "aws:kms":
            raise ValueError("sse_kms_key_id needs sse='aws:kms'")
        self._bucket = bucket
        self._prefix = _normalise_prefix(prefix)
        self._endpoint_url = endpoint_url
        self._region_name = region_name
        if session is not None and (aws_access_key_id or aws_secret_access_key
                                    or aws_session_token):
            raise ValueError("give credentials either to the session or to S3Store, not both")
        self._create_client = client_factory(session) if session is not None else \
            _new_session(aws_access_key_id, aws_secret_access_key,
                         aws_session_token).create_client
        self.max_concurrency = max_concurrency
        self._config = AioConfig(
            max_pool_connections=max_concurrency,
            connect_timeout=connect_timeout,
            # SeaweedFS may hold a losing conditional PUT for seconds before its 412.
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._sse_args: dict[str, Any] = {}
        if sse is not None:
            self._sse_args["ServerSideEncryption"] = sse
        if sse == "aws:kms":
            self._sse_args["BucketKeyEnabled"] = True
            if sse_kms_key_id is not None:
                self._sse_args["SSEKMSKeyId"] = sse_kms_key_id
        self._clients = LoopClients(self._open_client)

    # -- identity ------------------------------------------------------------------------

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    def __repr__(self) -> str:
        return f"S3Store(bucket={self._bucket!r}, prefix={self._prefix!r})"

    # -- lifecycle ------------------------------------------------------------------------

    async def client(self) -> S3Client:
        """The running event loop's client, opened on first use (see
        :mod:`synaptic_s3.store.s3_clients`): a store works from any loop and thread.
        Failing to create it (a bad region, credentials that cannot be resolved) raises
        the library's errors, as a failed request does."""
        try:
            return await self._clients.get()
        except (ClientError, *TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, "CreateClient") from exc

    @property
    def open_clients(self) -> int:
        """How many clients (one per event loop) are open now: 0 once every loop that
        used the store has ended or :meth:`close` ran in it."""
        return len(self._clients)

    def register_event_handler(self, event_name: str, handler: Callable[..., Any]) -> None:
        """Register a botocore event handler (``"before-send.s3"``...) on every client
        this store opens, in any loop, now or later (request counters, tracing)."""
        self._clients.register(event_name, handler)

    async def _open_client(self, stack: AsyncExitStack) -> S3Client:
        context = self._create_client(
            "s3", endpoint_url=self._endpoint_url, region_name=self._region_name,
            config=self._config,
        )
        client: S3Client = await stack.enter_async_context(context)
        return client

    async def close(self) -> None:
        """Close the calling loop's client (other loops close theirs when they end, or
        at once if running); the store opens a new client if used again."""
        await self._clients.close()

    async def __aenter__(self) -> Self:
        """Open the running loop's client now (so errors show at ``async with``)."""
        await self.client()
        return self

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist (local servers, tests, the CLI)."""
        client = await self.client()
        try:
            await client.head_bucket(Bucket=self._bucket)
            return
        except ClientError as exc:
            if error_status(exc) != 404:
                raise self._translate(exc, "HeadBucket") from exc
        except TRANSPORT_ERRORS as exc:
            raise self._translate(exc, "HeadBucket") from exc
        try:
            await client.create_bucket(Bucket=self._bucket)
        except ClientError as exc:
            if error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise self._translate(exc, "CreateBucket") from exc
        except TRANSPORT_ERRORS as exc:
            raise self._translate(exc, "CreateBucket") from exc

    # -- errors --------------------------------------------------------------------------

    def _translate(
        self,
        exc: BaseException,
        operation: str,
        namespace: Namespace | None = None,
        key: str | None = None,
    ) -> StorageError | ConflictError:
        where = f"s3://{self._bucket}/{self._prefix}"
        if namespace is not None:
            where += object_path(namespace, key) if key is not None else namespace_prefix(namespace)
        return translate(exc, operation, where, self._bucket, namespace, key)

    def _full_key(self, namespace: Namespace, key: str) -> str:
        return self._prefix + object_path(namespace, key)

    # -- the primitives -------------------------------------------------------------------

    async def _get_raw(self, namespace: Namespace, key: str) -> RawItem | None:
        client = await self.client()
        full_key = self._full_key(namespace, key)
        for attempt in (1, 2):
            # botocore retries the request, but the body is streamed after its retry
            # loop: a body cut short or dropped mid-way is retried here, once.
            try:
                response = await client.get_object(Bucket=self._bucket, Key=full_key)
            except ClientError as exc:
                if error_code(exc) == "NoSuchKey":
                    return None
                raise self._translate(exc, "GetObject", namespace, key) from exc
            except TRANSPORT_ERRORS as exc:
                raise self._translate(exc, "GetObject", namespace, key) from exc
            try:
                async with response["Body"] as stream:
                    body = await stream.read()
            except TRANSPORT_ERRORS as exc:
                if attempt == 1:
                    continue
                raise self._translate(exc, "GetObject", namespace, key) from exc
            expected = response.get("ContentLength")
            if expected is None or expected == len(body):
                break
            if attempt == 2:
                raise StorageUnavailableError(
                    f"GetObject {full_key} was cut short: {len(body)} of {expected} bytes",
                    bucket=self._bucket)
        modified = response.get("LastModified") or datetime.now(UTC)
        return RawItem(body, modified, modified, response["ETag"])

    async def _put_raw(
        self, namespace: Namespace, key: str, body: bytes, *,
        if_version: str | None, if_absent: bool,
    ) -> str:
        args: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._full_key(namespace, key),
            "Body": body,
            "ContentType": "application/json",
            **self._sse_args,
        }
        if if_absent:
            args["IfNoneMatch"] = "*"
        if if_version is not None:
            args["IfMatch"] = if_version
        client = await self.client()
        try:
            response = await client.put_object(**args)
        except ClientError as exc:
            if if_version is not None and error_code(exc) == "NoSuchKey":
                # AWS answers 404 to IfMatch on a missing object: the version is gone.
                raise ConflictError("the item was deleted since it was read",
                                    namespace=namespace, key=key) from exc
            raise self._translate(exc, "PutObject", namespace, key) from exc
        except TRANSPORT_ERRORS as exc:
            raise self._translate(exc, "PutObject", namespace, key) from exc
        return str(response["ETag"])

    async def _delete(self, namespace: Namespace, key: str) -> None:
        client = await self.client()
        try:
            await client.delete_object(Bucket=self._bucket, Key=self._full_key(namespace, key))
        except (ClientError, *TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, "DeleteObject", namespace, key) from exc

    async def _copy(
        self, src_namespace: Namespace, src_key: str, dst_namespace: Namespace, dst_key: str,
        *, if_absent: bool,
    ) -> str:
        """Unconditional: one server-side ``CopyObject`` (with the store's encryption
        settings). ``if_absent``: a GET and a ``PutObject`` with ``If-None-Match: *``.
        AWS and SeaweedFS enforce ``If-None-Match`` on ``CopyObject`` too, but moto
        (5.2) accepts it and overwrites anyway, so a conditional server-side copy
        could not be trusted on every endpoint this store supports; the conditional
        PUT is enforced by all of them (the conformance suite checks it)."""
        if if_absent:
            return await super()._copy(src_namespace, src_key, dst_namespace, dst_key,
                                       if_absent=True)
        source = self._full_key(src_namespace, src_key)
        client = await self.client()
        try:
            response = await client.copy_object(
                Bucket=self._bucket, Key=self._full_key(dst_namespace, dst_key),
                CopySource={"Bucket": self._bucket, "Key": source}, **self._sse_args)
        except ClientError as exc:
            if error_code(exc) == "NoSuchKey":
                raise NotFoundError("item", object_path(src_namespace, src_key)) from exc
            raise self._translate(exc, "CopyObject", dst_namespace, dst_key) from exc
        except TRANSPORT_ERRORS as exc:
            raise self._translate(exc, "CopyObject", dst_namespace, dst_key) from exc
        return _quoted(str(response["CopyObjectResult"]["ETag"]))

    async def _list_keys(self, namespace: Namespace, after: str | None, limit: int) -> KeyPage:
        prefix = self._prefix + namespace_prefix(namespace)
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix, "Delimiter": "/"}
        if after is not None:
            args["StartAfter"] = prefix + path_order(after)
        # MaxItems stops the paginator at ``limit`` objects without a look-ahead request;
        # a page size of min(limit, 1000) asks for no more than that in one request.
        client = await self.client()
        pages = client.get_paginator("list_objects_v2").paginate(
            **args, PaginationConfig={"MaxItems": limit, "PageSize": min(limit, _LIST_PAGE)})
        keys: list[str] = []
        try:
            async for page in pages:
                for entry in page.get("Contents", ()):
                    parsed = parse_path(entry["Key"][len(self._prefix):])
                    if parsed is not None and parsed[0] == namespace:
                        keys.append(parsed[1])
        except (ClientError, *TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, "ListObjectsV2", namespace) from exc
        # resume_token is set when the paginator stopped at MaxItems with more to come
        truncated = pages.resume_token is not None
        return KeyPage(keys, keys[-1] if truncated and keys else None)

    async def _object_pages(self, namespace: Namespace) -> AsyncIterator[list[dict[str, Any]]]:
        """Every object under a namespace (sub-namespaces included), page by page, as
        ListObjectsV2 describes them (``Key``, ``LastModified``, ``Size``...)."""
        client = await self.client()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=self._prefix + namespace_prefix(namespace),
            PaginationConfig={"PageSize": _LIST_PAGE})
        iterator = aiter(pages)
        while True:
            try:
                page = await anext(iterator)
            except StopAsyncIteration:
                return
            except (ClientError, *TRANSPORT_ERRORS) as exc:
                raise self._translate(exc, "ListObjectsV2", namespace) from exc
            yield list(page.get("Contents", ()))

    async def _list_namespaces(self, prefix: Namespace) -> list[Namespace]:
        found: set[Namespace] = set()
        async for objects in self._object_pages(prefix):
            for entry in objects:
                parsed = parse_path(entry["Key"][len(self._prefix):])
                if parsed is not None:
                    found.add(parsed[0])
        return sorted(found)

    async def _iter_entries(self, prefix: Namespace) -> AsyncIterator[list[Entry]]:
        async for objects in self._object_pages(prefix):
            page = []
            for entry in objects:
                parsed = parse_path(entry["Key"][len(self._prefix):])
                if parsed is not None:
                    page.append(Entry(parsed[0], parsed[1], entry["LastModified"],
                                      int(entry.get("Size", 0))))
            yield page

    async def _delete_namespaces(self, namespaces: Sequence[Namespace]) -> int:
        """Shared ``DeleteObjects`` batches: a session's ``memory/<id>/`` and
        ``checkpoints/<id>/`` cost one batch together, not two. Deleting behind a
        listing is safe on S3 (the continuation token does not depend on the keys)."""
        pending: list[str] = []
        deleted = 0
        for ns in namespaces:
            async for objects in self._object_pages(ns):
                pending.extend(entry["Key"] for entry in objects)
                while len(pending) >= _DELETE_BATCH:
                    deleted += await self.delete_object_keys(pending[:_DELETE_BATCH], ns)
                    del pending[:_DELETE_BATCH]
        if pending:
            deleted += await self.delete_object_keys(pending, namespaces[-1])
        return deleted

    async def delete_object_keys(self, keys: list[str], namespace: Namespace = ()) -> int:
        """Delete raw object keys with ``DeleteObjects`` in batches of 1,000 (at most
        :attr:`max_concurrency` batches in flight), checking every per-key error."""
        client = await self.client()

        async def delete_batch(batch: list[str]) -> None:
            try:
                response = await client.delete_objects(
                    Bucket=self._bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            except (ClientError, *TRANSPORT_ERRORS) as exc:
                raise self._translate(exc, "DeleteObjects", namespace) from exc
            errors = [e for e in response.get("Errors", ()) if e.get("Code") != "NoSuchKey"]
            if errors:
                sample = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in errors[:5])
                raise StorageUnavailableError(
                    f"DeleteObjects left {len(errors)} object(s) undeleted ({sample})",
                    bucket=self._bucket,
                )

        batches = [keys[i : i + _DELETE_BATCH] for i in range(0, len(keys), _DELETE_BATCH)]
        await gather_bounded((delete_batch(batch) for batch in batches), self.max_concurrency)
        return len(keys)


class AsyncClientSession(Protocol):
    """What an ``aioboto3.Session`` offers the store: ``client("s3", ...)`` returning
    an async context manager that yields an aiobotocore client."""

    def client(self, service_name: str, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
        ...


def client_factory(
    session: AioSession | AsyncClientSession,
) -> Callable[..., AbstractAsyncContextManager[Any]]:
    """How to open a client from the ``session`` a caller passed: an aiobotocore
    ``AioSession``'s ``create_client``, or an ``aioboto3.Session``'s ``client``
    (recognised by the ``AioSession`` it wraps, so aioboto3 is never imported here;
    its clients behave exactly as ``aioboto3.Session().client`` makes them). Anything
    else (a boto3 or botocore session, whose clients are synchronous) is refused."""
    factory: Callable[..., AbstractAsyncContextManager[Any]]
    if isinstance(session, AioSession):
        factory = session.create_client
        return factory
    inner = getattr(session, "_session", None)
    client = getattr(session, "client", None)
    if isinstance(inner, AioSession) and callable(client):
        factory = client
        return factory
    raise TypeError(
        f"session must be an aiobotocore AioSession or an aioboto3 Session, "
        f"not {type(session).__module__}.{type(session).__qualname__}")


def _new_session(
    access_key_id: str | None, secret_access_key: str | None, session_token: str | None,
) -> AioSession:
    """A session whose clients parse timestamps fast (:mod:`s3_timestamps`), with the
    explicit keys if any were given (else botocore's chain: environment, profile,
    container or instance role); a session passed in by the caller is left as it is."""
    core = AioSession()
    timestamps.install(core)
    if access_key_id or secret_access_key or session_token:
        core.set_credentials(access_key_id, secret_access_key, session_token)
    return core


def _normalise_prefix(prefix: str) -> str:
    parts = [part for part in prefix.strip("/").split("/") if part]
    if any(part in (".", "..") for part in parts):
        raise ValueError(f"prefix {prefix!r} may not contain '.' or '..' segments")
    return "".join(part + "/" for part in parts)


def _quoted(etag: str) -> str:
    """ETags as GetObject returns them, in double quotes (SeaweedFS's CopyObject
    result leaves them off), so a copy's version works with ``if_version``."""
    return etag if etag.startswith('"') else f'"{etag}"'
