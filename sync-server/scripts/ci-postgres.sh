#!/usr/bin/env bash
# Installs (if missing) and starts a local PostgreSQL for the sync-server
# conformance suite, creates the role and database, and prints the line to
# export. Idempotent: safe to run again on a machine where it already ran.
#
#   eval "$(sync-server/scripts/ci-postgres.sh)"    # sets KETEPAI_TEST_DATABASE_URL
#
# Only the `export ...` line goes to stdout; progress goes to stderr.
set -euo pipefail

ROLE=${KETEPAI_PG_ROLE:-ketepai}
PASSWORD=${KETEPAI_PG_PASSWORD:-ketepai}
DB=${KETEPAI_PG_DB:-ketepai_test}
PORT=${KETEPAI_PG_PORT:-5432}

log() { echo "ci-postgres: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
    log "installing postgresql (Debian package)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

# The newest installed major version's "main" cluster.
VERSION=$(pg_lsclusters -h 2>/dev/null | awk '{print $1}' | sort -n | tail -1)
if [ -z "${VERSION}" ]; then
    VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
    log "creating cluster ${VERSION}/main"
    as_root pg_createcluster "${VERSION}" main --port "${PORT}" >&2
fi
CLUSTER_PORT=$(pg_lsclusters -h | awk -v v="${VERSION}" '$1==v && $2=="main" {print $3}')
STATUS=$(pg_lsclusters -h | awk -v v="${VERSION}" '$1==v && $2=="main" {print $4}')
if [ "${STATUS}" != "online" ]; then
    log "starting cluster ${VERSION}/main on port ${CLUSTER_PORT}"
    as_root pg_ctlcluster "${VERSION}" main start >&2
fi

psql_admin() {
    as_root su postgres -c "psql -p ${CLUSTER_PORT} -v ON_ERROR_STOP=1 -qtA $*"
}

for _ in $(seq 1 30); do
    if psql_admin "-c 'SELECT 1'" >/dev/null 2>&1; then break; fi
    sleep 1
done

if [ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'\"")" != "1" ]; then
    log "creating role ${ROLE}"
    psql_admin "-c \"CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'\"" >&2
fi
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '${DB}'\"")" != "1" ]; then
    log "creating database ${DB}"
    psql_admin "-c \"CREATE DATABASE ${DB} OWNER ${ROLE}\"" >&2
fi

URL="postgres://${ROLE}:${PASSWORD}@127.0.0.1:${CLUSTER_PORT}/${DB}"
log "ready: ${URL}"
echo "export KETEPAI_TEST_DATABASE_URL=${URL}"
