"""AWS Lambda handler of the synaptic-s3 HTTP API (API Gateway HTTP API, payload v2.0).

``handlers.app.handler`` serves every route; the template may deploy it as several
functions, each given a subset of routes. It is configured only by environment
variables (docs/service.md). The wiring lives in the library module
``synaptic_s3.service.lambda_handler`` so that ``synaptic-s3 serve`` runs this very
function object on a laptop.
"""

from synaptic_s3.service.lambda_handler import handler

__all__ = ["handler"]
