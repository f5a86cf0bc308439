#!/usr/bin/env bash
# Smoke test of the Lambda artifact: build it with the same Makefile `sam build` runs, but
# for THIS machine's platform (the deployed one is arm64), then import it with a CPython of
# the runtime's version that sees nothing but the artifact, and send it HTTP API events
# against a local S3 (moto). See infra/smoke.py.
#
# Usage: infra/smoke.sh     Needs: .venv (make install), infra/install-tools.sh sam
#                           (its Python 3.13 runs the artifact), network to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
SAM_VENV=${INFRA_VENV_DIR:-$PWD/.venv-infra}/sam
[[ -x "$SAM_VENV/bin/python" ]] || infra/install-tools.sh sam

version=$(make -s --no-print-directory -f infra/lambda/Makefile show-config \
          | sed -n 's/^LAMBDA_PYTHON_VERSION=//p')
lambda_python="$SAM_VENV/bin/python"
if [[ "$("$lambda_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$version" ]]
then
    echo "smoke: $lambda_python is not Python $version (the functions' runtime)" >&2
    exit 1
fi

artifact=$(mktemp -d)
trap 'rm -rf "$artifact"' EXIT
make -s --no-print-directory -f infra/lambda/Makefile artifact \
    ARTIFACTS_DIR="$artifact" LAMBDA_PLATFORM="manylinux2014_$(uname -m)" \
    PYTHON="$lambda_python"
.venv/bin/python infra/smoke.py "$artifact" "$lambda_python"
