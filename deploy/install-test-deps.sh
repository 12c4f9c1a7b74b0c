#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python (idempotent; needs root or sudo).
# Each section installs only what is missing.
set -euo pipefail

apt_install() {
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- chromium: tests/replay render the replay's HTML report in headless Chromium ----------
if ! command -v chromium >/dev/null 2>&1; then
    echo "[install-test-deps] installing chromium (Debian package)" >&2
    apt_install chromium
fi
