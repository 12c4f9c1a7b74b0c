#!/usr/bin/env bash
# A real Apache Kafka (KRaft) on loopback, from the official jars on Maven Central.
#
# Single node (combined broker + controller):
#   deploy/kafka.sh fetch           copy the broker jars into <repo>/.cache/kafka-libs (once)
#   deploy/kafka.sh start           format (first time), start, wait until the broker answers,
#                                   print the bootstrap servers (idempotent)
#   deploy/kafka.sh stop            TERM the recorded PID, wait, KILL if needed; remove pid file
#   deploy/kafka.sh status          exit 0 and print bootstrap servers when running, else exit 3
#   deploy/kafka.sh env             print the exports for the tests (LEDGER_TEST_KAFKA, the admin's
#                                   password file)
#   deploy/kafka.sh admin-password-file   print the path of the admin's password file
#   deploy/kafka.sh clean           remove the single node's data (refused while running)
#
# Three-node cluster (each node broker + controller, static quorum), for fault tests:
#   deploy/kafka.sh start-cluster   fresh cluster when none of its nodes runs (data wiped and
#                                   formatted with one new cluster id); otherwise starts the
#                                   missing nodes on their existing data. Prints bootstrap servers.
#   deploy/kafka.sh stop-cluster    stop all three nodes (recorded PIDs only)
#   deploy/kafka.sh status-cluster  print each node's state; exit 0 only when all three run
#   deploy/kafka.sh kill-node N     kill -9 node N (1..3) by its recorded PID; data is kept
#   deploy/kafka.sh start-node N    restart node N on its existing data, wait until it is back
#   deploy/kafka.sh env-cluster     print "export LEDGER_TEST_KAFKA_CLUSTER=<bootstrap servers>"
#   deploy/kafka.sh clean-cluster   remove the cluster's data (refused while a node runs)
#
# Environment:
#   LEDGER_DEPLOY_DIR          state folder (default <repo>/.cache/deploy); kafka uses <it>/kafka
#   LEDGER_KAFKA_LIBS          jar cache (default <repo>/.cache/kafka-libs)
#   LEDGER_KAFKA_PORT          single node client port (default 29092; controller = port + 1)
#   LEDGER_KAFKA_CLUSTER_PORT  node 1's client port (default 29192); node N uses
#                              port + 100*(N-1), its controller that + 1
#   LEDGER_KAFKA_START_TIMEOUT seconds to wait for readiness (default 90)
#   LEDGER_KAFKA_STOP_TIMEOUT  seconds between TERM and KILL (default 20)
#   LEDGER_KAFKA_HEAP_OPTS     JVM heap (default "-Xms256m -Xmx512m")
#   LEDGER_KAFKA_CLUSTER_KEEP  1: start-cluster with no node running starts the nodes on their
#                              existing data instead of a fresh cluster (deploy/local-cluster.sh)
#   LEDGER_PYTHON              Python with kafka-python for the readiness probe
#                              (default <repo>/.venv/bin/python, else python3)
#
# Security (contract trust §1): every node listens with SASL_PLAINTEXT on loopback, clients
# authenticate with SCRAM-SHA-512, KRaft's StandardAuthorizer decides with
# allow.everyone.if.no.acl.found=false. The super user `admin` (the brokers among themselves and
# the operator: `ledger kafka init` creates the other principals and their ACLs) gets a random
# password at the first start, kept in <state>/kafka/credentials/admin (mode 0600). The
# controllers talk SASL/PLAIN among themselves with that same secret (SCRAM credentials live in
# the metadata log that the controllers serve, so they cannot authenticate the controllers).
# Data formatted by an older kafka.sh without SASL is refused: run clean / clean-cluster.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY_DIR="$(realpath -m "${LEDGER_DEPLOY_DIR:-$REPO_DIR/.cache/deploy}")"
LIBS_DIR="$(realpath -m "${LEDGER_KAFKA_LIBS:-$REPO_DIR/.cache/kafka-libs}")"
POM="$REPO_DIR/deploy/kafka/pom.xml"
LOG4J_CONFIG="$REPO_DIR/deploy/kafka/log4j2.properties"
KAFKA_ROOT="$DEPLOY_DIR/kafka"
SINGLE_DIR="$KAFKA_ROOT/single"
CLUSTER_DIR="$KAFKA_ROOT/cluster"
CREDENTIALS_DIR="$KAFKA_ROOT/credentials"
ADMIN_PASSWORD_FILE="$CREDENTIALS_DIR/admin"
ADMIN_USER=admin
HOST=127.0.0.1
SINGLE_PORT="${LEDGER_KAFKA_PORT:-29092}"
CLUSTER_PORT="${LEDGER_KAFKA_CLUSTER_PORT:-29192}"
START_TIMEOUT="${LEDGER_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${LEDGER_KAFKA_STOP_TIMEOUT:-20}"
HEAP_OPTS="${LEDGER_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
NODES=(1 2 3)

if [[ -n "${LEDGER_PYTHON:-}" ]]; then
    PYTHON="$LEDGER_PYTHON"
elif [[ -x "$REPO_DIR/.venv/bin/python" ]]; then
    PYTHON="$REPO_DIR/.venv/bin/python"
else
    PYTHON=python3
fi

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

# One kafka.sh at a time changes state (fd 9 is closed for every child that outlives us).
take_lock() {
    mkdir -p "$KAFKA_ROOT"
    exec 9>"$KAFKA_ROOT/.lock"
    flock -w 600 9 || die "could not lock $KAFKA_ROOT/.lock"
}

# --- tools and jars --------------------------------------------------------------------------

ensure_java_maven() {
    local missing=()
    command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    ((${#missing[@]} == 0)) && return 0
    [[ "$(id -u)" -eq 0 ]] || die "missing java/mvn; install: ${missing[*]}"
    log "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
}

pom_digest() { sha256sum "$POM" | cut -d' ' -f1; }

libs_ready() {
    [[ -f "$LIBS_DIR/.fetched" && "$(cat "$LIBS_DIR/.fetched")" == "$(pom_digest)" ]] \
        && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

fetch_libs() {
    local tmp
    if libs_ready; then
        return 0
    fi
    ensure_java_maven
    tmp="$LIBS_DIR.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$(dirname "$LIBS_DIR")"
    log "fetching Kafka jars with Maven into $LIBS_DIR"
    if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" -DincludeScope=runtime >&2; then
        rm -rf "$tmp"
        die "mvn dependency:copy-dependencies failed"
    fi
    rm -rf "$LIBS_DIR"
    mv "$tmp" "$LIBS_DIR"
    pom_digest >"$LIBS_DIR/.fetched"
}

cmd_fetch() {
    take_lock
    if libs_ready; then
        log "jars already in $LIBS_DIR"
    else
        fetch_libs
    fi
    printf '%s\n' "$LIBS_DIR"
}

# --- one node --------------------------------------------------------------------------------

node_dir() { # node_dir single | node_dir N
    if [[ "$1" == single ]]; then printf '%s\n' "$SINGLE_DIR"; else printf '%s/node%s\n' "$CLUSTER_DIR" "$1"; fi
}
node_port() {
    if [[ "$1" == single ]]; then printf '%s\n' "$SINGLE_PORT"; else printf '%s\n' $((CLUSTER_PORT + 100 * ($1 - 1))); fi
}
cluster_bootstrap() {
    local n out=()
    for n in "${NODES[@]}"; do out+=("$HOST:$(node_port "$n")"); done
    (IFS=,; printf '%s\n' "${out[*]}")
}
cluster_voters() {
    local n out=()
    for n in "${NODES[@]}"; do out+=("$n@$HOST:$(($(node_port "$n") + 1))"); done
    (IFS=,; printf '%s\n' "${out[*]}")
}

# Alive and not a zombie.
pid_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [[ -n "$state" && "$state" != Z ]]
}

# The recorded PID of the node in directory $1 if that JVM still runs, else exit 1.
node_pid() {
    local dir="$1" pid
    [[ -f "$dir/kafka.pid" ]] || return 1
    pid="$(cat "$dir/kafka.pid" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    # Guard against a recycled PID: it must be kafka.Kafka on this node's properties file.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "kafka.Kafka $dir/server.properties" \
        || return 1
    printf '%s\n' "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# The admin's password: made once (random), kept with mode 0600.
admin_password() {
    if [[ ! -s "$ADMIN_PASSWORD_FILE" ]]; then
        mkdir -p "$CREDENTIALS_DIR"
        chmod 700 "$CREDENTIALS_DIR"
        (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '+/=\n' >"$ADMIN_PASSWORD_FILE.tmp")
        mv "$ADMIN_PASSWORD_FILE.tmp" "$ADMIN_PASSWORD_FILE"
    fi
    cat "$ADMIN_PASSWORD_FILE"
}

write_properties() { # write_properties DIR NODE_ID PORT VOTERS single|cluster
    local dir="$1" id="$2" port="$3" voters="$4" kind="$5" password
    password="$(admin_password)"
    (umask 077 && : >"$dir/server.properties")
    {
        printf '# Written by deploy/kafka.sh (%s); rewritten on every start.\n' "$kind"
        printf 'process.roles=broker,controller\n'
        printf 'node.id=%s\n' "$id"
        printf 'controller.quorum.voters=%s\n' "$voters"
        printf 'listeners=SASL_PLAINTEXT://%s:%s,CONTROLLER://%s:%s\n' "$HOST" "$port" "$HOST" $((port + 1))
        printf 'advertised.listeners=SASL_PLAINTEXT://%s:%s\n' "$HOST" "$port"
        printf 'controller.listener.names=CONTROLLER\n'
        printf 'inter.broker.listener.name=SASL_PLAINTEXT\n'
        printf 'listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT\n'
        printf 'sasl.enabled.mechanisms=SCRAM-SHA-512\n'
        printf 'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512\n'
        printf 'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=%s\n' \
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$ADMIN_USER\" password=\"$password\";"
        printf 'sasl.mechanism.controller.protocol=PLAIN\n'
        printf 'listener.name.controller.sasl.enabled.mechanisms=PLAIN\n'
        printf 'listener.name.controller.plain.sasl.jaas.config=%s\n' \
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"$ADMIN_USER\" password=\"$password\" user_$ADMIN_USER=\"$password\";"
        printf 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n'
        printf 'allow.everyone.if.no.acl.found=false\n'
        printf 'super.users=User:%s\n' "$ADMIN_USER"
        printf 'log.dirs=%s/data\n' "$dir"
        printf 'num.partitions=1\n'
        printf 'auto.create.topics.enable=false\n'
        printf 'group.initial.rebalance.delay.ms=0\n'
        printf 'unclean.leader.election.enable=false\n'
        # Few offsets partitions: the first consumer group comes up quickly on a small machine.
        printf 'offsets.topic.num.partitions=5\n'
        if [[ "$kind" == single ]]; then
            printf 'default.replication.factor=1\n'
            printf 'min.insync.replicas=1\n'
            printf 'offsets.topic.replication.factor=1\n'
            printf 'transaction.state.log.replication.factor=1\n'
            printf 'transaction.state.log.min.isr=1\n'
            printf 'share.coordinator.state.topic.replication.factor=1\n'
            printf 'share.coordinator.state.topic.min.isr=1\n'
        else
            printf 'default.replication.factor=3\n'
            printf 'min.insync.replicas=2\n'
            printf 'offsets.topic.replication.factor=3\n'
            printf 'transaction.state.log.replication.factor=3\n'
            printf 'transaction.state.log.min.isr=2\n'
            printf 'share.coordinator.state.topic.replication.factor=3\n'
            printf 'share.coordinator.state.topic.min.isr=2\n'
            # Fault tests: a hard-killed broker is fenced after 5 s instead of 9 s (defaults
            # broker.heartbeat.interval.ms=2000, broker.session.timeout.ms=9000).
            printf 'broker.heartbeat.interval.ms=1000\n'
            printf 'broker.session.timeout.ms=5000\n'
        fi
    } >"$dir/server.properties"
}

new_cluster_id() {
    local cid
    cid="$(java -cp "$LIBS_DIR/*" kafka.tools.StorageTool random-uuid 2>/dev/null 9>&- | tail -n 1)"
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka.tools.StorageTool random-uuid gave '$cid'"
    printf '%s\n' "$cid"
}

format_node() { # format_node DIR CLUSTER_ID
    local dir="$1" cid="$2"
    [[ -f "$dir/data/meta.properties" ]] && return 0
    mkdir -p "$dir/logs"
    # Static controller.quorum.voters: no --standalone / --initial-controllers. The admin's SCRAM
    # credential goes into the metadata log at format time (the brokers need it to talk at all).
    if ! java -Xmx256m -cp "$LIBS_DIR/*" \
        -Dlog4j2.configurationFile="file:$LOG4J_CONFIG" \
        kafka.tools.StorageTool format -t "$cid" -c "$dir/server.properties" \
        --add-scram "SCRAM-SHA-512=[name=$ADMIN_USER,password=$(admin_password)]" \
        >"$dir/logs/format.log" 2>&1 9>&-; then
        cat "$dir/logs/format.log" >&2
        die "formatting $dir failed"
    fi
    : >"$dir/sasl.formatted"
}

# Data formatted without the admin's SCRAM credential (an older kafka.sh) cannot be started secured.
check_secured_data() { # check_secured_data DIR clean|clean-cluster
    if [[ -f "$1/data/meta.properties" && ! -f "$1/sasl.formatted" ]]; then
        die "$1 was formatted without SASL (an older deploy/kafka.sh); remove it with: deploy/kafka.sh $2"
    fi
}

check_ports_free() { # check_ports_free CLIENT_PORT: the client and controller ports
    local p
    for p in "$1" $(($1 + 1)); do
        if port_in_use "$p"; then
            die "port $HOST:$p is in use by another process (see LEDGER_KAFKA_PORT / LEDGER_KAFKA_CLUSTER_PORT)"
        fi
    done
}

start_node_process() { # start_node_process DIR PORT
    local dir="$1" port="$2" pid
    local -a heap
    read -r -a heap <<<"$HEAP_OPTS"
    check_ports_free "$port"
    mkdir -p "$dir/logs"
    printf '\n===== start %s =====\n' "$(date -u +%FT%TZ)" >>"$dir/logs/kafka.out"
    # setsid: the broker outlives this script and ignores the caller's terminal signals; it is
    # stopped only through its recorded PID.
    setsid java "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="file:$LOG4J_CONFIG" \
        -Dkafka.logs.dir="$dir/logs" \
        -cp "$LIBS_DIR/*" kafka.Kafka "$dir/server.properties" \
        </dev/null >>"$dir/logs/kafka.out" 2>&1 9>&- &
    pid=$!
    printf '%s\n' "$pid" >"$dir/kafka.pid"
    log "started node in $dir (pid $pid, port $port, log $dir/logs/kafka.out)"
}

# wait_ready ID=HOST:PORT[,ID=HOST:PORT...] PID...: poll with kafka-python's admin client until
# every listed node answers on its own listener (a broker opens it only once it has registered
# and caught up with the metadata log) and the cluster lists it as an unfenced broker. Fails at
# once when one of the JVMs exits, and after LEDGER_KAFKA_START_TIMEOUT seconds.
wait_ready() {
    local nodes="$1"
    shift
    "$PYTHON" - "$nodes" "$START_TIMEOUT" "$ADMIN_USER" "$ADMIN_PASSWORD_FILE" "$@" 9>&- <<'PY'
import logging
import sys
import time

logging.getLogger("kafka").addHandler(logging.NullHandler())
logging.getLogger("kafka").propagate = False
from kafka import KafkaAdminClient  # noqa: E402

nodes = dict(item.split("=", 1) for item in sys.argv[1].split(","))
timeout, user, pids = float(sys.argv[2]), sys.argv[3], [int(p) for p in sys.argv[5:]]
with open(sys.argv[4], encoding="ascii") as f:
    password = f.read().strip()
deadline = time.monotonic() + timeout


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def node_ready(node_id, address):
    remaining_ms = max(1000, int((deadline - time.monotonic()) * 1000))
    admin = KafkaAdminClient(
        bootstrap_servers=[address],
        client_id="ledger-deploy-readiness",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=user,
        sasl_plain_password=password,
        bootstrap_timeout_ms=min(5000, remaining_ms),
        request_timeout_ms=min(5000, remaining_ms),
    )
    try:
        info = admin.describe_cluster()
    finally:
        admin.close()
    unfenced = sorted(b["broker_id"] for b in info["brokers"] if not b.get("is_fenced"))
    return int(node_id) in unfenced, f"node {node_id}: unfenced brokers {unfenced}"


last = "no answer yet"
pending = dict(nodes)
while time.monotonic() < deadline:
    dead = [p for p in pids if not alive(p)]
    if dead:
        sys.exit(f"broker process(es) {dead} exited during start-up")
    for node_id, address in list(pending.items()):
        try:
            ready, last = node_ready(node_id, address)
        except Exception as exc:  # not up yet: connection refused, timeout, no controller...
            ready, last = False, f"node {node_id} at {address}: {type(exc).__name__}: {exc}"
        if ready:
            del pending[node_id]
    if not pending:
        sys.exit(0)
    time.sleep(0.5)
sys.exit(f"not ready after {timeout:.0f}s: {last}")
PY
}

# node_spec N: "N=127.0.0.1:<port>" for wait_ready
node_spec() { printf '%s=%s:%s' "$1" "$HOST" "$(node_port "$1")"; }

# stop_pids PID...: TERM all, wait up to STOP_TIMEOUT, then KILL the survivors.
stop_pids() {
    local pid deadline alive
    (($# == 0)) && return 0
    kill -TERM "$@" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while :; do
        alive=()
        for pid in "$@"; do pid_alive "$pid" && alive+=("$pid"); done
        ((${#alive[@]} == 0)) && return 0
        ((SECONDS >= deadline)) && break
        sleep 0.2
    done
    log "still running after ${STOP_TIMEOUT}s, sending KILL to ${alive[*]}"
    kill -KILL "${alive[@]}" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    for pid in "${alive[@]}"; do
        while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    done
}

show_log_tail() {
    log "last lines of $1/logs/kafka.out:"
    tail -n 40 "$1/logs/kafka.out" >&2 || true
}

# --- single node -----------------------------------------------------------------------------

cmd_start() {
    local dir="$SINGLE_DIR" pid cid
    take_lock
    fetch_libs
    if pid="$(node_pid "$dir")"; then
        log "already running (pid $pid)"
    else
        check_secured_data "$dir" clean
        mkdir -p "$dir/data" "$dir/logs"
        write_properties "$dir" 1 "$SINGLE_PORT" "1@$HOST:$((SINGLE_PORT + 1))" single
        if [[ ! -f "$dir/data/meta.properties" ]]; then
            cid="$(new_cluster_id)"
            printf '%s\n' "$cid" >"$dir/cluster.id"
            format_node "$dir" "$cid"
        fi
        start_node_process "$dir" "$SINGLE_PORT"
        pid="$(cat "$dir/kafka.pid")"
    fi
    if ! wait_ready "1=$HOST:$SINGLE_PORT" "$pid"; then
        show_log_tail "$dir"
        stop_pids "$pid"
        rm -f "$dir/kafka.pid"
        die "broker did not become ready"
    fi
    printf '%s\n' "$HOST:$SINGLE_PORT"
}

cmd_stop() {
    local pid
    take_lock
    if pid="$(node_pid "$SINGLE_DIR")"; then
        log "stopping broker (pid $pid)"
        stop_pids "$pid"
    else
        log "not running"
    fi
    rm -f "$SINGLE_DIR/kafka.pid"
}

cmd_status() {
    local pid
    if pid="$(node_pid "$SINGLE_DIR")"; then
        log "running (pid $pid)"
        printf '%s\n' "$HOST:$SINGLE_PORT"
        return 0
    fi
    log "not running"
    return 3
}

cmd_clean() {
    take_lock
    node_pid "$SINGLE_DIR" >/dev/null && die "single node still running; stop it first"
    rm -rf "$SINGLE_DIR"
    log "removed $SINGLE_DIR"
}

# --- three-node cluster ----------------------------------------------------------------------

check_node_arg() {
    [[ "${1:-}" =~ ^[123]$ ]] || die "node number must be 1, 2 or 3"
}

cmd_start_cluster() {
    local n dir cid pid any_running=0 specs=() pids=() fmt_pids=()
    take_lock
    fetch_libs
    for n in "${NODES[@]}"; do
        node_pid "$(node_dir "$n")" >/dev/null && any_running=1
    done
    # All ports first, so that a conflict leaves no half-started cluster behind.
    for n in "${NODES[@]}"; do
        node_pid "$(node_dir "$n")" >/dev/null || check_ports_free "$(node_port "$n")"
    done
    if ((any_running == 0)) && [[ "${LEDGER_KAFKA_CLUSTER_KEEP:-}" == 1 && -f "$(node_dir 1)/data/meta.properties" ]]; then
        log "three-node cluster on its data in $CLUSTER_DIR (LEDGER_KAFKA_CLUSTER_KEEP=1)"
    elif ((any_running == 0)); then
        log "fresh three-node cluster in $CLUSTER_DIR"
        rm -rf "$CLUSTER_DIR"
        mkdir -p "$CLUSTER_DIR"
        cid="$(new_cluster_id)"
        printf '%s\n' "$cid" >"$CLUSTER_DIR/cluster.id"
        for n in "${NODES[@]}"; do
            dir="$(node_dir "$n")"
            mkdir -p "$dir/data" "$dir/logs"
            write_properties "$dir" "$n" "$(node_port "$n")" "$(cluster_voters)" cluster
        done
        # Same cluster id everywhere; the three formats run side by side.
        for n in "${NODES[@]}"; do
            format_node "$(node_dir "$n")" "$cid" &
            fmt_pids+=($!)
        done
        for pid in "${fmt_pids[@]}"; do wait "$pid" || die "formatting failed"; done
    fi
    for n in "${NODES[@]}"; do
        dir="$(node_dir "$n")"
        if pid="$(node_pid "$dir")"; then
            log "node $n already running (pid $pid)"
        else
            [[ -f "$dir/data/meta.properties" ]] || die "node $n has no formatted data; run stop-cluster, then start-cluster"
            check_secured_data "$dir" "stop-cluster"
            write_properties "$dir" "$n" "$(node_port "$n")" "$(cluster_voters)" cluster
            start_node_process "$dir" "$(node_port "$n")"
            pid="$(cat "$dir/kafka.pid")"
        fi
        specs+=("$(node_spec "$n")")
        pids+=("$pid")
    done
    if ! wait_ready "$(IFS=,; printf '%s' "${specs[*]}")" "${pids[@]}"; then
        for n in "${NODES[@]}"; do show_log_tail "$(node_dir "$n")"; done
        stop_pids "${pids[@]}"
        for n in "${NODES[@]}"; do rm -f "$(node_dir "$n")/kafka.pid"; done
        die "cluster did not become ready"
    fi
    cluster_bootstrap
}

cmd_stop_cluster() {
    local n dir pid pids=()
    take_lock
    for n in "${NODES[@]}"; do
        dir="$(node_dir "$n")"
        if pid="$(node_pid "$dir")"; then
            pids+=("$pid")
        fi
    done
    if ((${#pids[@]} > 0)); then
        log "stopping cluster nodes (pids ${pids[*]})"
        stop_pids "${pids[@]}"
    else
        log "no cluster node running"
    fi
    for n in "${NODES[@]}"; do rm -f "$(node_dir "$n")/kafka.pid"; done
}

cmd_status_cluster() {
    local n pid up=0
    for n in "${NODES[@]}"; do
        if pid="$(node_pid "$(node_dir "$n")")"; then
            log "node $n running (pid $pid, $HOST:$(node_port "$n"))"
            up=$((up + 1))
        else
            log "node $n not running"
        fi
    done
    if ((up == ${#NODES[@]})); then
        cluster_bootstrap
        return 0
    fi
    return 3
}

cmd_kill_node() {
    local n="${1:-}" dir pid
    check_node_arg "$n"
    take_lock
    dir="$(node_dir "$n")"
    pid="$(node_pid "$dir")" || die "node $n is not running"
    log "kill -9 node $n (pid $pid)"
    kill -KILL "$pid"
    local deadline=$((SECONDS + 10))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
    pid_alive "$pid" && die "node $n (pid $pid) survived SIGKILL"
    rm -f "$dir/kafka.pid"
}

cmd_start_node() {
    local n="${1:-}" dir pid
    check_node_arg "$n"
    take_lock
    fetch_libs
    dir="$(node_dir "$n")"
    if pid="$(node_pid "$dir")"; then
        log "node $n already running (pid $pid)"
    else
        [[ -f "$dir/data/meta.properties" ]] || die "node $n has no formatted data; use start-cluster"
        check_secured_data "$dir" "stop-cluster"
        write_properties "$dir" "$n" "$(node_port "$n")" "$(cluster_voters)" cluster
        start_node_process "$dir" "$(node_port "$n")"
        pid="$(cat "$dir/kafka.pid")"
    fi
    if ! wait_ready "$(node_spec "$n")" "$pid"; then
        show_log_tail "$dir"
        die "node $n did not rejoin"
    fi
    cluster_bootstrap
}

cmd_clean_cluster() {
    local n
    take_lock
    for n in "${NODES[@]}"; do
        node_pid "$(node_dir "$n")" >/dev/null && die "node $n still running; stop-cluster first"
    done
    rm -rf "$CLUSTER_DIR"
    log "removed $CLUSTER_DIR"
}

case "${1:-}" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) printf 'export LEDGER_TEST_KAFKA=%s LEDGER_TEST_KAFKA_PASSWORD_FILE=%s\n' "$HOST:$SINGLE_PORT" "$ADMIN_PASSWORD_FILE" ;;
    admin-password-file) printf '%s\n' "$ADMIN_PASSWORD_FILE" ;;
    clean) cmd_clean ;;
    start-cluster) cmd_start_cluster ;;
    stop-cluster) cmd_stop_cluster ;;
    status-cluster) cmd_status_cluster ;;
    kill-node) cmd_kill_node "${2:-}" ;;
    start-node) cmd_start_node "${2:-}" ;;
    env-cluster) printf 'export LEDGER_TEST_KAFKA_CLUSTER=%s LEDGER_TEST_KAFKA_PASSWORD_FILE=%s\n' "$(cluster_bootstrap)" "$ADMIN_PASSWORD_FILE" ;;
    clean-cluster) cmd_clean_cluster ;;
    *) usage ;;
esac
