#!/usr/bin/env bash
# Install what the ledger needs into .venv (idempotent). With --test also what the test suite
# needs: test Python packages, Debian packages (PostgreSQL server, kcat, Chromium, Go for
# tests/deploy's schema downloads), the Kafka broker jars (Maven) and the AsyncAPI parser (npm).
# With --lint also the linters (ruff, mypy) at the versions pinned in pyproject.toml's test
# extra, and nothing else of it.
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"
PYTHON="${PYTHON:-python3}"
WITH_TESTS=0
WITH_LINT=0
[[ "${1:-}" == "--test" ]] && WITH_TESTS=1
[[ "${1:-}" == "--lint" ]] && WITH_LINT=1

say() { printf '[install] %s\n' "$*" >&2; }

if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$WITH_TESTS"
if [[ ! -f "$stamp" ]]; then
    say "installing Python packages (pinned in pyproject.toml)"
    .venv/bin/python -m pip install -q --upgrade pip
    # setuptools' editable install always emits an InformationOnly "Editable installation."
    # warning (folders named like the packages may take precedence: ledger.ownership checks
    # that at start-up); ignored by its message for this call only, every other warning shows.
    if [[ $WITH_TESTS -eq 1 ]]; then
        PYTHONWARNINGS="ignore:Editable installation:UserWarning" .venv/bin/python -m pip install -q -e '.[test]'
    else
        PYTHONWARNINGS="ignore:Editable installation:UserWarning" .venv/bin/python -m pip install -q -e .
    fi
    touch "$stamp"
fi

# The web app's assets (NL Design System CSS, Chart.js, Swagger UI; axe-core for its tests),
# pinned in ledger/web/assets/package-lock.json and served by the app: also for `make demo`.
if [[ $WITH_LINT -eq 0 ]] && command -v npm >/dev/null 2>&1; then
    web_stamp="ledger/web/assets/node_modules/.installed-$(sha256sum ledger/web/assets/package-lock.json | cut -c1-16)"
    if [[ ! -f "$web_stamp" ]]; then
        say "installing the web app's assets (npm, pinned in ledger/web/assets/package-lock.json)"
        (cd ledger/web/assets && npm ci --no-audit --no-fund --silent >/dev/null)
        touch "$web_stamp"
    fi
fi

if [[ $WITH_LINT -eq 1 ]]; then
    lint_pins=$(.venv/bin/python scripts/lint_pins.py)
    if ! .venv/bin/python scripts/lint_pins.py --installed; then
        say "installing the linters (pinned in pyproject.toml): $lint_pins"
        # shellcheck disable=SC2086  # one argument per pin
        .venv/bin/python -m pip install -q $lint_pins
    fi
    exit 0
fi

[[ $WITH_TESTS -eq 1 ]] || exit 0

need_apt=()
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v kcat >/dev/null 2>&1 || need_apt+=(kcat)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v mvn >/dev/null 2>&1 || need_apt+=(maven)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# tests/deploy fetch CRD and compose schemas with `go mod download` (Go modules) and `mvn` (Maven).
command -v go >/dev/null 2>&1 || [[ -x /usr/local/go/bin/go ]] || need_apt+=(golang-go)
if [[ ${#need_apt[@]} -gt 0 ]]; then
    say "installing Debian packages: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

say "fetching the Kafka broker jars (cached in .cache/kafka-libs)"
bash deploy/kafka.sh fetch >/dev/null

if [[ -f deploy/asyncapi/package.json ]]; then
    say "installing the AsyncAPI parser (npm, pinned in deploy/asyncapi/package.json)"
    (cd deploy/asyncapi && npm install --no-audit --no-fund --silent >/dev/null)
fi
