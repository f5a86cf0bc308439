"""Service configuration, read ONLY from environment variables (see docs/service.md).

=============================  ==========================================================
``SESSIONS_BUCKET``            the S3 bucket (required on Lambda unless SYNAPTIC_STORE_URL)
``SESSIONS_PREFIX``            key prefix inside the bucket (default: none)
``S3_ENDPOINT_URL``            another S3 endpoint (MinIO, SeaweedFS, moto); default AWS
``SYNAPTIC_STORE_URL``         any store URL (memory://, file://, s3://); overrides the
                               three above (the local server sets it)
``ISOLATION_MODE``             ``none`` (default) or ``jwt``: per-subject prefixes
``MAX_BODY_BYTES``             largest request body accepted (default 1 MiB; < 6 MB)
``MAX_REPLY_BYTES``            largest reply body (default 5 MiB; at most 6 MiB - 64 KiB):
                               pages end early, a lone item over it is a 422
``CURSOR_SECRET``              key of the pagination cursors' HMAC (default: derived
                               from the store's URL); 16 or more characters
``SSE_MODE``                   ``AES256`` or ``aws:kms``: encryption asked for on every write
``SSE_KMS_KEY_ID``             the KMS key for ``SSE_MODE=aws:kms`` (bucket keys are on)
``S3_CONNECT_TIMEOUT``         seconds (default 2)
``S3_READ_TIMEOUT``            seconds per attempt (default 4)
``S3_MAX_ATTEMPTS``            botocore standard-mode attempts (default 3): with the
                               defaults a failing call ends, as a JSON 503, well inside
                               the function's 15 s timeout instead of timing it out
``LOG_LEVEL``                  Powertools Logger level (default INFO)
``POWERTOOLS_SERVICE_NAME``    service name in logs and metrics (default synaptic-s3)
``POWERTOOLS_METRICS_NAMESPACE`` CloudWatch namespace of the EMF metrics (default SynapticS3)
=============================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from synaptic_s3.service.store_url import (
    StoreSpec,
    StoreURLError,
    parse_store_url,
    validate_s3_options,
)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload cap; MAX_BODY_BYTES must stay below it."""
DEFAULT_MAX_REPLY_BYTES = 5 * 1024 * 1024
MAX_REPLY_CAP = LAMBDA_PAYLOAD_LIMIT - 64 * 1024
"""The most MAX_REPLY_BYTES may be: Lambda's cap, less room for the status and headers."""
MIN_REPLY_BYTES = 1024
MIN_CURSOR_SECRET = 16
ISOLATION_MODES = ("none", "jwt")
DEFAULT_SERVICE_NAME = "synaptic-s3"
DEFAULT_METRICS_NAMESPACE = "SynapticS3"


LAMBDA_S3_DEFAULTS = {"connect_timeout": "2", "read_timeout": "4", "max_attempts": "3"}
"""Bounded so that a failing S3 call ends in a JSON error before the function times out."""
_S3_ENV_OPTIONS = {
    "SSE_MODE": "sse",
    "SSE_KMS_KEY_ID": "kms_key_id",
    "S3_CONNECT_TIMEOUT": "connect_timeout",
    "S3_READ_TIMEOUT": "read_timeout",
    "S3_MAX_ATTEMPTS": "max_attempts",
}


class ConfigError(ValueError):
    """The environment does not describe a usable service; the message says why."""


@dataclass(frozen=True)
class ServiceConfig:
    """What the handler needs; build it with :meth:`from_env`."""

    store: StoreSpec
    isolation: str = "none"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_cached_scopes: int = 32
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES
    cursor_secret: str | None = None
    """ISOLATION_MODE=jwt: how many subjects' managers (and their history caches) a
    container keeps; all share one store and one S3 client."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceConfig:
        env = os.environ if environ is None else environ
        store_url = env.get("SYNAPTIC_STORE_URL", "").strip()
        try:
            if store_url:
                store = parse_store_url(store_url)
            else:
                bucket = env.get("SESSIONS_BUCKET", "").strip()
                if not bucket:
                    raise ConfigError("SESSIONS_BUCKET is not set (nor SYNAPTIC_STORE_URL)")
                options = dict(LAMBDA_S3_DEFAULTS)
                for variable, option in _S3_ENV_OPTIONS.items():
                    value = env.get(variable, "").strip()
                    if value:
                        options[option] = value
                endpoint = env.get("S3_ENDPOINT_URL", "").strip()
                if endpoint:
                    options["endpoint_url"] = endpoint
                region = env.get("AWS_REGION", "").strip()
                if region:
                    options["region"] = region
                validate_s3_options(options)  # the same rules as an s3:// URL's query
                store = StoreSpec("s3", bucket=bucket,
                                  prefix=env.get("SESSIONS_PREFIX", "").strip().strip("/"),
                                  options=options)
        except StoreURLError as exc:
            source = "SYNAPTIC_STORE_URL" if store_url else "S3 settings"
            raise ConfigError(f"{source}: {exc}") from None
        isolation = env.get("ISOLATION_MODE", "none").strip().lower() or "none"
        if isolation not in ISOLATION_MODES:
            raise ConfigError(f"ISOLATION_MODE must be one of {', '.join(ISOLATION_MODES)}, "
                              f"not {isolation!r}")
        raw_limit = env.get("MAX_BODY_BYTES", "").strip()
        try:
            max_body = int(raw_limit) if raw_limit else DEFAULT_MAX_BODY_BYTES
        except ValueError:
            raise ConfigError(f"MAX_BODY_BYTES must be an integer, not {raw_limit!r}") from None
        if not 1 <= max_body < LAMBDA_PAYLOAD_LIMIT:
            raise ConfigError(f"MAX_BODY_BYTES must be between 1 and {LAMBDA_PAYLOAD_LIMIT - 1}")
        max_reply = _int_setting(env, "MAX_REPLY_BYTES", DEFAULT_MAX_REPLY_BYTES,
                                 MIN_REPLY_BYTES, MAX_REPLY_CAP)
        secret = env.get("CURSOR_SECRET", "").strip() or None
        if secret is not None and len(secret) < MIN_CURSOR_SECRET:
            raise ConfigError(f"CURSOR_SECRET must be at least {MIN_CURSOR_SECRET} characters")
        return cls(store=store, isolation=isolation, max_body_bytes=max_body,
                   max_reply_bytes=max_reply, cursor_secret=secret)


def _int_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int
                 ) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value
