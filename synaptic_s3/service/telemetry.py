"""Logs and metrics of the service: one Powertools ``Logger`` and ``Metrics`` per
container, the one "request" line per event and the EMF metrics that go with it."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from synaptic_s3.service.config import DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME

# Logger reads LOG_LEVEL; both read POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
_SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE_NAME
logger = Logger(service=_SERVICE_NAME)
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
    service=_SERVICE_NAME,
)

METRICS_ON = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").strip().lower() not in (
    "1", "true", "yes", "on")


def log_failure(level: str, code: str, exc: BaseException) -> None:
    """Log an error as loudly as its outcome says; a storage error carries the S3
    request id (when the store knows it) so that AWS support can trace it."""
    extra: dict[str, Any] = {"error_code": code, "error_type": type(exc).__name__}
    s3_request_id = getattr(exc, "request_id", None)
    if isinstance(s3_request_id, str) and s3_request_id:
        extra["s3_request_id"] = s3_request_id
    if level == "exception":
        logger.exception("unhandled error", extra=extra)
    elif level == "error":
        logger.error(f"request failed: {exc}", extra=extra)
    elif level == "warning":
        logger.warning(f"request failed: {exc}", extra=extra)
    else:  # client mistakes: the "request" line already carries the code
        logger.debug(f"client error: {exc}", extra=extra)


def observe(*, operation: str, method: str, path: str, status: int, error_code: str | None,
            started: float, scope: tuple[str, ...]) -> None:
    """The "request" log line and the per-operation metrics of one event."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    extra: dict[str, Any] = {"operation": operation, "method": method, "path": path,
                             "status": status, "error_code": error_code,
                             "duration_ms": round(elapsed_ms, 2)}
    if scope:  # the subject's storage prefix (a hash), never the subject itself
        extra["scope"] = "/".join(scope)
    logger.info("request", extra=extra)
    if not METRICS_ON:  # disabled metrics still pile up and flush every 100 values
        return
    with warnings.catch_warnings():  # unflushed metrics (no log_metrics) warn
        warnings.simplefilter("ignore")
        metrics.add_dimension(name="operation", value=operation)
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count,
                       value=1 if 400 <= status < 500 else 0)
    metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count,
                       value=1 if status >= 500 else 0)
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    if error_code:
        metrics.add_metadata(key="error_code", value=error_code)
