# Sourced by setup.sh: PgBouncer in transaction mode on 127.0.0.1:6543 in
# front of the cluster (hosted's transaction pooler port), run as a daemon by
# the postgres user; restarted only when its files changed. Needs lib/common.sh.
# shellcheck shell=bash

write_pgbouncer_config() {
  install -d -m 750 -o postgres -g postgres "$PGB_DIR"
  install_file "$PGB_USERS" 600 postgres <<'EOS'
"postgres" ""
"supabase_admin" ""
"pgbouncer" ""
EOS

  install_file "$PGB_INI" 640 postgres <<EOS
; Written by scripts/hosted-db/setup.sh: a transaction-mode pooler in front of
; cluster ${PG_MAJOR}/${CLUSTER}, standing in for hosted Supabase's pooler on port ${POOLER_PORT}.
[databases]
postgres = host=127.0.0.1 port=${PORT} dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${POOLER_PORT}
unix_socket_dir =
pool_mode = transaction
default_pool_size = ${POOL_SIZE}
max_client_conn = ${MAX_CLIENT_CONN}
; Local stand-in: no passwords; a user must be listed in the auth file.
auth_type = trust
auth_file = ${PGB_USERS}
admin_users = pgbouncer, supabase_admin
stats_users = postgres
ignore_startup_parameters = extra_float_digits
pidfile = ${PGB_PID}
logfile = ${PGB_LOG}
EOS
}

start_pgbouncer() {
  log "starting pgbouncer on 127.0.0.1:${POOLER_PORT} (transaction mode, pool size ${POOL_SIZE})"
  port_in_use "$POOLER_PORT" && die "port $POOLER_PORT is already in use by another program; stop it first"
  runuser -u postgres -- /usr/sbin/pgbouncer -d -q "$PGB_INI" ||
    die "pgbouncer failed to start; see $PGB_LOG"
}

ensure_pgbouncer() {
  local pid
  if pid=$(pgbouncer_pid); then
    if changed "$PGB_DIR"; then
      log "pgbouncer configuration changed: restarting it"
      stop_pgbouncer "$pid"
      start_pgbouncer
    else
      log "pgbouncer is running (pid $pid) with this configuration"
    fi
  else
    rm -f "$PGB_PID"
    start_pgbouncer
  fi
}

wait_for_pgbouncer() {
  local i
  for i in $(seq 1 50); do
    psql -X -At -h 127.0.0.1 -p "$POOLER_PORT" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 && return 0
    ((i < 50)) || die "pgbouncer does not answer on 127.0.0.1:${POOLER_PORT}; see $PGB_LOG"
    sleep 0.2
  done
}
