#!/usr/bin/env bash
# Makes sure a PostgreSQL cluster with TimescaleDB answers on 127.0.0.1:55432 for the test suite's TimescaleDB run
# (Debian bookworm; how it was first built and run: ../shared/timescaledb.md).
#
# TimescaleDB is in neither Debian nor PyPI: it is built from its source tarball beside the project,
# ../shared/timescaledb/timescaledb-*.tar.gz (or the file TIMESCALEDB_SOURCE names), in a temporary directory, and
# installed into the PostgreSQL server's library directory. The server is a second cluster of its own, so that the
# machine's own PostgreSQL (on 5432, other databases, other users) keeps running untouched: TimescaleDB has to be in
# shared_preload_libraries, which takes a restart.
#
# Idempotent: it builds only when timescaledb.so is not installed, creates the cluster only when its data directory is
# missing, and starts it only when nothing answers on the port.
#
# Without the source tarball (a user's machine) it says that it skips, and exits 0 having done nothing. Either way
# it exits 0 unless something failed: whether the server answers on 127.0.0.1:55432 afterwards (pg_isready) is what
# tells `make test` to run the TimescaleDB tests.
set -euo pipefail

TS_HOST=127.0.0.1
TS_PORT=55432
TS_USER=postgres
TS_DATABASE=screener # the database of the Makefile's TIMESCALEDB_DATABASE_URL
SHARED_DIR=$(cd "$(dirname "$0")/../.." && pwd)/shared

# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

# The newest tarball in the shared folder, unless TIMESCALEDB_SOURCE names one.
source_tarball() {
    if [[ -n ${TIMESCALEDB_SOURCE:-} ]]; then
        printf '%s\n' "$TIMESCALEDB_SOURCE"
    else
        compgen -G "$SHARED_DIR/timescaledb/timescaledb-*.tar.gz" | sort -V | tail -n 1 || true
    fi
}

# The newest PostgreSQL server installed (scripts/ensure_services.sh installs Debian's).
pg_version() {
    local postgres
    postgres=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1) ||
        die "no PostgreSQL server in /usr/lib/postgresql: scripts/ensure_services.sh installs it"
    basename "$(dirname "$(dirname "$postgres")")"
}

TARBALL=$(source_tarball)
if [[ -z $TARBALL || ! -f $TARBALL ]]; then
    say "no TimescaleDB source at ${TARBALL:-$SHARED_DIR/timescaledb/timescaledb-*.tar.gz}: skipping;" \
        "the TimescaleDB tests will be skipped"
    exit 0
fi

PG_VERSION=$(pg_version)
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
TS_DATA=/var/lib/postgresql/$PG_VERSION/timescaledb
BUILD_DIR=""
trap '[[ -z $BUILD_DIR ]] || rm -rf "$BUILD_DIR"' EXIT

# The cluster's files belong to postgres; / as the working directory, which postgres may not be able to read.
as_postgres() { (cd / && as_root runuser -u postgres -- "$@"); }

# --- The extension ---------------------------------------------------------------------------------------------

ts_installed() { [[ -f "$("$PG_BIN/pg_config" --pkglibdir)/timescaledb.so" ]]; }

# Runs one build step with its output in the build's log, shown only when the step fails.
build_step() {
    "$@" >>"$BUILD_DIR/build.log" 2>&1 || {
        tail -n 40 "$BUILD_DIR/build.log" >&2
        die "building TimescaleDB failed at '$*' (log above)"
    }
}

ts_build() {
    apt_install "postgresql-server-dev-$PG_VERSION" cmake libkrb5-dev gcc make
    BUILD_DIR=$(mktemp -d)
    say "building TimescaleDB from $TARBALL in $BUILD_DIR (a few minutes)"
    tar -xzf "$TARBALL" -C "$BUILD_DIR" --strip-components=1
    cd "$BUILD_DIR"
    build_step ./bootstrap -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DCMAKE_BUILD_TYPE=Release \
        -DUSE_OPENSSL=OFF -DPG_CONFIG="$PG_BIN/pg_config"
    build_step make -C build -j "$(nproc)"
    say "installing TimescaleDB into $("$PG_BIN/pg_config" --pkglibdir)"
    build_step as_root make -C build install
    cd - >/dev/null
}

# --- The cluster -----------------------------------------------------------------------------------------------

ts_answers() { "$PG_BIN/pg_isready" -q -h "$TS_HOST" -p "$TS_PORT" -t 2; }
ts_psql() { "$PG_BIN/psql" -h "$TS_HOST" -p "$TS_PORT" -U "$TS_USER" -w -Atq "$@"; }

ts_cluster_create() {
    id postgres >/dev/null 2>&1 || die "no user postgres: scripts/ensure_services.sh installs PostgreSQL, which adds it"
    say "creating the TimescaleDB cluster in $TS_DATA"
    as_root install -d -o postgres -g postgres -m 700 "$TS_DATA"
    as_postgres "$PG_BIN/initdb" -D "$TS_DATA" -A trust -U "$TS_USER" >/dev/null
    as_postgres tee -a "$TS_DATA/postgresql.conf" >/dev/null <<EOF

# Added by scripts/ensure_timescaledb.sh: the test suite's TimescaleDB, beside the machine's own PostgreSQL.
shared_preload_libraries = 'timescaledb'
port = $TS_PORT
listen_addresses = '$TS_HOST'
unix_socket_directories = '$TS_DATA'
timescaledb.telemetry_level = off
EOF
}

ts_start() {
    as_root test -f "$TS_DATA/PG_VERSION" || ts_cluster_create
    say "starting the TimescaleDB cluster in $TS_DATA"
    as_postgres "$PG_BIN/pg_ctl" -D "$TS_DATA" -l "$TS_DATA/log" -w start >/dev/null ||
        die "pg_ctl could not start the cluster in $TS_DATA: see $TS_DATA/log"
    wait_for "TimescaleDB on $TS_HOST:$TS_PORT" ts_answers
}

# The version that CREATE EXTENSION installs; fails when the server on the port cannot create it.
ts_version() {
    local preloaded version
    preloaded=$(ts_psql -d postgres -c "SELECT current_setting('shared_preload_libraries') ~ 'timescaledb'") ||
        die "cannot connect as $TS_USER without a password to the PostgreSQL on $TS_HOST:$TS_PORT"
    [[ $preloaded == t ]] || die "the PostgreSQL on $TS_HOST:$TS_PORT does not preload timescaledb"
    version=$(ts_psql -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
    [[ -n $version ]] || die "the PostgreSQL on $TS_HOST:$TS_PORT has no timescaledb extension"
    printf '%s\n' "$version"
}

ts_database_exists() {
    [[ $(ts_psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$TS_DATABASE'") == 1 ]]
}

if ts_installed; then
    say "TimescaleDB is installed in $("$PG_BIN/pg_config" --pkglibdir)"
else
    ts_build
fi
ts_answers || ts_start
version=$(ts_version)
ts_database_exists || ts_psql -d postgres -c "CREATE DATABASE $TS_DATABASE"
say "TimescaleDB $version answers on $TS_HOST:$TS_PORT (PostgreSQL $PG_VERSION in $TS_DATA;" \
    "user $TS_USER, database $TS_DATABASE)"
