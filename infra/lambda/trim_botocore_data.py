"""Shrink the botocore data the S3 client loads at creation (run by infra/lambda/Makefile).

Creating the client parses two large JSON files, gzipped in the wheel: S3's service
model (1.2 MB, 13 ms to inflate and parse here) and the endpoints of every service
(1.2 MB, 24 ms). Both are mostly what the store never reads:

* the service model's ``documentation`` strings, which only botocore's docstrings and
  ``help()`` use (80% of the file): emptied, and the file stored as plain JSON, which
  botocore's loader reads before a ``.gz`` (3 ms);
* the endpoints of the ~400 services other than S3 and STS (the only service data
  the artifact keeps, see KEEP_BOTOCORE_DATA): removed, partitions and their defaults
  kept as they are (0.3 ms).

The client the store creates is the same object either way (infra/smoke.sh runs every
route on the result; benchmarks/init.py measures the client's creation).

Usage: python trim_botocore_data.py BOTOCORE_DATA_DIR SERVICE...
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

DOCUMENTATION = {"documentation", "documentationUrl"}


def _read(path: Path) -> Any:
    """A botocore data file, given its name without ``.gz`` (either form may exist)."""
    if path.exists():
        return json.loads(path.read_bytes())
    return json.loads(gzip.decompress(path.with_name(path.name + ".gz").read_bytes()))


def _write(path: Path, value: Any) -> None:
    path.with_name(path.name + ".gz").unlink(missing_ok=True)
    path.write_text(json.dumps(value, separators=(",", ":")))


def _undocumented(value: Any) -> Any:
    if isinstance(value, dict):
        # emptied, not removed: botocore reads some of them with [] (clientContextParams)
        return {k: "" if k in DOCUMENTATION else _undocumented(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_undocumented(v) for v in value]
    return value


def main(data: Path, services: list[str]) -> None:
    endpoints = _read(data / "endpoints.json")
    for partition in endpoints["partitions"]:
        partition["services"] = {name: service for name, service in
                                 partition["services"].items() if name in services}
    _write(data / "endpoints.json", endpoints)
    for service in services:
        for version in sorted((data / service).iterdir()):
            model = version / "service-2.json"
            _write(model, _undocumented(_read(model)))
    print(f"botocore data: endpoints of {', '.join(services)} only; their service "
          "models without documentation text")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
