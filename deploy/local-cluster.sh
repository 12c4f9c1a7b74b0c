#!/usr/bin/env bash
# The ledger's production topology (deploy/compose/docker-compose.yml) as processes on this machine,
# without containers: a three-node KRaft Kafka (deploy/kafka.sh's cluster mode, SASL/SCRAM and ACLs),
# PostgreSQL (deploy/postgres.sh), `ledger kafka init` with the contract's principals, the IMG and
# NCG witnesses, the relay, the intake, two `consume` in one group and two `serve` replicas. The roles
# read the same deploy/topology/*.env as the compose file; only what depends on the host (loopback
# ports, file paths) is set here. Everything listens on 127.0.0.1, on ports of its own (not those of
# the tests' servers), with its state under one folder; it stops only what it started: the PIDs it
# recorded (each role is the leader of its own process group, stopped as a group).
#
#   deploy/local-cluster.sh up             start whatever is not running, wait until every port
#                                          answers (idempotent); print the operator's environment
#   deploy/local-cluster.sh down           stop the roles (TERM, then KILL after a grace period),
#                                          the brokers and PostgreSQL: only the recorded PIDs
#   deploy/local-cluster.sh status         one line per process: name, pid, port, alive|dead;
#                                          exit 0 when everything runs, else 3
#   deploy/local-cluster.sh env            the operator's exports (LEDGER_STORE, LEDGER_KAFKA, the
#                                          Kafka super user and its password file)
#   deploy/local-cluster.sh roles          the roles' names, one a line (as in the compose file)
#   deploy/local-cluster.sh start ROLE     start one role that is not running (a supervisor's restart)
#   deploy/local-cluster.sh kill ROLE      kill -9 one role's process group (soak tests)
#   deploy/local-cluster.sh kill-broker N  kill -9 Kafka node N (1..3); its data is kept
#   deploy/local-cluster.sh start-broker N start node N again on its data, wait until it is back
#   deploy/local-cluster.sh clean          remove the state folder (refused while anything runs)
#   deploy/local-cluster.sh --help         this text
#
# Environment:
#   LEDGER_CLUSTER_DIR            state folder (default <repo>/.cache/local-cluster): secrets/ (made
#                                 by deploy/compose/secrets.sh), deploy/ (Kafka, PostgreSQL), run/
#                                 (PID files), logs/, roles/ (each role's LEDGER_HOME)
#   LEDGER_CLUSTER_PORT_BASE      ports are this + an offset (default 27000): PostgreSQL +432,
#                                 Kafka nodes +92/+192/+292 (controllers +1), witnesses +380/+381,
#                                 serve +800/+801, ops ports +464..+471 (relay, intake, consume-1,
#                                 consume-2, serve-1, serve-2, witness-img, witness-ncg)
#   LEDGER_CLUSTER_ENV            an env file read after deploy/topology/ (overrides, e.g. a test's
#                                 checkpoint cadence)
#   LEDGER_CLUSTER_START_TIMEOUT  seconds to wait for the roles' ports (default 180)
#   LEDGER_CLUSTER_STOP_TIMEOUT   seconds between TERM and KILL on down (default 20)
#   LEDGER_BIN                    the ledger command (default <repo>/.venv/bin/ledger, else `ledger`)
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOPOLOGY="$REPO_DIR/deploy/topology"
STATE="$(realpath -m "${LEDGER_CLUSTER_DIR:-$REPO_DIR/.cache/local-cluster}")"
BASE="${LEDGER_CLUSTER_PORT_BASE:-27000}"
EXTRA_ENV="${LEDGER_CLUSTER_ENV:-}"
START_TIMEOUT="${LEDGER_CLUSTER_START_TIMEOUT:-180}"
STOP_TIMEOUT="${LEDGER_CLUSTER_STOP_TIMEOUT:-20}"
HOST=127.0.0.1
SECRETS="$STATE/secrets"
DEPLOY_STATE="$STATE/deploy"
RUN="$STATE/run"
LOGS="$STATE/logs"
ORIGIN=groningen-ledger
# The roles, in start order (the compose file's services running the ledger, but kafka-init).
ROLES=(witness-img witness-ncg relay intake consume-1 consume-2 serve-1 serve-2)

if [[ -n "${LEDGER_BIN:-}" ]]; then
    LEDGER="$LEDGER_BIN"
elif [[ -x "$REPO_DIR/.venv/bin/ledger" ]]; then
    LEDGER="$REPO_DIR/.venv/bin/ledger"
else
    LEDGER="$(command -v ledger || true)"
fi
PYTHON="$(dirname "$LEDGER")/python"
[[ -x "$PYTHON" ]] || PYTHON=python3

[[ "$BASE" =~ ^[0-9]+$ ]] && ((BASE >= 1024 && BASE + 900 < 32768)) \
    || { printf 'local-cluster.sh: error: LEDGER_CLUSTER_PORT_BASE=%s: use 1024..31867 (below the ephemeral range)\n' "$BASE" >&2; exit 2; }
PG_PORT=$((BASE + 432))
KAFKA_PORT=$((BASE + 92))
STORE_URL="postgresql://ledger@$HOST:$PG_PORT/ledger"
BOOTSTRAP="$HOST:$KAFKA_PORT,$HOST:$((KAFKA_PORT + 100)),$HOST:$((KAFKA_PORT + 200))"
ADMIN_PASSWORD_FILE="$DEPLOY_STATE/kafka/credentials/admin"

log() { printf 'local-cluster.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit "${1:-2}"
}

# The environment of deploy/kafka.sh and deploy/postgres.sh for this cluster's own servers.
servers_env() {
    env LEDGER_DEPLOY_DIR="$DEPLOY_STATE" LEDGER_KAFKA_CLUSTER_PORT="$KAFKA_PORT" LEDGER_PG_PORT="$PG_PORT" \
        LEDGER_PYTHON="$PYTHON" LEDGER_KAFKA_CLUSTER_KEEP=1 "$@"
}
kafka_sh() { servers_env bash "$REPO_DIR/deploy/kafka.sh" "$@"; }
postgres_sh() { servers_env bash "$REPO_DIR/deploy/postgres.sh" "$@"; }

# One at a time changes this cluster's state (fd 8 is closed for every child that outlives us).
take_lock() {
    mkdir -p "$STATE"
    exec 8>"$STATE/.lock"
    flock -w 900 8 || die "could not lock $STATE/.lock"
}

# --- the roles ------------------------------------------------------------------------------

# role_spec NAME: sets KIND (the compose role), PORT (the role's own listener, or empty), OPS, ARGS.
role_spec() {
    PORT=""
    case "$1" in
        witness-img | witness-ncg)
            local org="${1#witness-}" index=0
            [[ "$org" == ncg ]] && index=1
            KIND=witness PORT=$((BASE + 380 + index)) OPS=$((BASE + 470 + index))
            ARGS=(witness --key "$SECRETS/keys/$org-witness.key" --log-key "$SECRETS/keys/$ORIGIN.vkey"
                --host "$HOST" --port "$PORT" --state "$STATE/roles/$1/witness-state")
            ;;
        relay) KIND=relay OPS=$((BASE + 464)) ARGS=(relay) ;;
        intake) KIND=intake OPS=$((BASE + 465)) ARGS=(intake --instance-id intake-1) ;;
        consume-1 | consume-2)
            KIND=consume OPS=$((BASE + 465 + ${1#consume-})) ARGS=(consume --instance-id "$1")
            ;;
        serve-1 | serve-2)
            local n="${1#serve-}"
            KIND=serve PORT=$((BASE + 799 + n)) OPS=$((BASE + 467 + n))
            # One worker per replica (the compose file's default is one per core, at most two).
            ARGS=(serve --host "$HOST" --port "$PORT" --workers 1)
            ;;
        *) die "unknown role '$1' (roles: ${ROLES[*]})" ;;
    esac
}

# role_environment NAME: in a subshell, replace every LEDGER_ variable by the role's settings: the
# topology's files (as compose's env_file), $LEDGER_CLUSTER_ENV, then this host's paths and ports.
role_environment() {
    local name
    role_spec "$1"
    for name in $(compgen -e); do
        [[ "$name" == LEDGER_* ]] && unset "$name"
    done
    set -a
    if [[ "$KIND" != witness ]]; then
        # shellcheck source=/dev/null
        source "$TOPOLOGY/common.env"
        # shellcheck source=/dev/null
        source "$TOPOLOGY/$KIND.env"
    fi
    if [[ -n "$EXTRA_ENV" ]]; then
        # shellcheck source=/dev/null
        source "$EXTRA_ENV"
    fi
    set +a
    export LEDGER_HOME="$STATE/roles/$1" LEDGER_OPS_PORT="$OPS" LEDGER_OPS_HOST="$HOST" PYTHONUNBUFFERED=1
    export LOCAL_CLUSTER_ROLE="$STATE/$1" # what a recorded PID must carry (a recycled PID does not)
    if [[ "$KIND" != witness ]]; then
        export LEDGER_STORE="$STORE_URL" LEDGER_KAFKA="$BOOTSTRAP"
        export LEDGER_KAFKA_PASSWORD_FILE="$SECRETS/kafka/${LEDGER_KAFKA_USER:?$KIND.env sets no LEDGER_KAFKA_USER}"
        export LEDGER_TRUST="$SECRETS/keys/trust.txt"
    fi
    if [[ "$KIND" == relay ]]; then
        export LEDGER_SIGNING_KEY="$SECRETS/keys/$ORIGIN.key"
        export LEDGER_WITNESSES="http://$HOST:$((BASE + 380)),http://$HOST:$((BASE + 381))"
    fi
    if [[ "$KIND" == serve ]]; then
        export LEDGER_ISSUER_JWKS="$SECRETS/issuer/issuer.jwks.json"
    fi
}

# running PID: the process exists and is not a zombie.
running() {
    local stat
    stat="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [[ -n "$stat" && "$stat" != Z* ]]
}

# role_pid NAME: the recorded PID of the role if that process still runs as this cluster's role.
role_pid() {
    local pid
    [[ -f "$RUN/$1.pid" ]] || return 1
    pid="$(cat "$RUN/$1.pid" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" || return 1
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "LOCAL_CLUSTER_ROLE=$STATE/$1" || return 1
    printf '%s\n' "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

start_role() {
    local name="$1" pid port
    if pid="$(role_pid "$name")"; then
        log "$name already running (pid $pid)"
        return 0
    fi
    role_spec "$name"
    for port in $PORT $OPS; do
        port_open "$port" && die "port $HOST:$port ($name) is in use by another process (see LEDGER_CLUSTER_PORT_BASE)"
    done
    mkdir -p "$RUN" "$LOGS" "$STATE/roles/$name"
    printf '\n===== start %s =====\n' "$(date -u +%FT%TZ)" >>"$LOGS/$name.log"
    # setsid: the role leads a process group of its own (its relay workers included), outlives this
    # script and is stopped only through its recorded PID.
    (
        role_environment "$name"
        cd "$STATE/roles/$name"
        exec setsid "$LEDGER" "${ARGS[@]}" </dev/null >>"$LOGS/$name.log" 2>&1 8>&-
    ) &
    pid=$!
    printf '%s\n' "$pid" >"$RUN/$name.pid"
    # Until the subshell has become the role (exec'd, with the marker in its environment).
    local deadline=$((SECONDS + 30))
    until role_pid "$name" >/dev/null; do
        running "$pid" || { tail -n 30 "$LOGS/$name.log" >&2; die "$name exited at once (pid $pid)"; }
        ((SECONDS < deadline)) || die "$name (pid $pid) did not start within 30 s"
        sleep 0.05
    done
    log "started $name (pid $pid, ${PORT:+port $PORT, }ops port $OPS, log $LOGS/$name.log)"
}

# wait_roles NAME...: until each role's ports accept connections; fail at once when one exits.
wait_roles() {
    local name port deadline=$((SECONDS + START_TIMEOUT)) pending
    while :; do
        pending=()
        for name in "$@"; do
            role_pid "$name" >/dev/null || { tail -n 30 "$LOGS/$name.log" >&2; die "$name exited during start-up"; }
            role_spec "$name"
            for port in $PORT $OPS; do
                port_open "$port" || { pending+=("$name"); break; }
            done
        done
        ((${#pending[@]} == 0)) && return 0
        ((SECONDS >= deadline)) && die "not answering after ${START_TIMEOUT}s: ${pending[*]} (logs in $LOGS)"
        sleep 0.3
    done
}

# stop_group PID...: TERM each process group, wait up to STOP_TIMEOUT, then KILL what is left.
stop_groups() {
    local pid deadline left
    (($# == 0)) && return 0
    for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    deadline=$((SECONDS + STOP_TIMEOUT))
    while :; do
        left=()
        for pid in "$@"; do pgrep -g "$pid" >/dev/null && left+=("$pid"); done
        ((${#left[@]} == 0)) && return 0
        ((SECONDS >= deadline)) && break
        sleep 0.2
    done
    log "still running after ${STOP_TIMEOUT}s, sending KILL to the process groups ${left[*]}"
    for pid in "${left[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait_groups_gone "${left[@]}"
}

wait_groups_gone() {
    local pid deadline=$((SECONDS + 15))
    for pid in "$@"; do
        while pgrep -g "$pid" >/dev/null; do
            ((SECONDS < deadline)) || die "process group $pid survived SIGKILL"
            sleep 0.05
        done
    done
}

# --- commands -------------------------------------------------------------------------------

print_env() {
    printf 'export LEDGER_STORE=%s\n' "$STORE_URL"
    printf 'export LEDGER_KAFKA=%s\n' "$BOOTSTRAP"
    printf 'export LEDGER_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT\n'
    printf 'export LEDGER_KAFKA_USER=admin\n'
    printf 'export LEDGER_KAFKA_PASSWORD_FILE=%s\n' "$ADMIN_PASSWORD_FILE"
    printf 'export LEDGER_CLUSTER_SECRETS=%s\n' "$SECRETS"
    printf 'export LEDGER_CLUSTER_SERVE=http://%s:%s,http://%s:%s\n' "$HOST" $((BASE + 800)) "$HOST" $((BASE + 801))
}

# An operator's one-shot `ledger` command on this cluster (as the Kafka super user).
operator() {
    (
        for name in $(compgen -e); do [[ "$name" == LEDGER_* ]] && unset "$name"; done
        set -a
        # shellcheck source=/dev/null
        source "$TOPOLOGY/common.env"
        set +a
        export LEDGER_HOME="$STATE/roles/operator" LEDGER_STORE="$STORE_URL" LEDGER_KAFKA="$BOOTSTRAP" \
            LEDGER_KAFKA_USER=admin LEDGER_KAFKA_PASSWORD_FILE="$ADMIN_PASSWORD_FILE"
        mkdir -p "$LEDGER_HOME"
        "$LEDGER" "$@" 8>&-
    )
}

cmd_up() {
    local name
    [[ -x "$LEDGER" ]] || die "no ledger command (set LEDGER_BIN, or run scripts/install.sh)"
    take_lock
    mkdir -p "$RUN" "$LOGS"
    LEDGER_COMPOSE_SECRETS="$SECRETS" LEDGER_BIN="$LEDGER" bash "$REPO_DIR/deploy/compose/secrets.sh" 8>&- 2>"$LOGS/secrets.log" \
        || die "deploy/compose/secrets.sh failed"
    postgres_sh start >/dev/null 8>&- || die "PostgreSQL did not start (deploy/postgres.sh, port $PG_PORT)"
    kafka_sh start-cluster >/dev/null 8>&- || die "Kafka did not start (deploy/kafka.sh start-cluster, port $KAFKA_PORT)"
    # The topics, the principals' SCRAM credentials and the ACLs (idempotent, as compose's kafka-init;
    # it waits for brokers that have not yet seen topics just created: consumers.clients.topic_configs).
    operator kafka init --credentials "$SECRETS/kafka" >"$LOGS/kafka-init.log" 2>&1 \
        || { tail -n 20 "$LOGS/kafka-init.log" >&2; die "ledger kafka init failed"; }
    # The store's tables, once, before several roles open it at the same moment.
    if [[ ! -f "$STATE/store.ready" ]]; then
        operator verify >/dev/null 2>"$LOGS/store-init.log" || { cat "$LOGS/store-init.log" >&2; die "the store cannot be opened"; }
        : >"$STATE/store.ready"
    fi
    for name in witness-img witness-ncg; do start_role "$name"; done
    wait_roles witness-img witness-ncg
    for name in "${ROLES[@]:2}"; do start_role "$name"; done
    wait_roles "${ROLES[@]}"
    log "up: ${#ROLES[@]} roles, 3 Kafka nodes, PostgreSQL (state in $STATE)"
    print_env
}

cmd_down() {
    local name pid pids=()
    take_lock
    for name in "${ROLES[@]}"; do
        if pid="$(role_pid "$name")"; then pids+=("$pid"); fi
    done
    if ((${#pids[@]} > 0)); then
        log "stopping the roles (process groups ${pids[*]})"
        stop_groups "${pids[@]}"
    else
        log "no role running"
    fi
    rm -f "$RUN"/*.pid
    kafka_sh stop-cluster 8>&- || die "deploy/kafka.sh stop-cluster failed"
    postgres_sh stop 8>&- || die "deploy/postgres.sh stop failed"
}

cmd_status() {
    local name pid n up=0 total=0 out
    printf '%-12s %-8s %-12s %s\n' NAME PID PORT STATE
    out="$(postgres_sh status 2>&1 >/dev/null || true)"
    total=$((total + 1))
    if [[ "$out" =~ running\ \(pid\ ([0-9]+) ]]; then
        printf '%-12s %-8s %-12s %s\n' postgres "${BASH_REMATCH[1]}" "$PG_PORT" alive
        up=$((up + 1))
    else
        printf '%-12s %-8s %-12s %s\n' postgres - "$PG_PORT" dead
    fi
    out="$(kafka_sh status-cluster 2>&1 >/dev/null || true)"
    for n in 1 2 3; do
        total=$((total + 1))
        if [[ "$out" =~ node\ $n\ running\ \(pid\ ([0-9]+) ]]; then
            pid="${BASH_REMATCH[1]}"
            printf '%-12s %-8s %-12s %s\n' "kafka-$n" "$pid" $((KAFKA_PORT + 100 * (n - 1))) alive
            up=$((up + 1))
        else
            printf '%-12s %-8s %-12s %s\n' "kafka-$n" - $((KAFKA_PORT + 100 * (n - 1))) dead
        fi
    done
    for name in "${ROLES[@]}"; do
        total=$((total + 1))
        role_spec "$name"
        if pid="$(role_pid "$name")"; then
            printf '%-12s %-8s %-12s %s\n' "$name" "$pid" "${PORT:+$PORT,}$OPS" alive
            up=$((up + 1))
        else
            printf '%-12s %-8s %-12s %s\n' "$name" - "${PORT:+$PORT,}$OPS" dead
        fi
    done
    ((up == total)) && return 0
    return 3
}

cmd_kill() {
    local name="${1:-}" pid
    [[ -n "$name" ]] || die "kill needs a role (roles: ${ROLES[*]})"
    role_spec "$name"
    pid="$(role_pid "$name")" || die "$name is not running"
    kill -KILL -- "-$pid"
    wait_groups_gone "$pid"
    rm -f "$RUN/$name.pid"
    log "kill -9 $name (process group $pid)"
}

cmd_clean() {
    local name
    take_lock
    for name in "${ROLES[@]}"; do
        role_pid "$name" >/dev/null && die "$name still running; run down first"
    done
    kafka_sh clean-cluster 8>&- || die "a Kafka node still runs; run down first"
    postgres_sh clean 8>&- || die "PostgreSQL still runs; run down first"
    rm -rf "$STATE"
    log "removed $STATE"
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) print_env ;;
    roles) printf '%s\n' "${ROLES[@]}" ;;
    start)
        [[ -n "${2:-}" ]] || die "start needs a role (roles: ${ROLES[*]})"
        role_spec "$2"
        take_lock
        start_role "$2"
        wait_roles "$2"
        ;;
    kill) cmd_kill "${2:-}" ;;
    kill-broker) kafka_sh kill-node "${2:-}" ;;
    start-broker) kafka_sh start-node "${2:-}" >/dev/null ;;
    clean) cmd_clean ;;
    -h | --help | help) usage 0 ;;
    *) usage ;;
esac
