#!/usr/bin/env bash
# `sam build` without a container: the Makefile in infra/lambda/ (BuildMethod makefile)
# fetches arm64 / CPython 3.13 wheels with pip's --platform options and copies the
# library and the handler from the repository. Output: .aws-sam/build/ (template.yaml
# there points at the built artifacts; `sam deploy` picks it up).
#
# Usage: infra/build.sh [extra sam build options]
# Needs: infra/install-tools.sh sam (run here when the venv is missing), network to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
SAM_VENV=${INFRA_VENV_DIR:-$PWD/.venv-infra}/sam
[[ -x "$SAM_VENV/bin/sam" ]] || infra/install-tools.sh sam

export SAM_CLI_TELEMETRY=0
# The venv's python3 runs pip in the Makefile (any Python with pip would do: the wheels
# are chosen for the target platform, not for this interpreter).
export PATH="$SAM_VENV/bin:$PATH"
exec sam build --template-file template.yaml --build-dir .aws-sam/build "$@"
