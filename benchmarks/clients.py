"""Client settings shared by every peer, so the comparison is about request patterns and
library code, not about transport settings.

They are S3Store's settings for a custom endpoint: path-style addressing, checksums
only when S3 requires them (local servers accept that, and it keeps bodies
comparable), botocore's ``standard`` retries. The Strands peer gets the same through
its documented ``boto_client_config``; the LangGraph peer through its client factory.
"""

from __future__ import annotations

from aiobotocore.config import AioConfig
from botocore.config import Config

_COMMON = {
    "s3": {"addressing_style": "path"},
    "request_checksum_calculation": "when_required",
    "response_checksum_validation": "when_required",
    "retries": {"mode": "standard", "total_max_attempts": 5},
}
POOL = 16


def aio_config() -> AioConfig:
    """For aiobotocore clients (the baseline, the LangGraph peer, raw calls)."""
    return AioConfig(max_pool_connections=POOL, **_COMMON)


def sync_config() -> Config:
    """For boto3 clients (the Strands peer)."""
    return Config(max_pool_connections=POOL, **_COMMON)
