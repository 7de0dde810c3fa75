#!/usr/bin/env bash
# Turns this Debian 12 machine into a local stand-in for a *hosted Supabase*
# Postgres: a separate PostgreSQL 15 cluster "15/hosted" on 127.0.0.1:54322
# whose database `postgres` looks, to migrations, like a hosted project's:
#
# - `supabase_admin` is the bootstrap superuser; `postgres` is demoted
#   (NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS, pg_monitor)
#   and owns the database, as on hosted;
# - supautils lets `postgres` create privileged extensions (pg_cron, pg_net,
#   supabase_vault, pgcrypto, ...) as `supabase_admin`, forces pg_cron into
#   pg_catalog, protects the reserved roles;
# - anon / authenticated / service_role / authenticator and friends, the
#   `extensions` schema, and default privileges that grant everything `postgres`
#   creates in `public` to anon, authenticated and service_role;
# - pg_cron, pg_net and Vault preloaded and working in `postgres`; Vault is
#   installed before any migration; hosted's after-create scripts and event
#   triggers give `postgres` access to cron, net and vault;
# - the same per-database defaults (extensions schema, default privileges,
#   event triggers, pgcrypto & co, Vault) in template1, so every database
#   created later (the tests' templates and clones) starts like a hosted one;
# - PgBouncer in transaction mode on 127.0.0.1:6543 (hosted's pooler port).
#
# Usage: scripts/hosted-db/setup.sh [--reset] [VENDOR_DIR]
#   VENDOR_DIR (or $HOSTED_DB_VENDOR_DIR) holds pg_net-0.20.4.tar.gz,
#   supabase_vault-0.3.1.tar.gz and supautils-3.4.0.tar.gz; default
#   <repository>/../shared/vendor.
#   --reset drops and recreates the `postgres` database (all migrations, data,
#   cron jobs and Vault secrets are lost), restarts the cluster and bootstraps
#   again: the state right after a first setup.
#
# Idempotent: a second run installs, builds, writes, restarts and runs nothing
# that is already in place. Run as root. Undo with scripts/hosted-db/teardown.sh.
#
# The pieces: lib/common.sh (paths, ports, versions, helpers), lib/build.sh
# (packages, extensions), lib/cluster.sh (cluster, configuration, Vault key),
# lib/bootstrap.sh (the SQL in sql/, per database; --reset), lib/pgbouncer.sh.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
for piece in build cluster bootstrap pgbouncer; do
  # shellcheck source=/dev/null
  source "${HOSTED_DB_DIR}/lib/${piece}.sh"
done

usage() { sed -n '/^# Usage:/,/^# Idempotent/p' "$0" | sed 's/^# \{0,1\}//'; }

RESET=0
VENDOR_ARG=
for arg in "$@"; do
  case "$arg" in
    --reset) RESET=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $arg (see --help)" ;;
    *) [[ -z $VENDOR_ARG ]] || die "only one VENDOR_DIR argument is accepted (got '$VENDOR_ARG' and '$arg')"
       VENDOR_ARG=$arg ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "run as root (e.g. sudo $0): it installs packages and creates a Postgres cluster"

REPO_ROOT=$(cd "${HOSTED_DB_DIR}/../.." && pwd)
VENDOR_DIR=${VENDOR_ARG:-${HOSTED_DB_VENDOR_DIR:-${REPO_ROOT}/../shared/vendor}}
VENDOR_DIR=$(realpath -m "$VENDOR_DIR")

# 1. Vendor tarballs, Debian packages, extensions (built only when missing).
check_vendor_tarballs
install_packages
install_extensions

# 2. The cluster, its configuration, started / reloaded / restarted as needed.
create_cluster
write_vault_key
write_cluster_config
apply_cluster_config

# 3. --reset: an empty `postgres` database again.
if ((RESET)); then reset_project_database; fi

# 4. What a new hosted project has before its first migration, in template1
#    and postgres (runs only for a new database or changed SQL).
bootstrap_databases

# 5. The pooler.
write_pgbouncer_config
ensure_pgbouncer

# 6. Ready: the pooler answers, pg_cron's launcher and pg_net's worker run.
wait_for_pgbouncer
for i in $(seq 1 60); do
  workers=$(psql_admin -d postgres -c "select count(*) filter (where backend_type = 'pg_cron launcher') || ' ' ||
                                               count(*) filter (where backend_type ilike 'pg_net%')
                                          from pg_stat_activity")
  [[ $workers == "1 1" ]] && break
  ((i < 60)) || die "background workers not running (pg_cron launcher, pg_net worker: $workers); see /var/log/postgresql/postgresql-${PG_MAJOR}-${CLUSTER}.log"
  sleep 0.5
done

[[ $(psql_admin -d postgres -c "select rolsuper from pg_roles where rolname = 'postgres'") == f ]] ||
  die "role postgres is a superuser: the bootstrap did not run; remove $BOOTSTRAP_STAMP and run this again"

cat <<EOS
hosted-db: ready: PostgreSQL ${PG_MAJOR} cluster ${PG_MAJOR}/${CLUSTER}, database postgres, supautils + pg_cron + pg_net + Vault
hosted-db:   direct    postgres://postgres@127.0.0.1:${PORT}/postgres         (non-superuser, as on hosted)
hosted-db:   pooled    postgres://postgres@127.0.0.1:${POOLER_PORT}/postgres          (PgBouncer, transaction mode, pool ${POOL_SIZE})
hosted-db:   superuser postgres://supabase_admin@127.0.0.1:${PORT}/postgres   (platform only: not for migrations)
hosted-db:   pooler admin console: psql -h 127.0.0.1 -p ${POOLER_PORT} -U pgbouncer pgbouncer -c 'show pools'
hosted-db:   push migrations: npx supabase db push --db-url postgres://postgres@127.0.0.1:${PORT}/postgres --yes
hosted-db:   back to this state: $0 --reset     remove everything: $(dirname "$0")/teardown.sh
EOS
