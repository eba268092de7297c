# Shared by test/run, test/demo and the benchmarks: builds electric_shapes, installs it together
# with a copy of the PostgreSQL server into a private tree (so runs never touch or depend on the
# system's extension directory, and several checkouts can test at once), and runs commands as the
# postgres account, since initdb and postgres refuse to run as root.

ES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}

# Builds the library and installs it plus the server into $1/install; sets PGBIN. Fails when the
# build fails. The server is copied without any electric_shapes files the system may have
# installed, so tests can only ever load the library just built.
es_build_and_install() {
  local work=$1
  local bindir pkglibdir sharedir
  bindir=$($PG_CONFIG --bindir)
  pkglibdir=$($PG_CONFIG --pkglibdir)
  sharedir=$($PG_CONFIG --sharedir)
  make -C "$ES_ROOT" -s -j2 PG_CONFIG="$PG_CONFIG" ${WERROR:+WERROR=1} >/dev/null || return 1
  mkdir -p "$work/install$bindir" "$work/install$pkglibdir" "$work/install$sharedir"
  cp -a "$bindir/." "$work/install$bindir/"
  cp -a "$pkglibdir/." "$work/install$pkglibdir/"
  cp -a "$sharedir/." "$work/install$sharedir/"
  rm -f "$work/install$pkglibdir"/electric_shapes.* "$work/install$sharedir"/extension/electric_shapes[.-]*
  rm -rf "$work/install$pkglibdir/bitcode/electric_shapes" "$work/install$pkglibdir/bitcode/electric_shapes.index.bc"
  make -C "$ES_ROOT" -s PG_CONFIG="$PG_CONFIG" install DESTDIR="$work/install" >/dev/null || return 1
  cmp -s "$ES_ROOT/electric_shapes.so" "$work/install$pkglibdir/electric_shapes.so" || {
    echo "the installed electric_shapes.so is not the one just built" >&2; return 1; }
  PGBIN="$work/install$bindir"
  export PGBIN
}

# Makes a scratch directory the postgres account owns.
es_make_workdir() {
  local work
  work=$(mktemp -d /tmp/electric_shapes.XXXXXX)
  chmod 755 "$work"
  echo "$work"
}

# Hands the scratch directory to the postgres account when running as root.
es_chown_workdir() {
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$1"
  return 0
}

# Runs a command as the postgres account when root, else as the current user.
es_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    # setpriv execs the command itself (no wrapper process), so signals reach it directly.
    setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@"
  else
    "$@"
  fi
}
