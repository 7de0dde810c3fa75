# Sourced by setup.sh: the cluster 15/hosted, its configuration files, the
# Vault root key, supautils' after-create scripts, and starting, reloading or
# restarting it only as needed. Needs lib/common.sh.
# shellcheck shell=bash

wait_for_cluster() {
  for _ in $(seq 1 60); do
    if pg_isready -q -h "$SOCKET_DIR" -p "$PORT" -U supabase_admin -d postgres && psql_admin -d postgres -c 'select 1' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  die "cluster ${PG_MAJOR}/${CLUSTER} did not accept connections within 30 s; see /var/log/postgresql/postgresql-${PG_MAJOR}-${CLUSTER}.log"
}

# pg_ctlcluster ACTION...: its post-start check connects as the OS user's role
# `postgres`, which does not exist yet on the very first start: that warning
# is expected and dropped; anything else it prints is shown.
ctlcluster() {
  local out rc=0
  out=$(pg_ctlcluster --skip-systemctl-redirect "$PG_MAJOR" "$CLUSTER" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | grep -v -e '^$' -e 'disabling startup checks' -e 'role "postgres" does not exist' >&2 || true
  return "$rc"
}

start_cluster() {
  log "starting cluster ${PG_MAJOR}/${CLUSTER}"
  ctlcluster start ||
    die "cluster ${PG_MAJOR}/${CLUSTER} failed to start; see /var/log/postgresql/postgresql-${PG_MAJOR}-${CLUSTER}.log"
  wait_for_cluster
}

restart_cluster() {
  log "restarting cluster ${PG_MAJOR}/${CLUSTER} ($1)"
  ctlcluster restart -m fast ||
    die "cluster ${PG_MAJOR}/${CLUSTER} failed to restart; see /var/log/postgresql/postgresql-${PG_MAJOR}-${CLUSTER}.log"
  wait_for_cluster
}

create_cluster() {
  if cluster_exists; then
    local existing_port
    existing_port=$(pg_lsclusters -h "$PG_MAJOR" "$CLUSTER" | awk '{print $3}')
    [[ $existing_port == "$PORT" ]] ||
      die "cluster ${PG_MAJOR}/${CLUSTER} exists but uses port $existing_port, not $PORT; remove it with scripts/hosted-db/teardown.sh and run this again"
    log "cluster ${PG_MAJOR}/${CLUSTER} exists (port $PORT)"
    return 0
  fi
  port_in_use "$PORT" && die "port $PORT is already in use by another program; stop it first"
  log "creating cluster ${PG_MAJOR}/${CLUSTER} on port $PORT (bootstrap superuser supabase_admin)"
  # As on hosted, initdb's bootstrap superuser is supabase_admin; the role
  # postgres is created afterwards and never is a superuser.
  pg_createcluster "$PG_MAJOR" "$CLUSTER" --port "$PORT" --encoding UTF8 --locale C.UTF-8 -- \
    --username=supabase_admin --auth=trust >/dev/null ||
    die "pg_createcluster ${PG_MAJOR} ${CLUSTER} failed"
}

# The Vault root key: generated once, kept with the cluster's configuration,
# readable only by postgres. Never regenerated: secrets are encrypted with it.
write_vault_key() {
  if [[ ! -s $VAULT_KEY_FILE ]]; then
    log "generating the Vault root key in $VAULT_KEY_FILE"
    (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$VAULT_KEY_FILE")
  fi
  [[ $(tr -d '\n' <"$VAULT_KEY_FILE") =~ ^[0-9a-f]{64}$ ]] ||
    die "$VAULT_KEY_FILE does not hold 64 hex characters; restore it (secrets depend on it) or remove the cluster with teardown.sh"
  chown postgres:postgres "$VAULT_KEY_FILE"
  chmod 600 "$VAULT_KEY_FILE"

  install_file "$VAULT_GETKEY" 700 postgres <<EOS
#!/bin/sh
# vault.getkey_script: prints the Vault root key (64 hex characters).
exec cat '${VAULT_KEY_FILE}'
EOS
}

write_cluster_config() {
  install_file "${CONF_DIR}/pg_hba.conf" 640 postgres <<'EOS'
# Written by scripts/hosted-db/setup.sh. Local stand-in: every local connection
# is trusted (no passwords), over the Unix socket and over 127.0.0.1 / ::1.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
host    all          all   ::1/128       trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOS

  install_file "${CONF_DIR}/conf.d/hosted-db.conf" 644 postgres <<EOS
# Written by scripts/hosted-db/setup.sh: hosted Supabase settings that
# migrations can observe. supautils' settings are in supautils.conf.
listen_addresses = '127.0.0.1'
port = ${PORT}
unix_socket_directories = '${SOCKET_DIR}'
max_connections = 100
timezone = 'UTC'
log_timezone = 'UTC'

shared_preload_libraries = 'pg_stat_statements, pg_cron, pg_net, supabase_vault, supautils'

# pg_cron: scheduler in the project's database; each job opens a normal libpq
# connection (as the job's owner) over the Unix socket, as on hosted.
cron.database_name = 'postgres'
cron.use_background_workers = off
cron.host = '${SOCKET_DIR}'
cron.max_running_jobs = 32

# pg_net's worker serves only this database.
pg_net.database_name = 'postgres'

# Vault reads its root key from this script at server start.
vault.getkey_script = '${VAULT_GETKEY}'
EOS

  install_file "${CONF_DIR}/conf.d/supautils.conf" 644 postgres <<EOS
# Written by scripts/hosted-db/setup.sh: supautils as hosted Supabase has it
# (supabase/postgres ansible/files/postgresql_config/supautils.conf.j2, minus the
# policy grants on auth/storage tables, which do not exist here). Extensions of
# the list that are not installed on this machine are simply unavailable.
supautils.superuser = 'supabase_admin'
supautils.privileged_role = 'postgres'
supautils.privileged_extensions = 'address_standardizer, address_standardizer_data_us, autoinc, bloom, btree_gin, btree_gist, citext, cube, dblink, dict_int, dict_xsyn, earthdistance, fuzzystrmatch, hstore, http, hypopg, index_advisor, insert_username, intarray, isn, ltree, moddatetime, orioledb, pg_cron, pg_graphql, pg_hashids, pg_jsonschema, pg_net, pg_partman, pg_repack, pg_stat_monitor, pg_stat_statements, pg_tle, pg_trgm, pg_walinspect, pgaudit, pgcrypto, pgjwt, pg_prewarm, pgmq, pgroonga, pgroonga_database, pgrouting, pgrowlocks, pgstattuple, pgsodium, pgtap, plcoffee, pljava, plls, plpgsql, plpgsql_check, plv8, postgis, postgis_raster, postgis_sfcgal, postgis_tiger_geocoder, postgis_topology, postgres_fdw, refint, rum, seg, sslinfo, supabase_vault, supautils, tablefunc, tcn, timescaledb, tsm_system_rows, tsm_system_time, unaccent, uuid-ossp, vector, wrappers'
supautils.extensions_parameter_overrides = '{"pg_cron":{"schema":"pg_catalog"}}'
supautils.extension_custom_scripts_path = '${CUSTOM_SCRIPTS_DIR}'
supautils.reserved_roles = 'supabase_admin, supabase_auth_admin, supabase_storage_admin, supabase_read_only_user, supabase_replication_admin, dashboard_user, pgbouncer, service_role*, authenticator*, authenticated*, anon*'
supautils.reserved_memberships = 'pg_read_server_files, pg_write_server_files, pg_execute_server_program, authenticator'
supautils.privileged_role_allowed_configs = 'auto_explain.log_min_duration, auto_explain.log_nested_statements, log_lock_waits, log_min_messages, pg_net.batch_size, pg_net.ttl, pgaudit.log, pgaudit.log_catalog, pgaudit.log_client, pgaudit.log_level, pgaudit.log_relation, pgaudit.log_rows, pgaudit.log_statement, pgaudit.log_statement_once, pgaudit.role, pgrst.*, plan_filter.*, safeupdate.enabled, session_replication_role, track_io_timing'
EOS

  # Hosted's per-extension after-create scripts (run by supautils as
  # supabase_admin right after CREATE EXTENSION, whoever issued it).
  local ext
  for ext in pg_cron supabase_vault; do
    install_file "${CUSTOM_SCRIPTS_DIR}/${ext}/after-create.sql" 644 postgres <"${SQL_DIR}/after-create/${ext}.sql"
  done
}

# Start, reload or restart only as needed.
apply_cluster_config() {
  if [[ $(cluster_status) != online ]]; then
    start_cluster
  elif changed "${CONF_DIR}/conf.d/" || changed "${CONF_DIR}/pg_hba.conf" || changed "$VAULT_GETKEY"; then
    log "configuration changed: reloading"
    psql_admin -d postgres -c 'select pg_reload_conf()' >/dev/null
    sleep 1
    local pending
    pending=$(psql_admin -d postgres -c "select string_agg(name, ', ') from pg_settings where pending_restart")
    if [[ -n $pending ]] || changed "$VAULT_GETKEY"; then
      restart_cluster "settings that need a restart changed: ${pending:-vault.getkey_script}"
    fi
  else
    log "cluster ${PG_MAJOR}/${CLUSTER} is running with this configuration"
    wait_for_cluster
  fi

  local loaded
  loaded=$(psql_admin -d postgres -c 'show shared_preload_libraries')
  [[ $loaded == *supautils* && $loaded == *supabase_vault* && $loaded == *pg_net* && $loaded == *pg_cron* ]] ||
    restart_cluster "shared_preload_libraries is '$loaded'"
}
