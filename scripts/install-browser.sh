#!/usr/bin/env bash
# Headless Chromium for the console's browser tests (tests/console): Debian's own
# chromium + chromium-driver packages, installed only when missing and only as root
# (CI runs as root). Never fails the build: without a browser the browser tests are
# skipped with a reason saying so.
set -uo pipefail
CHROMIUM=${SYNAPTIC_CHROMIUM:-/usr/bin/chromium}
DRIVER=${SYNAPTIC_CHROMEDRIVER:-/usr/bin/chromedriver}

if [ -x "$CHROMIUM" ] && [ -x "$DRIVER" ]; then
    echo "browser: found $CHROMIUM and $DRIVER"
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: chromium/chromedriver missing and cannot apt-get install them here" \
         "(not root, or no apt): the browser tests will be skipped"
    exit 0
fi
echo "browser: installing Debian's chromium and chromium-driver (apt-get, ~1-2 min)..."
export DEBIAN_FRONTEND=noninteractive
if apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver; then
    echo "browser: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
else
    echo "browser: apt-get failed: the browser tests will be skipped"
fi
exit 0
