#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests, on a loopback port.
#
#   deploy/postgres.sh start    initdb (first time), start, wait until ready, create db "ledger",
#                               print the URL (idempotent: a running cluster is left as it is)
#   deploy/postgres.sh stop     stop the cluster this script started (pg_ctl stop -m fast on its
#                               data dir; the postmaster PID comes from its own pid file)
#   deploy/postgres.sh status   exit 0 and print the URL when running, exit 3 otherwise
#   deploy/postgres.sh env      print "export LEDGER_TEST_POSTGRES=<url>"
#   deploy/postgres.sh url      print the URL only
#   deploy/postgres.sh clean    remove the data dir (refused while running)
#
# Environment:
#   LEDGER_DEPLOY_DIR      state folder             (default <repo>/.cache/deploy)
#   LEDGER_PG_PORT         TCP port on 127.0.0.1    (default 25432)
#   LEDGER_PG_USER         superuser name in the URL (default ledger)
#   LEDGER_PG_DATABASE     database created on start (default ledger)
#   LEDGER_PG_OS_USER      OS user that runs postgres when this script runs as root
#                          (default ledgerpg; created with useradd --system if missing)
#   LEDGER_PG_BINDIR       folder holding initdb/pg_ctl/postgres (default: found automatically)
#   LEDGER_PG_START_TIMEOUT seconds to wait for readiness (default 60)
#
# Authentication is "trust" and the server listens on 127.0.0.1 only (no Unix socket): this is
# a throw-away cluster for one machine, never a production setup. fsync stays on.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY_DIR="$(realpath -m "${LEDGER_DEPLOY_DIR:-$REPO_DIR/.cache/deploy}")"
PG_PORT="${LEDGER_PG_PORT:-25432}"
PG_USER="${LEDGER_PG_USER:-ledger}"
PG_DATABASE="${LEDGER_PG_DATABASE:-ledger}"
PG_OS_USER="${LEDGER_PG_OS_USER:-ledgerpg}"
START_TIMEOUT="${LEDGER_PG_START_TIMEOUT:-60}"

# When this runs as root, the cluster belongs to $PG_OS_USER, which must be able to reach the
# data dir through every parent folder. A repository under a private folder (e.g. /root) can't
# be reached: then the cluster lives under /var/tmp, at a path derived from $DEPLOY_DIR.
others_can_reach() {
    local dir="$1"
    while [[ "$dir" != / ]]; do
        if [[ -d "$dir" && "$(stat -c %A "$dir")" != ?????????[xt]* ]]; then
            return 1
        fi
        dir="$(dirname "$dir")"
    done
}
PG_ROOT="$DEPLOY_DIR/postgres"
if [[ "$(id -u)" -eq 0 && "$DEPLOY_DIR" == "$REPO_DIR"/* ]]; then
    # Our own cache folders inside the repository: make them traversable whatever the umask.
    mkdir -p "$DEPLOY_DIR"
    dir="$DEPLOY_DIR"
    while [[ "$dir" == "$REPO_DIR"/* ]]; do
        chmod o+x "$dir"
        dir="$(dirname "$dir")"
    done
fi
if [[ "$(id -u)" -eq 0 ]] && ! others_can_reach "$DEPLOY_DIR"; then
    PG_ROOT="/var/tmp/ledger-postgres-$(printf '%s' "$DEPLOY_DIR" | sha256sum | cut -c1-12)"
fi
PG_DATA="$PG_ROOT/data"
PG_LOG="$PG_ROOT/postgres.log"
PID_FILE="$PG_ROOT/postgres.pid"
PG_HOST=127.0.0.1
URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$PG_DATABASE"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# --- locating the server binaries ------------------------------------------------------------

find_bindir() {
    local candidate dir
    if [[ -n "${LEDGER_PG_BINDIR:-}" ]]; then
        [[ -x "$LEDGER_PG_BINDIR/initdb" ]] || die "LEDGER_PG_BINDIR=$LEDGER_PG_BINDIR has no initdb"
        printf '%s\n' "$LEDGER_PG_BINDIR"
        return 0
    fi
    if candidate="$(command -v initdb 2>/dev/null)"; then
        dir="$(dirname "$(readlink -f "$candidate")")"
        if [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Debian/Ubuntu layout: /usr/lib/postgresql/<major>/bin; take the highest major version.
    candidate="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null \
        | sort -t/ -k5,5n | tail -n 1 || true)"
    if [[ -n "$candidate" ]]; then
        dirname "$candidate"
        return 0
    fi
    return 1
}

ensure_bindir() {
    if PG_BIN="$(find_bindir)"; then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]]; then
        die "PostgreSQL server binaries (initdb) not found; install the 'postgresql' package or set LEDGER_PG_BINDIR"
    fi
    log "initdb not found: installing Debian's postgresql package (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
    PG_BIN="$(find_bindir)" || die "initdb still not found after installing postgresql"
}

# --- running commands as the cluster's OS user -----------------------------------------------

ensure_os_user() {
    [[ "$(id -u)" -eq 0 ]] || return 0
    if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
        log "creating system user $PG_OS_USER (initdb and postgres refuse to run as root)"
        useradd --system --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin --user-group "$PG_OS_USER"
    fi
}

# as_pg CMD ARGS...: run as the cluster owner (root -> $PG_OS_USER; anyone else -> themselves).
# fd 9 (our lock) is closed so that the postmaster does not inherit it.
as_pg() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd "$PG_ROOT" && runuser -u "$PG_OS_USER" -- "$@" 9>&-)
    else
        (cd "$PG_ROOT" && "$@" 9>&-)
    fi
}

# One postgres.sh at a time changes state.
take_lock() {
    mkdir -p "$DEPLOY_DIR"
    exec 9>"$DEPLOY_DIR/.postgres.lock"
    flock -w 300 9 || die "could not lock $DEPLOY_DIR/.postgres.lock"
}

prepare_root_dir() {
    mkdir -p "$PG_ROOT"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$PG_OS_USER:" "$PG_ROOT"
        if [[ -d "$PG_DATA" && "$(stat -c %U "$PG_DATA")" != "$PG_OS_USER" ]]; then
            chown -R "$PG_OS_USER:" "$PG_DATA"
        fi
        # The OS user must be able to reach the folder through every parent.
        if ! runuser -u "$PG_OS_USER" -- test -w "$PG_ROOT"; then
            die "user $PG_OS_USER cannot write $PG_ROOT (a parent folder is not searchable by others?); set LEDGER_DEPLOY_DIR to a folder it can reach"
        fi
    fi
}

# --- state -----------------------------------------------------------------------------------

# The postmaster's PID if the cluster in $PG_DATA runs, else nothing (exit 1).
running_pid() {
    local pid=""
    if [[ -f "$PG_DATA/postmaster.pid" ]]; then
        pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    elif [[ -f "$PID_FILE" ]]; then
        pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    fi
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled PID: the process must be a postgres serving our data dir.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$PG_DATA" || return 1
    printf '%s\n' "$pid"
}

psql_cmd() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if "$PG_BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -t 2; then
            # pg_isready says "accepting"; confirm with a real query as our superuser.
            if psql_cmd -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
                return 0
            fi
        fi
        if ! running_pid >/dev/null; then
            log "postgres exited during start-up; last lines of $PG_LOG:"
            tail -n 30 "$PG_LOG" >&2 || true
            return 1
        fi
        sleep 0.2
    done
    log "postgres not ready after ${START_TIMEOUT}s; last lines of $PG_LOG:"
    tail -n 30 "$PG_LOG" >&2 || true
    return 1
}

port_in_use() {
    (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null
}

# --- commands --------------------------------------------------------------------------------

init_cluster() {
    [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
    log "initdb $PG_DATA (superuser $PG_USER)"
    rm -rf "$PG_DATA"
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" -E UTF8 --no-locale \
        --auth=trust --no-instructions >"$PG_ROOT/initdb.log" 2>&1 \
        || { tail -n 30 "$PG_ROOT/initdb.log" >&2; die "initdb failed"; }
    cat >"$PG_ROOT/pg_hba.conf.new" <<'EOF'
# Written by deploy/postgres.sh: trust, loopback only.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
host    all       all   ::1/128        trust
EOF
    as_pg cp "$PG_ROOT/pg_hba.conf.new" "$PG_DATA/pg_hba.conf"
    rm -f "$PG_ROOT/pg_hba.conf.new"
    # Settings that must hold whatever the port is are written once; port/addresses are passed
    # on the command line at start so LEDGER_PG_PORT can change between runs.
    as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<'EOF'

# --- deploy/postgres.sh ---
fsync = on
synchronous_commit = on
unix_socket_directories = ''
max_connections = 200
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

cmd_start() {
    local pid
    take_lock
    ensure_bindir
    if pid="$(running_pid)"; then
        log "already running (pid $pid)"
        printf '%s\n' "$pid" >"$PID_FILE"
    else
        ensure_os_user
        prepare_root_dir
        init_cluster
        if port_in_use; then
            die "port $PG_HOST:$PG_PORT is already in use by another process (set LEDGER_PG_PORT)"
        fi
        log "starting postgres on $PG_HOST:$PG_PORT (data $PG_DATA, log $PG_LOG)"
        # pg_ctl -w polls postmaster.pid until the server reports "ready" (bounded by -t);
        # wait_ready then polls pg_isready + a real query over TCP, also with a deadline.
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" \
            -o "-c listen_addresses=$PG_HOST -c port=$PG_PORT" start >/dev/null; then
            tail -n 30 "$PG_LOG" >&2 || true
            die "pg_ctl start failed (log $PG_LOG)"
        fi
        wait_ready || die "postgres did not become ready"
        pid="$(running_pid)" || die "postgres is not running after start"
        printf '%s\n' "$pid" >"$PID_FILE"
    fi
    wait_ready || die "postgres is not answering"
    if [[ "$(psql_cmd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" != 1 ]]; then
        psql_cmd -d postgres -c "CREATE DATABASE \"$PG_DATABASE\"" >/dev/null
    fi
    printf '%s\n' "$URL"
}

cmd_stop() {
    local pid deadline
    if ! pid="$(running_pid)"; then
        log "not running"
        rm -f "$PID_FILE"
        return 0
    fi
    take_lock
    ensure_bindir
    log "stopping postgres (pid $pid)"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null; then
        log "pg_ctl stop failed; sending SIGQUIT (immediate shutdown) to pid $pid"
        kill -QUIT "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 15))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then
            log "still alive; SIGKILL pid $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PID_FILE"
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        log "running (pid $pid, data $PG_DATA)"
        printf '%s\n' "$URL"
        return 0
    fi
    log "not running"
    return 3
}

cmd_clean() {
    take_lock
    if running_pid >/dev/null; then
        die "still running; stop it first"
    fi
    rm -rf "$PG_DATA" "$PID_FILE" "$PG_LOG" "$PG_ROOT/initdb.log"
    rmdir "$PG_ROOT" 2>/dev/null || true # when nothing else is left (e.g. under /var/tmp)
    log "removed $PG_DATA"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) printf 'export LEDGER_TEST_POSTGRES=%s\n' "$URL" ;;
    url) printf '%s\n' "$URL" ;;
    clean) cmd_clean ;;
    *) usage ;;
esac
