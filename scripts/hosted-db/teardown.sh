#!/usr/bin/env bash
# Removes what scripts/hosted-db/setup.sh set up: stops its PgBouncer and drops
# the PostgreSQL cluster 15/hosted (data, configuration and the Vault root key).
# The Debian packages and the extensions built into PostgreSQL 15 stay
# installed, so the next setup.sh is quick. Cluster 15/main is not touched.
# Idempotent: with nothing to remove it says so and succeeds. Run as root.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

case "${1:-}" in
  "") ;;
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument $1 (teardown.sh takes none)" ;;
esac
[[ $(id -u) -eq 0 ]] || die "run as root (e.g. sudo $0)"

# PgBouncer: only the process whose pid file and command line are ours.
if pid=$(pgbouncer_pid); then
  log "stopping pgbouncer (pid $pid)"
  stop_pgbouncer "$pid"
elif [[ -s $PGB_PID ]]; then
  log "pgbouncer is not running (stale pid file)"
else
  log "pgbouncer is not running"
fi
if [[ -d $PGB_DIR ]]; then
  rm -rf -- "$PGB_DIR"
  log "removed $PGB_DIR"
fi

# The cluster.
if [[ -f ${CONF_DIR}/postgresql.conf ]] || pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}' | grep -qx "${PG_MAJOR}/${CLUSTER}"; then
  if [[ $(pg_lsclusters -h "$PG_MAJOR" "$CLUSTER" 2>/dev/null | awk '{print $4}') == online ]]; then
    log "stopping cluster ${PG_MAJOR}/${CLUSTER}"
    PGUSER=supabase_admin pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$CLUSTER" stop -m fast ||
      die "could not stop cluster ${PG_MAJOR}/${CLUSTER}; see /var/log/postgresql/postgresql-${PG_MAJOR}-${CLUSTER}.log"
  fi
  log "dropping cluster ${PG_MAJOR}/${CLUSTER}"
  pg_dropcluster "$PG_MAJOR" "$CLUSTER" || die "pg_dropcluster ${PG_MAJOR} ${CLUSTER} failed"
else
  log "cluster ${PG_MAJOR}/${CLUSTER} does not exist"
fi

# pg_dropcluster leaves the files it did not create (setup.sh's conf.d files,
# extension scripts, Vault root key): they belong to the dropped cluster.
if [[ -d $CONF_DIR ]]; then
  rm -rf -- "$CONF_DIR"
  log "removed $CONF_DIR (including the Vault root key)"
fi

log "done: 15/hosted and its pooler are gone (packages and built extensions stay installed); recreate with scripts/hosted-db/setup.sh"
