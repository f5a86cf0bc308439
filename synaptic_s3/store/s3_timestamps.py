"""A faster timestamp parser for the S3 client, registered the way botocore provides.

botocore parses every timestamp of a response with ``dateutil`` (about 80-180 us
each on a Lambda-class CPU): a 1,000-key ListObjectsV2 page spends most of its
client time on its 1,000 ``LastModified`` values. botocore lets a session replace
that parser (``ResponseParserFactory.set_parser_defaults(timestamp_parser=...)``,
reached through the session's ``response_parser_factory`` component), which is what
:func:`install` does.

The replacement handles the two forms S3 sends, and hands anything else to
botocore's own parser, so it never parses less than botocore does:

* ISO 8601 in XML bodies (``2024-05-01T12:34:56.000Z``): ``datetime.fromisoformat``;
* RFC 7231 in headers (``Wed, 01 May 2024 12:34:56 GMT``): ``email.utils``.

Values are timezone-aware UTC datetimes equal to botocore's (the test compares them
on every form). A small cache helps listings: S3 stores ``LastModified`` to the
second, so objects written in the same second share one string.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.utils import parse_timestamp as botocore_parse_timestamp


@functools.lru_cache(maxsize=2048)
def parse_timestamp(value: Any) -> datetime:
    """S3's two timestamp forms as timezone-aware UTC datetimes; anything else exactly
    as botocore's own parser returns it."""
    parsed: datetime | None = None
    if isinstance(value, str) and value[10:11] == "T":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
    elif isinstance(value, str) and value.endswith(" GMT"):
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        found: datetime = botocore_parse_timestamp(value)
        return found
    return parsed.astimezone(UTC)


def install(botocore_session: Any) -> None:
    """Make every client of ``botocore_session`` (an aiobotocore ``AioSession``) parse
    timestamps with :func:`parse_timestamp`."""
    factory = botocore_session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)
