#!/usr/bin/env bash
# Installs and enables pg_cron on this machine's Postgres 15 (Debian 12,
# cluster 15/main on 127.0.0.1:5432, trust auth, user postgres), for
# tests/integration/cron. Idempotent: a second run installs nothing and restarts nothing.
#
# Invariants:
# - pg_cron runs its jobs in exactly one database, cron.database_name
#   (bars_cron); that database must exist before the scheduler starts.
# - Jobs connect through libpq like on hosted Supabase
#   (cron.use_background_workers = off), over the Unix socket, which pg_hba
#   trusts here; no password is stored anywhere.
# - shared_preload_libraries keeps whatever libraries the server already loads.
set -euo pipefail

PG_VERSION=15
PG_CLUSTER=main
CRON_DB="${CRON_DB:-bars_cron}"
CONF="/etc/postgresql/${PG_VERSION}/${PG_CLUSTER}/conf.d/pg_cron.conf"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"

log() { echo "install-pg-cron: $*"; }
psql_q() { psql -X -v ON_ERROR_STOP=1 -At -d postgres "$@"; }

wait_for_postgres() {
  for _ in $(seq 1 60); do
    if pg_isready -q -d postgres; then return 0; fi
    sleep 1
  done
  log "Postgres did not accept connections within 60 s" >&2
  return 1
}

# 1. The package.
if ! dpkg-query -W -f='${Status}' "postgresql-${PG_VERSION}-cron" 2>/dev/null | grep -q 'install ok installed'; then
  log "installing postgresql-${PG_VERSION}-cron"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "postgresql-${PG_VERSION}-cron"
else
  log "postgresql-${PG_VERSION}-cron already installed"
fi

if ! pg_isready -q -d postgres; then
  log "starting Postgres ${PG_VERSION}/${PG_CLUSTER}"
  pg_ctlcluster --skip-systemctl-redirect "${PG_VERSION}" "${PG_CLUSTER}" start || true
fi
wait_for_postgres

# 2. The database the scheduler runs in.
if [ -z "$(psql_q -c "select 1 from pg_database where datname = '${CRON_DB}'")" ]; then
  log "creating database ${CRON_DB}"
  psql_q -c "create database ${CRON_DB}"
fi

# 3. The configuration: current preload list plus pg_cron, jobs over the socket.
current_libs="$(psql_q -c 'show shared_preload_libraries')"
libs="$(printf '%s' "${current_libs}" | tr ',' '\n' | sed 's/^ *//; s/ *$//' | grep -v -x -e '' -e 'pg_cron' | paste -sd, - || true)"
libs="${libs:+${libs},}pg_cron"
socket_dir="$(psql_q -c 'show unix_socket_directories' | cut -d, -f1 | sed 's/^ *//')"
desired="# Written by .ci/install-pg-cron.sh: pg_cron for tests/integration/cron.
shared_preload_libraries = '${libs}'
cron.database_name = '${CRON_DB}'
cron.use_background_workers = off
cron.host = '${socket_dir:-/var/run/postgresql}'
"
changed=0
if [ ! -f "${CONF}" ] || [ "$(cat "${CONF}")" != "$(printf '%s' "${desired}")" ]; then
  log "writing ${CONF}"
  printf '%s' "${desired}" > "${CONF}"
  changed=1
  chown postgres:postgres "${CONF}" 2>/dev/null || true
fi

# 4. Restart only when the file changed or the running server lacks pg_cron for CRON_DB.
running_db="$(psql_q -c "select setting from pg_settings where name = 'cron.database_name'")"
if [ "${changed}" = 1 ] \
   || ! printf '%s' "${current_libs}" | tr ',' '\n' | sed 's/^ *//' | grep -q -x pg_cron \
   || [ "${running_db}" != "${CRON_DB}" ]; then
  log "restarting Postgres ${PG_VERSION}/${PG_CLUSTER}"
  pg_ctlcluster --skip-systemctl-redirect "${PG_VERSION}" "${PG_CLUSTER}" restart
  wait_for_postgres
else
  log "Postgres already runs pg_cron for ${CRON_DB}; no restart"
fi

log "pg_cron $(psql_q -c "select default_version from pg_available_extensions where name = 'pg_cron'") ready in database ${CRON_DB}"
