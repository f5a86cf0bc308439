"""The HTTP service over the session library: request models, error mapping, cursors,
per-user isolation and the Powertools resolver that the Lambda handler and the local
server (``synaptic-s3 serve``) both run.

Nothing here is imported by the library itself; ``synaptic_s3.service.store_url`` is
the one exception the command line uses without the service extra.
"""
