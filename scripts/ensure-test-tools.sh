#!/usr/bin/env bash
# Makes sure the system tools some tests need are installed, from Debian's packages.
# Each argument is PACKAGE or PACKAGE:BINARY (the binary to look for, when its name differs,
# e.g. chromium-driver:chromedriver). A package is installed only when its binary is missing
# from PATH and we are root (CI runs `make test` as root on a fresh Debian machine); elsewhere
# the script only says what is missing, and the tests that need it skip with that reason.
# Idempotent: nothing is downloaded when everything is already there. Never fails the
# build: when apt-get fails, the tests needing the tool skip with a reason saying so.
#
# Usage: scripts/ensure-test-tools.sh spin gcc chromium chromium-driver:chromedriver
set -uo pipefail

missing=()
for spec in "$@"; do
    package=${spec%%:*}
    binary=${spec#*:}
    if ! command -v "$binary" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "ensure-test-tools: all present ($*)"
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-test-tools: missing ${missing[*]}; not root or no apt-get, so not installing" \
         "(install them, or the tests that need them skip)" >&2
    exit 0
fi
echo "ensure-test-tools: installing ${missing[*]} (apt-get update, then install)"
export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt (another install in progress) instead of failing at once.
APT=(apt-get -q -o DPkg::Lock::Timeout=600)
if "${APT[@]}" update && "${APT[@]}" install -y --no-install-recommends "${missing[@]}"; then
    echo "ensure-test-tools: installed ${missing[*]}"
else
    echo "ensure-test-tools: apt-get failed: the tests needing ${missing[*]} will skip" >&2
fi
