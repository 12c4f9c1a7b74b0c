#!/usr/bin/env bash
# Make the compose file's secrets in deploy/compose/secrets/ (git-ignored; the folder is mode 0700).
# Idempotent: what exists is kept, so passwords and keys survive a second run. Nothing is printed
# but the file names. The repository holds no password, key or cluster id: only this script.
#
#   bash deploy/compose/secrets.sh          # then: docker compose -f deploy/compose/docker-compose.yml up -d
#
# Made here: the Kafka cluster id, the super user's password (kafka_admin), one SCRAM password per
# principal of trust §1 (kafka/ledger, img, ncg, portal, projector: `ledger kafka init --credentials`
# sets them on the brokers), PostgreSQL's password and the ledger's store URL (store.env), the
# ledger's checkpoint key, the IMG and NCG witness keys and the trust file (`ledger keys`), and
# the local token issuer's key and JWKS (`ledger keys init --issuer`).
#
# The key commands need the ledger: LEDGER_BIN (default: <repo>/.venv/bin/ledger, else `ledger`).
# The files are mode 0644 inside the 0700 folder: the containers run as other users (the ledger as
# uid 10001, Kafka as appuser, PostgreSQL as postgres) and read them through the bind mounts of
# compose secrets; on the host only the folder's owner can reach them.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$HERE/../.." && pwd)"
OUT="${LEDGER_COMPOSE_SECRETS:-$HERE/secrets}"
if [[ -n "${LEDGER_BIN:-}" ]]; then
    LEDGER=("$LEDGER_BIN")
elif [[ -x "$REPO_DIR/.venv/bin/ledger" ]]; then
    LEDGER=("$REPO_DIR/.venv/bin/ledger")
else
    LEDGER=(ledger)
fi
PRINCIPALS=(ledger img ncg portal projector)

say() { printf 'secrets.sh: %s\n' "$*" >&2; }
random() { head -c 24 /dev/urandom | base64 | tr -d '+/=\n'; }

# put FILE CONTENT: write once (keeps an existing file)
put() {
    if [[ -s "$1" ]]; then
        return 0
    fi
    (umask 077 && printf '%s\n' "$2" >"$1.tmp")
    mv "$1.tmp" "$1"
    say "made $1"
}

mkdir -p "$OUT/kafka" "$OUT/keys" "$OUT/issuer"
chmod 700 "$OUT"

# A KRaft cluster id: 16 random bytes, base64url without padding (22 characters).
put "$OUT/kafka_cluster_id" "$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
put "$OUT/kafka_admin" "$(random)"
for p in "${PRINCIPALS[@]}"; do
    put "$OUT/kafka/$p" "$(random)"
done
put "$OUT/postgres_password" "$(random)"
put "$OUT/store.env" "LEDGER_STORE=postgresql://ledger:$(cat "$OUT/postgres_password")@postgres:5432/ledger"

origin="${LEDGER_ORIGIN:-groningen-ledger}"
if [[ ! -s "$OUT/keys/$origin.key" ]]; then
    LEDGER_HOME="$OUT/issuer" LEDGER_ORIGIN="$origin" \
        "${LEDGER[@]}" keys init --ledger --witness img-witness --witness ncg-witness --dir "$OUT/keys" >/dev/null
    say "made the ledger's and the witnesses' keys in $OUT/keys"
fi
if [[ ! -s "$OUT/keys/trust.txt" ]]; then
    "${LEDGER[@]}" keys trust "$OUT/keys/$origin.vkey" "$OUT/keys/img-witness.vkey" "$OUT/keys/ncg-witness.vkey" \
        --out "$OUT/keys/trust.txt" >/dev/null
    say "made $OUT/keys/trust.txt"
fi
if [[ ! -s "$OUT/issuer/issuer.jwks.json" ]]; then
    LEDGER_HOME="$OUT/issuer" "${LEDGER[@]}" keys init --issuer >/dev/null
    say "made the token issuer's key and JWKS in $OUT/issuer"
fi
find "$OUT" -type f -exec chmod 0644 {} +
find "$OUT" -type d -exec chmod 0700 {} +
say "secrets in $OUT"
