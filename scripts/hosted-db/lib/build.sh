# Sourced by setup.sh: the vendor tarballs, the Debian packages, and pg_net,
# supabase_vault and supautils built with PGXS (only when that version is not
# installed yet). Needs lib/common.sh and VENDOR_DIR.
# shellcheck shell=bash

check_vendor_tarballs() { # every run, even when nothing needs rebuilding
  [[ -d $VENDOR_DIR ]] || die "vendor directory $VENDOR_DIR does not exist; pass the directory holding the extension tarballs as the first argument or set HOSTED_DB_VENDOR_DIR"
  TARBALL_PG_NET="${VENDOR_DIR}/pg_net-${PG_NET_VERSION}.tar.gz"
  TARBALL_VAULT="${VENDOR_DIR}/supabase_vault-${VAULT_VERSION}.tar.gz"
  TARBALL_SUPAUTILS="${VENDOR_DIR}/supautils-${SUPAUTILS_VERSION}.tar.gz"
  local missing=() t
  for t in "$TARBALL_PG_NET" "$TARBALL_VAULT" "$TARBALL_SUPAUTILS"; do [[ -f $t ]] || missing+=("$(basename "$t")"); done
  ((${#missing[@]} == 0)) || die "missing tarball(s) in ${VENDOR_DIR}: ${missing[*]} (release tarballs of supabase/pg_net, supabase/vault, supabase/supautils; pass another directory as the first argument or set HOSTED_DB_VENDOR_DIR)"
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq || die "apt-get update failed (is Debian's apt mirror reachable?)"
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      die "apt-get install ${missing[*]} failed; run it by hand to see why"
  else
    log "Debian packages present (${PACKAGES[*]})"
  fi
  [[ -x $PG_CONFIG ]] || die "$PG_CONFIG not found although postgresql-server-dev-${PG_MAJOR} is installed"
}

build_extension() { # build_extension NAME VERSION TARBALL
  local name=$1 version=$2 tarball=$3 work src
  work=$(mktemp -d /tmp/hosted-db-build.XXXXXX)
  tar -xzf "$tarball" -C "$work"
  src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  [[ -n $src && -f $src/Makefile ]] || die "$tarball does not contain a source directory with a Makefile"
  log "building $name $version from $(basename "$tarball") (PGXS, $PG_CONFIG)"
  if ! { make -C "$src" PG_CONFIG="$PG_CONFIG" -j"$(nproc)" && make -C "$src" PG_CONFIG="$PG_CONFIG" install; } >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    die "building $name failed (log above; full log in $work/build.log)"
  fi
  rm -rf "$work"
}

install_extensions() {
  local sharedir pkglibdir lib
  sharedir=$("$PG_CONFIG" --sharedir)
  pkglibdir=$("$PG_CONFIG" --pkglibdir)
  control_version() { sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "${sharedir}/extension/$1.control" 2>/dev/null; }

  if [[ $(control_version pg_net) == "$PG_NET_VERSION" && -f ${pkglibdir}/pg_net.so && -f ${sharedir}/extension/pg_net--${PG_NET_VERSION}.sql ]]; then
    log "pg_net $PG_NET_VERSION already installed"
  else
    build_extension pg_net "$PG_NET_VERSION" "$TARBALL_PG_NET"
  fi

  if [[ $(control_version supabase_vault) == "$VAULT_VERSION" && -f ${pkglibdir}/supabase_vault.so ]]; then
    log "supabase_vault $VAULT_VERSION already installed"
  else
    build_extension supabase_vault "$VAULT_VERSION" "$TARBALL_VAULT"
  fi

  # supautils is a library without a control file: a stamp records the version
  # and the checksum of the library it installed.
  local stamp="${BUILD_STAMP_DIR}/supautils.installed"
  if [[ -f ${pkglibdir}/supautils.so && -f $stamp ]] &&
     [[ $(<"$stamp") == "$SUPAUTILS_VERSION $(sha256sum "${pkglibdir}/supautils.so" | cut -d' ' -f1)" ]]; then
    log "supautils $SUPAUTILS_VERSION already installed"
  else
    build_extension supautils "$SUPAUTILS_VERSION" "$TARBALL_SUPAUTILS"
    mkdir -p "$BUILD_STAMP_DIR"
    echo "$SUPAUTILS_VERSION $(sha256sum "${pkglibdir}/supautils.so" | cut -d' ' -f1)" >"$stamp"
  fi

  for lib in pg_cron pg_net supabase_vault supautils pg_stat_statements; do
    [[ -f ${pkglibdir}/${lib}.so ]] || die "${pkglibdir}/${lib}.so is missing after the install step"
  done
}
