# Sourced by setup.sh and teardown.sh: the layout of the hosted-like cluster
# (one place for every path, port and version) and the small helpers both use.
# shellcheck shell=bash

readonly PG_MAJOR=15
readonly CLUSTER=hosted
readonly PORT=54322
readonly POOLER_PORT=6543
readonly POOL_SIZE=15          # server connections per (database, user) pair
readonly MAX_CLIENT_CONN=200   # client connections the pooler accepts
readonly PG_NET_VERSION=0.20.4
readonly VAULT_VERSION=0.3.1
readonly SUPAUTILS_VERSION=3.4.0

readonly PGBIN="/usr/lib/postgresql/${PG_MAJOR}/bin"
readonly PG_CONFIG="${PGBIN}/pg_config"
readonly CONF_DIR="/etc/postgresql/${PG_MAJOR}/${CLUSTER}"
readonly SOCKET_DIR=/var/run/postgresql
readonly CUSTOM_SCRIPTS_DIR="${CONF_DIR}/extension-custom-scripts"
readonly VAULT_KEY_FILE="${CONF_DIR}/vault-root.key"
readonly VAULT_GETKEY="${CONF_DIR}/vault-getkey"
readonly BOOTSTRAP_STAMP="${CONF_DIR}/hosted-db-bootstrap.stamp"
readonly PGB_DIR="/var/lib/postgresql/${PG_MAJOR}/${CLUSTER}-pgbouncer"
readonly PGB_INI="${PGB_DIR}/pgbouncer.ini"
readonly PGB_USERS="${PGB_DIR}/userlist.txt"
readonly PGB_PID="${PGB_DIR}/pgbouncer.pid"
readonly PGB_LOG="${PGB_DIR}/pgbouncer.log"
readonly BUILD_STAMP_DIR=/usr/local/share/hosted-db
readonly PACKAGES=(postgresql-${PG_MAJOR} postgresql-server-dev-${PG_MAJOR} libcurl4-openssl-dev libsodium-dev
                   postgresql-${PG_MAJOR}-cron pgbouncer make gcc)

HOSTED_DB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly HOSTED_DB_DIR
readonly SQL_DIR="${HOSTED_DB_DIR}/sql"

log() { printf 'hosted-db: %s\n' "$*"; }
die() { printf 'hosted-db: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "hosted-db: ERROR: command failed (exit %s, line %s of %s): %s\n" "$rc" "$LINENO" "${BASH_SOURCE[0]##*/}" "$BASH_COMMAND" >&2' ERR

# psql as the superuser over the cluster's Unix socket (trusted).
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -At -h "$SOCKET_DIR" -p "$PORT" -U supabase_admin "$@"; }

# A command on PgBouncer's admin console; failures are ignored.
pooler_admin() { psql -X -q -h 127.0.0.1 -p "$POOLER_PORT" -U pgbouncer pgbouncer -c "$1" >/dev/null 2>&1 || true; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cluster_exists() { [[ -f ${CONF_DIR}/postgresql.conf ]]; }
cluster_status() { pg_lsclusters -h "$PG_MAJOR" "$CLUSTER" 2>/dev/null | awk '{print $4}'; }

pgbouncer_pid() { # prints the pid of *our* pgbouncer (pid file and command line), if it runs
  local pid
  [[ -s $PGB_PID ]] || return 1
  pid=$(<"$PGB_PID")
  [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$PGB_INI" || return 1
  echo "$pid"
}

stop_pgbouncer() { # stop_pgbouncer PID: SIGTERM, then wait up to 5 s
  local pid=$1
  kill -TERM "$pid"
  for _ in $(seq 1 50); do [[ -d /proc/$pid ]] || return 0; sleep 0.1; done
  die "pgbouncer (pid $pid) did not stop within 5 s; stop it (kill $pid) and run this again"
}

CHANGED_FILES=()
# install_file DEST MODE OWNER: writes stdin to DEST unless it already has
# exactly that content, mode and owner; records DEST in CHANGED_FILES.
install_file() {
  local dest=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $dest ]] && cmp -s "$tmp" "$dest" && [[ $(stat -c '%a %U' "$dest") == "$mode $owner" ]]; then
    rm -f "$tmp"
    return 0
  fi
  install -D -m "$mode" -o "$owner" -g "$owner" "$tmp" "$dest"
  rm -f "$tmp"
  log "wrote $dest"
  CHANGED_FILES+=("$dest")
}

changed() { # changed PATH-PREFIX: was any file under it written in this run?
  local f
  for f in "${CHANGED_FILES[@]+"${CHANGED_FILES[@]}"}"; do [[ $f == "$1"* ]] && return 0; done
  return 1
}
