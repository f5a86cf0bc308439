"""``parse_store_url``, one small parser per scheme: every accepted form and every
refusal with the message that tells the user what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from synaptic_s3.service.store_url import StoreSpec, StoreURLError, parse_store_url


@pytest.mark.parametrize(("url", "spec"), [
    ("memory://", StoreSpec("memory")),
    ("memory:///", StoreSpec("memory")),
    ("MEMORY://", StoreSpec("memory")),
    ("file://.local-data", StoreSpec("file", path=Path(".local-data"))),
    ("file:///srv/data", StoreSpec("file", path=Path("/srv/data"))),
    ("file://~/x", StoreSpec("file", path=Path.home() / "x")),
    ("s3://b", StoreSpec("s3", bucket="b")),
    (" s3://b/p ", StoreSpec("s3", bucket="b", prefix="p")),
    ("S3://B/p", StoreSpec("s3", bucket="B", prefix="p")),
    ("s3://b//p//q/", StoreSpec("s3", bucket="b", prefix="p//q")),
    ("s3://b/p?region=eu-west-1&max_attempts=3&read_timeout=2.5",
     StoreSpec("s3", bucket="b", prefix="p",
               options={"region": "eu-west-1", "max_attempts": "3", "read_timeout": "2.5"})),
    ("s3://b?sse=aws:kms&kms_key_id=alias/k",
     StoreSpec("s3", bucket="b", options={"sse": "aws:kms", "kms_key_id": "alias/k"})),
])
def test_accepted_urls(url: str, spec: StoreSpec) -> None:
    assert parse_store_url(url) == spec


@pytest.mark.parametrize(("url", "message"), [
    ("", "the store URL is empty"),
    ("   ", "the store URL is empty"),
    ("bucket/prefix", "is not a store URL: use memory://, file://PATH or s3://BUCKET/PREFIX"),
    ("ftp://x", "unknown store scheme 'ftp': use memory://, file:// or s3://"),
    ("FTP://x", "unknown store scheme 'ftp'"),
    ("memory://x", "memory:// takes no path"),
    ("file://", "file:// needs a directory, e.g. file://.local-data"),
    ("file://a?b=c", "file:// URLs take no query or fragment"),
    ("file://a#b", "file:// URLs take no query or fragment"),
    ("s3://", "s3:// needs a bucket: s3://BUCKET/PREFIX"),
    ("s3:///prefix", "s3:// needs a bucket"),
    ("s3://user:secret@bucket/p", "put no credentials or port in an s3:// URL"),
    ("s3://b:9000/p", "put no credentials or port in an s3:// URL"),
    ("s3://b/p#frag", "s3:// URLs take no fragment"),
    ("s3://b/p?a", "cannot parse the query of 's3://b/p?a'"),
    ("s3://b/p?unknown=1", "unknown s3:// option(s) unknown (known: connect_timeout, "),
    ("s3://b/p?region=", "s3:// option 'region' needs exactly one non-empty value"),
    ("s3://b/p?region=a&region=b", "option 'region' needs exactly one non-empty value"),
    ("s3://b/../p", "the S3 prefix may not contain '.' or '..' segments"),
    ("s3://b/./p", "the S3 prefix may not contain '.' or '..' segments"),
    ("s3://b/p?sse=rot13", "sse must be AES256 or aws:kms"),
    ("s3://b/p?kms_key_id=k", "kms_key_id needs sse=aws:kms"),
    ("s3://b/p?endpoint_url=file:///etc", "endpoint_url must be an http:// or https:// URL"),
    ("s3://b/p?max_attempts=0", "max_attempts must be between 1 and 10000"),
    ("s3://b/p?max_attempts=x", "max_attempts must be a number, not 'x'"),
    ("s3://b/p?read_timeout=20000", "read_timeout must be between 0.1 and 10000"),
])
def test_refused_urls_say_why(url: str, message: str) -> None:
    with pytest.raises(StoreURLError) as raised:
        parse_store_url(url)
    assert message in str(raised.value)


@pytest.mark.parametrize("url", ["memory://", "file://.local-data", "file:///srv/d",
                                 "s3://b/a/b?endpoint_url=http://127.0.0.1:9000&region=r"])
def test_to_url_parses_back_to_the_same_spec(url: str) -> None:
    spec = parse_store_url(url)
    assert parse_store_url(spec.to_url()) == spec
