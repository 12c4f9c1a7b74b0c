#!/usr/bin/env bash
# Build the ledger's image from the repository's Dockerfile (issue 15 item 1).
#
#   scripts/build-image.sh --wheels-only   only the wheelhouse (.cache/wheelhouse), for `docker build`
#                                          or `docker compose build` elsewhere
#   scripts/build-image.sh                 wheelhouse + podman build (tag LEDGER_IMAGE, default
#                                          localhost/groningen-ledger:0.1.0) + a smoke test of the
#                                          image's contents: user, entry point, every role's --help
#
# Without a container registry (the project's machines; docs: shared notes on containers) the base
# is a Debian bookworm root filesystem made by debootstrap and imported once
# (localhost/debian-base:bookworm, cached as .cache/image/rootfs.tar), passed as --build-arg BASE.
# With a registry set LEDGER_IMAGE_BASE=python:3.11-slim-bookworm (the Dockerfile's default).
# The build runs with --isolation chroot; the smoke test runs the image's files in a chroot as the
# image's user, since these machines cannot run containers. Not part of the default test run
# (several minutes the first time).
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_DIR"
IMAGE="${LEDGER_IMAGE:-localhost/groningen-ledger:0.1.0}"
LOCAL_BASE=localhost/debian-base:bookworm
BASE="${LEDGER_IMAGE_BASE:-$LOCAL_BASE}"
CACHE="$REPO_DIR/.cache/image"
PYTHON="${PYTHON:-$REPO_DIR/.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON=python3

say() { printf '[build-image] %s\n' "$*" >&2; }

wheels() {
    say "wheelhouse: the project and its pinned dependencies into .cache/wheelhouse"
    rm -rf .cache/wheelhouse
    "$PYTHON" -m pip wheel -q -w .cache/wheelhouse .
}

tools() {
    local need=()
    command -v podman >/dev/null 2>&1 || need+=(podman)
    if [[ "$BASE" == "$LOCAL_BASE" ]]; then command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap); fi
    ((${#need[@]} == 0)) && return 0
    [[ "$(id -u)" -eq 0 ]] || { say "missing: ${need[*]} (apt-get install them)"; exit 1; }
    say "installing ${need[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

local_base() {
    [[ "$BASE" == "$LOCAL_BASE" ]] || return 0
    podman image exists "$LOCAL_BASE" && return 0
    mkdir -p "$CACHE"
    if [[ ! -s "$CACHE/rootfs.tar" ]]; then
        say "debootstrap: Debian bookworm minbase with python3 (a few minutes, once)"
        rm -rf "$CACHE/rootfs"
        debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm \
            "$CACHE/rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
        tar -C "$CACHE/rootfs" -cf "$CACHE/rootfs.tar.tmp" .
        mv "$CACHE/rootfs.tar.tmp" "$CACHE/rootfs.tar"
        rm -rf "$CACHE/rootfs"
    fi
    podman import "$CACHE/rootfs.tar" "$LOCAL_BASE" >/dev/null
}

smoke() {
    local user entry mnt role
    user="$(podman inspect "$IMAGE" --format '{{.Config.User}}')"
    entry="$(podman inspect "$IMAGE" --format '{{json .Config.Entrypoint}}')"
    say "image $IMAGE: user $user, entry point $entry"
    [[ "$user" == 10001:10001 && "$entry" == '["ledger"]' ]] || { say "unexpected user or entry point"; exit 1; }
    mnt="$(podman image mount "$IMAGE")"
    trap 'podman image unmount "$IMAGE" >/dev/null' RETURN
    chroot --userspec=10001:10001 "$mnt" /opt/ledger/bin/ledger --version
    for role in serve relay intake consume witness checkpoint "kafka init"; do
        # shellcheck disable=SC2086  # "kafka init" is two words
        chroot --userspec=10001:10001 "$mnt" /usr/bin/env HOME=/var/lib/ledger COLUMNS=120 \
            /opt/ledger/bin/ledger $role --help >/dev/null
        say "role '$role' runs from the entry point"
    done
    for tool in gcc cc make; do
        [[ ! -e "$mnt/usr/bin/$tool" ]] || { say "build tool $tool in the final image"; exit 1; }
    done
}

# serve_smoke: `ledger serve` from a container's filesystem (a writable layer over the image), as
# the image's user, on a free loopback port; GET /healthz must answer 200. Stops only its own PID.
serve_smoke() {
    local cid mnt port pid ok=1
    cid="$(podman create "$IMAGE")"
    mnt="$(podman mount "$cid")"
    port="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    chroot --userspec=10001:10001 "$mnt" /usr/bin/env HOME=/var/lib/ledger LEDGER_HOME=/var/lib/ledger/smoke \
        PATH=/opt/ledger/bin:/usr/bin:/bin /opt/ledger/bin/ledger serve --host 127.0.0.1 --port "$port" --workers 1 \
        >"$CACHE/serve-smoke.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 60); do
        if "$PYTHON" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2)" 2>/dev/null; then
            ok=0
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    podman umount "$cid" >/dev/null
    podman rm "$cid" >/dev/null
    if ((ok != 0)); then
        tail -20 "$CACHE/serve-smoke.log" >&2
        say "ledger serve from the image did not answer /healthz"
        exit 1
    fi
    say "ledger serve from the image answered GET /healthz on 127.0.0.1:$port"
}

wheels
[[ "${1:-}" == "--wheels-only" ]] && exit 0
tools
local_base
say "podman build $IMAGE (BASE=$BASE)"
podman build -q --isolation chroot --build-arg "BASE=$BASE" -t "$IMAGE" . >/dev/null
smoke
mkdir -p "$CACHE"
serve_smoke
say "built $IMAGE"
