"""Lifecycle routes of a session (fork, lease, prune): their own router, so that they
arrive without touching the other resources' modules. Empty until they land."""

from __future__ import annotations

from synaptic_s3.service.routing import ServiceRouter

router = ServiceRouter()
