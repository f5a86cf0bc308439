"""The scheduled sweeper: a Lambda handler that deletes idle sessions.

Configured by environment variables only (template.yaml sets them):

* ``IDLE_DAYS`` -- delete sessions with no write for longer than this many days
  (0 or unset: the handler does nothing);
* ``SWEEP_MAX_SESSIONS`` -- at most this many deletions per run (default 500);
* the store settings of the HTTP handler (``SESSIONS_BUCKET``, ``SESSIONS_PREFIX``,
  ``ISOLATION_MODE``..., see :class:`~synaptic_s3.service.config.ServiceConfig`).

A run takes one census of the bucket (listings only), then deletes idle sessions
one by one, each re-checked right before it goes, until the per-run bound is
reached or less than :data:`SAFETY_MS` of the invocation is left. The next run
finds the rest again: the sweep is resumable without any state of its own, so
its role needs only ``s3:ListBucket`` and ``s3:DeleteObject`` on the prefix.

Metrics (CloudWatch EMF, namespace ``POWERTOOLS_METRICS_NAMESPACE``):
``IdleSessionsDeleted``, ``IdleSessionsKept`` (written during the sweep),
``IdleSessionsRemaining`` (left for the next run).
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from synaptic_s3.service.config import ConfigError, ServiceConfig

DEFAULT_MAX_SESSIONS = 500
SAFETY_MS = 60_000
"""Stop starting deletions when less than this is left of the invocation."""
CONCURRENCY = 8

_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "synaptic-s3"
logger = Logger(service=f"{_SERVICE}-sweeper")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "SynapticS3",
                  service=_SERVICE)


class SweeperConfigError(ConfigError):
    """IDLE_DAYS or SWEEP_MAX_SESSIONS is not a usable number."""


def _int(env: dict[str, str] | os._Environ[str], name: str, default: int, low: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise SweeperConfigError(f"{name} must be an integer, not {raw!r}") from None
    if value < low:
        raise SweeperConfigError(f"{name} must be at least {low}, not {value}")
    return value


async def sweep(env: dict[str, str] | os._Environ[str], remaining_ms: Any, *,
                now: datetime | None = None) -> dict[str, Any]:
    """One run; returns the summary that the handler logs and returns. ``now`` is for
    tests (S3 stamps LastModified itself, so data cannot be made old)."""
    from synaptic_s3.lifecycle.retention import sweep_store

    idle_days = _int(env, "IDLE_DAYS", 0, 0)
    if idle_days == 0:
        return {"enabled": False}
    limit = _int(env, "SWEEP_MAX_SESSIONS", DEFAULT_MAX_SESSIONS, 1)
    config = ServiceConfig.from_env(env)
    async with config.store.open() as store:
        report = await sweep_store(
            store, timedelta(days=idle_days), isolated=config.isolation == "jwt",
            limit=limit, concurrency=CONCURRENCY, now=now,
            keep_going=lambda: remaining_ms() > SAFETY_MS)
    return {"enabled": True, "idle_days": idle_days, "idle": len(report.idle),
            "deleted": len(report.deleted), "kept": len(report.skipped),
            "remaining": report.remaining}


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    remaining = getattr(context, "get_remaining_time_in_millis", None) or (lambda: 10**9)
    summary = asyncio.run(sweep(os.environ, remaining))
    if summary["enabled"]:
        metrics.add_metric("IdleSessionsDeleted", MetricUnit.Count, summary["deleted"])
        metrics.add_metric("IdleSessionsKept", MetricUnit.Count, summary["kept"])
        metrics.add_metric("IdleSessionsRemaining", MetricUnit.Count, summary["remaining"])
    logger.info("sweep finished", extra=summary)
    return summary


handler = logger.inject_lambda_context(clear_state=True)(metrics.log_metrics(_handle))
"""``handler(event, context)``: the sweeper's Lambda entry point (``handlers.sweeper.handler``)."""
