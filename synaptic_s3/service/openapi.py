"""The OpenAPI document of the HTTP API, generated from the routes themselves.

    python -m synaptic_s3.service.openapi            # print it
    python -m synaptic_s3.service.openapi --write    # update docs/openapi.json
    python -m synaptic_s3.service.openapi --check    # exit 1 if docs/openapi.json is stale

(``scripts/generate_openapi.py`` does the same.) A test runs the check, so the
committed document always matches the code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def generate() -> str:
    """The document as committed: Powertools' ``get_openapi_json_schema`` output."""
    from synaptic_s3.service.app import ServiceApp

    app = ServiceApp(None, asyncio.Runner(), config_error="generating the OpenAPI document")
    return app.openapi_json() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synaptic_s3.service.openapi",
                                     description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="write the document to --path")
    group.add_argument("--check", action="store_true", help="fail if --path differs")
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH,
                        help=f"the committed document (default {DEFAULT_PATH})")
    args = parser.parse_args(argv)
    document = generate()
    if args.write:
        args.path.write_text(document, encoding="utf-8")
        print(f"wrote {args.path}")
        return 0
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != document:
            print(f"{args.path} is out of date: run python -m synaptic_s3.service.openapi "
                  "--write", file=sys.stderr)
            return 1
        print(f"{args.path} is up to date")
        return 0
    sys.stdout.write(document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
