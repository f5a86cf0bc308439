"""Configuration from the environment, and the one store-URL parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from synaptic_s3 import FileStore, InMemoryStore
from synaptic_s3.service.config import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_REPLY_BYTES,
    MAX_REPLY_CAP,
    ConfigError,
    ServiceConfig,
)
from synaptic_s3.service.errors import ApiError
from synaptic_s3.service.pagination import CursorSigner
from synaptic_s3.service.store_url import StoreURLError, parse_store_url


def test_lambda_environment() -> None:
    config = ServiceConfig.from_env({"SESSIONS_BUCKET": "b", "SESSIONS_PREFIX": "/p/q/",
                                     "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                                     "AWS_REGION": "eu-west-1"})
    assert config.store.scheme == "s3"
    assert (config.store.bucket, config.store.prefix) == ("b", "p/q")
    assert config.store.options == {"endpoint_url": "http://127.0.0.1:9000",
                                    "region": "eu-west-1", "connect_timeout": "2",
                                    "read_timeout": "4", "max_attempts": "3"}
    assert config.isolation == "none"
    assert config.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    jwt = ServiceConfig.from_env({"SESSIONS_BUCKET": "b", "ISOLATION_MODE": "JWT",
                                  "MAX_BODY_BYTES": "2048"})
    assert (jwt.isolation, jwt.max_body_bytes) == ("jwt", 2048)


def test_store_url_overrides_bucket() -> None:
    config = ServiceConfig.from_env({"SYNAPTIC_STORE_URL": "memory://",
                                     "SESSIONS_BUCKET": "ignored"})
    assert config.store.scheme == "memory"


@pytest.mark.parametrize(("env", "fragment"), [
    ({}, "SESSIONS_BUCKET"),
    ({"SESSIONS_BUCKET": "b", "ISOLATION_MODE": "cookie"}, "ISOLATION_MODE"),
    ({"SESSIONS_BUCKET": "b", "MAX_BODY_BYTES": "lots"}, "MAX_BODY_BYTES"),
    ({"SESSIONS_BUCKET": "b", "MAX_BODY_BYTES": str(6 * 1024 * 1024)}, "MAX_BODY_BYTES"),
    ({"SESSIONS_BUCKET": "b", "MAX_BODY_BYTES": "0"}, "MAX_BODY_BYTES"),
    ({"SYNAPTIC_STORE_URL": "ftp://x"}, "SYNAPTIC_STORE_URL"),
])
def test_bad_environments(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ServiceConfig.from_env(env)


def test_store_urls(tmp_path: Path) -> None:
    assert isinstance(parse_store_url("memory://").open(), InMemoryStore)
    spec = parse_store_url(f"file://{tmp_path}/data")
    assert spec.path == tmp_path / "data"
    store = spec.open()
    assert isinstance(store, FileStore)
    assert store.root == tmp_path / "data"
    assert parse_store_url("file://.local-data").path == Path(".local-data")
    assert parse_store_url("file://~/x").path == Path.home() / "x"
    s3 = parse_store_url("s3://bucket/a/b/?endpoint_url=http://127.0.0.1:9000&region=us-east-1")
    assert (s3.bucket, s3.prefix) == ("bucket", "a/b")
    assert s3.options == {"endpoint_url": "http://127.0.0.1:9000", "region": "us-east-1"}
    assert parse_store_url(s3.to_url()) == s3
    assert parse_store_url(spec.to_url()) == spec
    kms = parse_store_url("s3://b?sse=aws:kms&kms_key_id=alias/k")
    assert kms.options == {"sse": "aws:kms", "kms_key_id": "alias/k"}
    assert kms.prefix == ""
    assert "s3://b/" in kms.display()


@pytest.mark.parametrize("url", [
    "", "   ", "bucket/prefix", "ftp://x", "memory://x", "file://", "file://a?b=c",
    "s3://", "s3:///prefix", "s3://user:secret@bucket/p", "s3://b/p?region=",
    "s3://b/p?unknown=1", "s3://b/p?region=a&region=b", "s3://b/../p",
    "s3://b/p?sse=rot13", "s3://b/p?kms_key_id=k", "s3://b/p?endpoint_url=file:///etc",
    "s3://b/p#frag",
])
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(StoreURLError):
        parse_store_url(url)


def test_cursor_round_trip() -> None:
    signer = CursorSigner(b"k" * 32)
    for position in ("01900000-0000-7000-8000-000000000000", "legacy id é", "0", "123"):
        cursor = signer.encode("sessions", ("users", "ab"), "", position)
        assert cursor.isascii()
        assert "=" not in cursor
        assert signer.decode(cursor, "sessions", ("users", "ab"), "") == position


@pytest.mark.parametrize(("kind", "scope", "session", "key"), [
    ("messages", ("users", "ab"), "", b"k" * 32),      # another listing
    ("sessions", ("users", "cd"), "", b"k" * 32),      # another caller
    ("sessions", ("users", "ab"), "s2", b"k" * 32),    # another session
    ("sessions", ("users", "ab"), "", b"j" * 32),      # another deployment (key)
])
def test_a_cursor_is_bound_to_its_listing_caller_session_and_key(
    kind: str, scope: tuple[str, ...], session: str, key: bytes
) -> None:
    cursor = CursorSigner(b"k" * 32).encode("sessions", ("users", "ab"), "", "7")
    with pytest.raises(ApiError) as caught:
        CursorSigner(key).decode(cursor, kind, scope, session)
    assert caught.value.code == "invalid_cursor"


def test_reply_limit_and_cursor_secret_come_from_the_environment() -> None:
    default = ServiceConfig.from_env({"SESSIONS_BUCKET": "b"})
    assert (default.max_reply_bytes, default.cursor_secret) == (DEFAULT_MAX_REPLY_BYTES, None)
    assert DEFAULT_MAX_REPLY_BYTES == 5 * 1024 * 1024
    set_ = ServiceConfig.from_env({"SESSIONS_BUCKET": "b", "MAX_REPLY_BYTES": str(MAX_REPLY_CAP),
                                   "CURSOR_SECRET": "s" * 16})
    assert (set_.max_reply_bytes, set_.cursor_secret) == (MAX_REPLY_CAP, "s" * 16)


@pytest.mark.parametrize("env", [
    {"MAX_REPLY_BYTES": str(MAX_REPLY_CAP + 1)},     # over Lambda's cap (less headers)
    {"MAX_REPLY_BYTES": str(6 * 1024 * 1024)},
    {"MAX_REPLY_BYTES": "1023"},
    {"MAX_REPLY_BYTES": "5MB"},
    {"CURSOR_SECRET": "short"},
])
def test_bad_reply_limit_or_secret_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        ServiceConfig.from_env({"SESSIONS_BUCKET": "b", **env})


def test_lambda_s3_settings_have_bounded_timeouts_by_default() -> None:
    config = ServiceConfig.from_env({"SESSIONS_BUCKET": "b"})
    assert config.store.options["read_timeout"] == "4"
    assert config.store.options["connect_timeout"] == "2"
    assert config.store.options["max_attempts"] == "3"


def test_s3_timeouts_and_attempts_come_from_the_environment() -> None:
    config = ServiceConfig.from_env({"SESSIONS_BUCKET": "b", "S3_READ_TIMEOUT": "9.5",
                                     "S3_MAX_ATTEMPTS": "5", "S3_CONNECT_TIMEOUT": "1"})
    store = config.store.open()
    assert (config.store.options["read_timeout"], config.store.options["max_attempts"]) == (
        "9.5", "5")
    assert store.bucket == "b"  # type: ignore[attr-defined]


def test_kms_encryption_comes_from_the_environment() -> None:
    config = ServiceConfig.from_env({"SESSIONS_BUCKET": "b", "SSE_MODE": "aws:kms",
                                     "SSE_KMS_KEY_ID": "arn:aws:kms:eu-west-1:1:key/k"})
    assert config.store.options["sse"] == "aws:kms"
    assert config.store.options["kms_key_id"] == "arn:aws:kms:eu-west-1:1:key/k"
    config.store.open()  # S3Store accepts the pair


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"SSE_MODE": "rot13"}, "sse must be"),
        ({"SSE_KMS_KEY_ID": "k"}, "kms_key_id needs"),
        ({"S3_READ_TIMEOUT": "soon"}, "read_timeout must be a number"),
        ({"S3_MAX_ATTEMPTS": "0"}, "max_attempts must be between"),
    ],
)
def test_bad_s3_settings_are_a_config_error_naming_them(
    variables: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ConfigError, match=complaint) as raised:
        ServiceConfig.from_env({"SESSIONS_BUCKET": "b", **variables})
    assert "S3 settings" in str(raised.value)
