# Sourced by setup.sh: what a new hosted project has before its first
# migration, in template1 (so every database created later has it too: the
# tests' templates and clones) and in postgres; and --reset. Needs
# lib/common.sh and lib/cluster.sh.
# shellcheck shell=bash

# The SQL each database gets, in order (files in sql/). Roles are cluster-wide
# and run with every bootstrap; pg_cron and pg_net are not created anywhere
# (the migrations create them, and they work only in postgres).
readonly BOOTSTRAP_DATABASES=(template1 postgres)
bootstrap_files() { # bootstrap_files DB
  local files=(roles.sql)
  [[ $1 == postgres ]] && files+=(project-database.sql)
  files+=(database.sql default-privileges.sql event-triggers.sql vault.sql)
  printf "${SQL_DIR}/%s\n" "${files[@]}"
}

# The stamp holds one line per database: name, cluster system identifier /
# database oid, hash of its SQL. A database is bootstrapped again when it is
# new, or its SQL changed.
stamp_line() { # stamp_line DB
  local id hash
  id=$(psql_admin -d postgres -c "select (select system_identifier from pg_control_system()) || '/' || oid from pg_database where datname = '$1'")
  [[ -n $id ]] || die "database $1 does not exist in cluster ${PG_MAJOR}/${CLUSTER}"
  hash=$(bootstrap_files "$1" | xargs cat | sha256sum | cut -d' ' -f1)
  echo "$1 $id $hash"
}

bootstrap_databases() {
  local db line files others
  for db in "${BOOTSTRAP_DATABASES[@]}"; do
    line=$(stamp_line "$db")
    if [[ -f $BOOTSTRAP_STAMP ]] && grep -qxF -- "$line" "$BOOTSTRAP_STAMP"; then
      log "database $db already bootstrapped (roles, schemas, default privileges, Vault)"
      continue
    fi
    log "bootstrapping database $db (roles, schemas, default privileges, event triggers, Vault)"
    mapfile -t files < <(bootstrap_files "$db")
    { echo 'set client_min_messages = warning;'; cat "${files[@]}"; } |
      psql_admin --single-transaction -d "$db" -f - >/dev/null ||
      die "bootstrap SQL for database $db failed (see the error above)"
    others=
    [[ -f $BOOTSTRAP_STAMP ]] && others=$(grep -E '^[^ ]+ [0-9]+/[0-9]+ [0-9a-f]{64}$' "$BOOTSTRAP_STAMP" | grep -v -- "^$db " || true)
    printf '%s\n' ${others:+"$others"} "$line" >"$BOOTSTRAP_STAMP"
  done
}

# --reset: drop and recreate the database postgres (from template1, so it
# starts with template1's bootstrap), then restart the cluster.
reset_project_database() {
  log "--reset: dropping and recreating database postgres"
  if pgbouncer_pid >/dev/null; then
    # The pooler drops its connections to the old database and holds new
    # clients until RESUME (also sent if this script fails half-way).
    pooler_admin 'KILL postgres'
    trap "pooler_admin 'RESUME postgres'" EXIT
  fi
  psql_admin -d template1 -c 'drop database if exists postgres with (force)'
  psql_admin -d template1 -c 'create database postgres'
  # pg_cron's launcher and pg_net's worker stop when their database is
  # dropped and come back only with a restart of the server.
  restart_cluster "pg_cron and pg_net workers must reattach to the new database"
  if pgbouncer_pid >/dev/null; then
    pooler_admin 'RESUME postgres'
    trap - EXIT
  fi
}
