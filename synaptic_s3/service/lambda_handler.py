"""The Lambda entry point: ``handler(event, context)`` for API Gateway HTTP API (v2.0).

Everything a warm container reuses is built once, here, at import: the configuration
(from the environment only), ONE event loop (:class:`asyncio.Runner`), the resolver,
and -- on the first request -- ONE store with ONE S3 client, shared by the managers
of every isolation scope. ``handlers/app.py`` re-exports :func:`handler`, and the
local server (``synaptic-s3 serve``) calls this very function.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from synaptic_s3.service.app import ServiceApp
from synaptic_s3.service.config import ConfigError, ServiceConfig
from synaptic_s3.service.telemetry import METRICS_ON, logger, metrics

runner = asyncio.Runner()
"""The container's one event loop; the S3 client lives on it across invocations."""

try:
    _config: ServiceConfig | None = ServiceConfig.from_env()
    _config_error = None
except ConfigError as exc:  # reported on every request (500 + an error log), not at import
    _config, _config_error = None, str(exc)

app = ServiceApp(_config, runner, config_error=_config_error)

if _config is not None and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # On Lambda only: import botocore and create the S3 client during init (boosted CPU,
    # and snapshotted by SnapStart) rather than in the first request. Elsewhere (tests,
    # `python -X importtime`, the local server) the import stays lean.
    runner.run(app.warm())


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one HTTP API event (every route; see docs/openapi.json)."""
    return app.handle(event, context)


# EMF metrics flushed after every invocation (and ColdStart), unless
# POWERTOOLS_METRICS_DISABLED (the local server) says there are none to flush.
_handler = metrics.log_metrics(capture_cold_start_metric=True)(_handle) if METRICS_ON \
    else _handle
handler = logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP,
                                       clear_state=True)(_handler)
"""``handler(event, context)``: the Lambda entry point (``handlers.app.handler``)."""
