#!/usr/bin/env bash
# Installs the deployment tooling into venvs of its own, never into .venv:
#   .venv-infra/sam      aws-sam-cli + cfn-lint   (pyproject extra `infra-sam`)
#   .venv-infra/checkov  checkov                  (pyproject extra `infra-checkov`)
#   .venv-infra/ministack ministack[full]         (pyproject extra `infra-ministack`, only
#                        when asked for: the opt-in end-to-end test)
# They conflict with the project's boto3 pin (aioboto3) and with each other, so each gets
# its own venv, and only the extra's requirement list is installed (not the project).
# Idempotent: a venv is rebuilt only when its requirement list in pyproject.toml changed.
#
# Usage: infra/install-tools.sh [sam|checkov|ministack]...   (default: sam checkov)
# Env:   INFRA_PYTHON  interpreter for the venvs (default: python3.13, else python3.12,
#                      via pyenv when they are not on PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEST=${INFRA_VENV_DIR:-$ROOT/.venv-infra}

find_python() {
    if [[ -n "${INFRA_PYTHON:-}" ]]; then echo "$INFRA_PYTHON"; return; fi
    local version
    for version in 3.13 3.12; do
        if command -v "python$version" >/dev/null 2>&1 \
                && "python$version" -c "" >/dev/null 2>&1; then
            echo "python$version"; return
        fi
        if command -v pyenv >/dev/null 2>&1; then
            local prefix
            prefix=$(pyenv prefix "$(pyenv versions --bare | grep -E "^$version(\.|$)" | tail -1)" \
                     2>/dev/null || true)
            if [[ -n "$prefix" && -x "$prefix/bin/python$version" ]]; then
                echo "$prefix/bin/python$version"; return
            fi
        fi
    done
    echo "infra/install-tools.sh: no python3.13 or python3.12 found (set INFRA_PYTHON)" >&2
    exit 1
}

extra_requirements() {  # the requirement list of one pyproject extra, one per line
    "$PY" - "$1" <<'EOF'
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    extras = tomllib.load(f)["project"]["optional-dependencies"]
print("\n".join(extras[sys.argv[1]]))
EOF
}

install_one() {  # install_one NAME EXTRA
    local name=$1 extra=$2 venv="$DEST/$1"
    local wanted stamp requirements
    wanted=$(extra_requirements "$extra")
    mapfile -t requirements <<< "$wanted"
    stamp="$venv/.requirements"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" && -x "$venv/bin/python" ]]; then
        echo "infra: $venv is up to date"
        return
    fi
    echo "infra: installing [$extra] into $venv"
    rm -rf "$venv"
    "$PY" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "$wanted" > "$stamp"
}

PY=$(find_python)
mkdir -p "$DEST"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(sam checkov)
for target in "${targets[@]}"; do
    case $target in
        sam) install_one sam infra-sam ;;
        checkov) install_one checkov infra-checkov ;;
        ministack) install_one ministack infra-ministack ;;
        *) echo "usage: $0 [sam|checkov|ministack]..." >&2; exit 2 ;;
    esac
done
