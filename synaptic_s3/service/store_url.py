"""The ONE parser of store URLs, used by the command line and by the Lambda handler.

* ``memory://`` -- an :class:`~synaptic_s3.store.InMemoryStore` (gone when the process ends);
* ``file://PATH`` -- a :class:`~synaptic_s3.store.FileStore` rooted at PATH
  (``file://.local-data`` is relative to the working directory, ``file:///srv/data``
  absolute, ``file://~/x`` under the home directory);
* ``s3://BUCKET/PREFIX?endpoint_url=URL&region=REGION&sse=AES256|aws:kms&kms_key_id=ID``
  -- an :class:`~synaptic_s3.store.s3.S3Store` (botocore is imported only then).

Credentials never appear in a URL: S3 uses the usual AWS credential chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from synaptic_s3.core.store import Store

DEFAULT_STORE_URL = "file://.local-data"
"""What the command line and the local server use when no ``--store`` is given."""

_NUMERIC_OPTIONS = {
    # S3Store keyword -> (type, smallest allowed value)
    "max_attempts": (int, 1),
    "max_concurrency": (int, 1),
    "connect_timeout": (float, 0.1),
    "read_timeout": (float, 0.1),
}
_S3_OPTIONS = {"endpoint_url", "region", "sse", "kms_key_id", *_NUMERIC_OPTIONS}


class StoreURLError(ValueError):
    """A store URL that cannot be understood; the message says what is wrong."""


@dataclass(frozen=True)
class StoreSpec:
    """A parsed store URL: which backend and where."""

    scheme: str  # "memory" | "file" | "s3"
    path: Path | None = None  # file
    bucket: str | None = None  # s3
    prefix: str = ""  # s3
    options: dict[str, str] = field(default_factory=dict)  # s3 query options

    def open(self) -> Store:
        """A new store for this spec (S3 clients are created on first use)."""
        if self.scheme == "memory":
            from synaptic_s3.store.memory import InMemoryStore

            return InMemoryStore()
        if self.scheme == "file":
            from synaptic_s3.store.file import FileStore

            assert self.path is not None
            return FileStore(self.path)
        from synaptic_s3.store.s3 import S3Store

        assert self.bucket is not None
        sse = self.options.get("sse")
        return S3Store(
            self.bucket,
            prefix=self.prefix,
            endpoint_url=self.options.get("endpoint_url"),
            region_name=self.options.get("region"),
            sse=sse,  # type: ignore[arg-type]  # checked in parse_store_url
            sse_kms_key_id=self.options.get("kms_key_id"),
            **{name: kind(self.options[name])
               for name, (kind, _) in _NUMERIC_OPTIONS.items() if name in self.options},
        )

    def to_url(self) -> str:
        """The URL that parses back to this spec."""
        if self.scheme == "memory":
            return "memory://"
        if self.scheme == "file":
            return f"file://{self.path}"
        from urllib.parse import urlencode

        query = urlencode(self.options)
        return f"s3://{self.bucket}/{self.prefix}" + (f"?{query}" if query else "")

    def display(self) -> str:
        """A short human description (no secrets are ever part of a spec)."""
        if self.scheme == "memory":
            return "memory:// (in this process only)"
        if self.scheme == "file":
            return f"file://{self.path}"
        where = f"s3://{self.bucket}/{self.prefix}"
        endpoint = self.options.get("endpoint_url")
        return f"{where} at {endpoint}" if endpoint else where


def parse_store_url(url: str) -> StoreSpec:
    """Parse ``url``; raise :class:`StoreURLError` explaining what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise StoreURLError("the store URL is empty")
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StoreURLError(
            f"{url!r} is not a store URL: use memory://, file://PATH or s3://BUCKET/PREFIX"
        )
    parser = _PARSERS.get(scheme.lower())
    if parser is None:
        raise StoreURLError(
            f"unknown store scheme {scheme.lower()!r}: use memory://, file:// or s3://")
    return parser(url, rest)


def _parse_memory(url: str, rest: str) -> StoreSpec:
    if rest.strip("/"):
        raise StoreURLError("memory:// takes no path")
    return StoreSpec("memory")


def _parse_file(url: str, rest: str) -> StoreSpec:
    if not rest:
        raise StoreURLError("file:// needs a directory, e.g. file://.local-data")
    if "?" in rest or "#" in rest:
        raise StoreURLError("file:// URLs take no query or fragment")
    return StoreSpec("file", path=Path(os.path.expanduser(rest)))


def _parse_s3(url: str, rest: str) -> StoreSpec:
    parts = urlsplit(url)
    bucket = parts.netloc
    if not bucket:
        raise StoreURLError("s3:// needs a bucket: s3://BUCKET/PREFIX")
    if "@" in bucket or ":" in bucket:
        raise StoreURLError("put no credentials or port in an s3:// URL; "
                            "use ?endpoint_url=... and the AWS credential chain")
    if parts.fragment:
        raise StoreURLError("s3:// URLs take no fragment")
    options = _s3_query(url, parts.query)
    validate_s3_options(options)
    prefix = parts.path.strip("/")
    if any(segment in (".", "..") for segment in prefix.split("/")):
        raise StoreURLError("the S3 prefix may not contain '.' or '..' segments")
    return StoreSpec("s3", bucket=bucket, prefix=prefix, options=options)


def _s3_query(url: str, query_text: str) -> dict[str, str]:
    """The known options of an s3:// query, each given exactly once."""
    try:
        query = parse_qs(query_text, keep_blank_values=True, strict_parsing=bool(query_text))
    except ValueError as exc:
        raise StoreURLError(f"cannot parse the query of {url!r}: {exc}") from None
    unknown = sorted(set(query) - _S3_OPTIONS)
    if unknown:
        raise StoreURLError(f"unknown s3:// option(s) {', '.join(unknown)} "
                            f"(known: {', '.join(sorted(_S3_OPTIONS))})")
    options: dict[str, str] = {}
    for name, values in query.items():
        if len(values) != 1 or not values[0]:
            raise StoreURLError(f"s3:// option {name!r} needs exactly one non-empty value")
        options[name] = values[0]
    return options


_PARSERS: dict[str, Callable[[str, str], StoreSpec]] = {
    "memory": _parse_memory,
    "file": _parse_file,
    "s3": _parse_s3,
}
"""One parser per scheme: ``(whole URL, text after "://") -> StoreSpec``."""


def validate_s3_options(options: Mapping[str, str]) -> None:
    """Check S3 store options (from a URL query or the environment) before any I/O."""
    for name, (kind, smallest) in _NUMERIC_OPTIONS.items():
        if name in options:
            try:
                number = kind(options[name])
            except ValueError:
                raise StoreURLError(f"{name} must be a number, not {options[name]!r}") from None
            if not smallest <= number < 10_000:
                raise StoreURLError(f"{name} must be between {smallest} and 10000")
    if options.get("sse") not in (None, "AES256", "aws:kms"):
        raise StoreURLError("sse must be AES256 or aws:kms")
    if "kms_key_id" in options and options.get("sse") != "aws:kms":
        raise StoreURLError("kms_key_id needs sse=aws:kms")
    endpoint = options.get("endpoint_url")
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise StoreURLError("endpoint_url must be an http:// or https:// URL")
