#!/usr/bin/env bash
# The benchmark's one command: bash benchmarks/run.sh [--quick] [--endpoints moto,seaweedfs]
# Creates benchmarks/.venv (the peers, matplotlib and pyinstrument live there, never in the
# project's .venv), installs the project into it, then runs python -m benchmarks.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.venv"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "benchmarks need Python >= 3.11 (set PYTHON=...)" >&2
  exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$here/requirements.txt" -nt "$stamp" ] \
    || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  log="$venv/install.log"
  echo "installing the benchmark environment into $venv (log: $log)" >&2
  if ! { "$venv/bin/python" -m pip install --upgrade pip \
         && "$venv/bin/python" -m pip install -e "$root[dev]" -r "$here/requirements.txt"; } \
       >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    exit 1
  fi
  touch "$stamp"
fi
cd "$root"
exec "$venv/bin/python" -m benchmarks "$@"
