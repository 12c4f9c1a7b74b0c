#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, start PostgreSQL and Kafka from deploy/,
# run pytest, and stop exactly the servers this script started.
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"

bash scripts/install.sh --test

started=()
stop_servers() {
    for s in "${started[@]}"; do
        case "$s" in
            postgres) bash deploy/postgres.sh stop >/dev/null 2>&1 || true ;;
            kafka) bash deploy/kafka.sh stop >/dev/null 2>&1 || true ;;
        esac
    done
}
trap stop_servers EXIT

if [[ -z "${LEDGER_TEST_POSTGRES:-}" ]]; then
    LEDGER_TEST_POSTGRES="$(bash deploy/postgres.sh start | tail -n 1)"
    export LEDGER_TEST_POSTGRES
    started+=(postgres)
fi
if [[ -z "${LEDGER_TEST_KAFKA:-}" ]]; then
    LEDGER_TEST_KAFKA="$(LEDGER_PYTHON=.venv/bin/python bash deploy/kafka.sh start | tail -n 1)"
    export LEDGER_TEST_KAFKA
    started+=(kafka)
fi
echo "[test] PostgreSQL: $LEDGER_TEST_POSTGRES  Kafka: $LEDGER_TEST_KAFKA" >&2

.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
