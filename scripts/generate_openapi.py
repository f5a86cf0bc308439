#!/usr/bin/env python3
"""Regenerate docs/openapi.json from the code (``--check`` only compares).

Same as ``python -m synaptic_s3.service.openapi --write``.
"""

import sys

from synaptic_s3.service.openapi import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["--write"]))
