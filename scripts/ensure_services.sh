#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 for the test suite and the benchmarks (Debian bookworm).
#
# Idempotent: when both already answer it only checks them. Otherwise it installs the Debian packages that are
# missing, starts the servers and lets user `postgres` connect over TCP on loopback without a password.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
PG_DATABASE=screener # the database of config.settings.test's default DATABASE_URL
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_DIR=/var/lib/redis
REDIS_LOG=/var/log/redis/ci.log

# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

# --- PostgreSQL ------------------------------------------------------------------------------------------------

pg_answers() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; }
pg_trusts() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -w -Atqc 'SELECT 1' >/dev/null 2>&1; }

# Prints "version name" of the local cluster on PG_PORT, or else of the first local cluster; nothing if none.
pg_cluster() {
    pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '
        $3 == port { print $1, $2; found = 1; exit }
        first == "" { first = $1 " " $2 }
        END { if (!found && first != "") print first }'
}

pg_install() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
        apt_install postgresql
    fi
}

pg_start() {
    local -a cluster
    read -ra cluster < <(pg_cluster) || true
    if ((${#cluster[@]} == 0)); then
        cluster=("$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)" main)
        say "creating PostgreSQL cluster ${cluster[*]} on port $PG_PORT"
        as_root pg_createcluster --port "$PG_PORT" "${cluster[@]}" >/dev/null
    fi
    if as_root pg_ctlcluster "${cluster[@]}" status >/dev/null 2>&1; then
        return # started by the package's install script: it may still be coming up
    fi
    say "starting PostgreSQL cluster ${cluster[*]}"
    as_root pg_ctlcluster --skip-systemctl-redirect "${cluster[@]}" start ||
        die "pg_ctlcluster could not start cluster ${cluster[*]}: see its log in /var/log/postgresql/"
}

# Debian's default pg_hba.conf asks for a password over TCP; the suite connects as postgres without one.
pg_trust_loopback() {
    local -a cluster
    local hba
    read -ra cluster < <(pg_cluster) || true
    ((${#cluster[@]} == 2)) ||
        die "PostgreSQL on $PG_HOST:$PG_PORT refuses $PG_USER without a password, and it is no local cluster to configure"
    hba=$(as_root pg_conftool -s "${cluster[@]}" show hba_file)
    say "trusting loopback connections in $hba"
    # First match wins in pg_hba.conf, so the lines go on top.
    as_root sed -i '1i\
# Added by scripts/ensure_services.sh: passwordless TCP on loopback for the test suite.\
host    all    all    127.0.0.1/32    trust\
host    all    all    ::1/128         trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "${cluster[@]}" reload
}

pg_database_exists() {
    [[ $(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -w -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'") == 1 ]]
}

ensure_postgresql() {
    if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
        apt_install postgresql-client
    fi
    if ! pg_answers; then
        pg_install
        pg_start
        wait_for "PostgreSQL on $PG_HOST:$PG_PORT" pg_answers
    fi
    if ! pg_trusts; then
        pg_trust_loopback
        wait_for "PostgreSQL (passwordless login as $PG_USER)" pg_trusts
    fi
    pg_database_exists || createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -w "$PG_DATABASE"
    say "PostgreSQL answers on $PG_HOST:$PG_PORT (user $PG_USER, database $PG_DATABASE)"
}

# --- Redis -----------------------------------------------------------------------------------------------------

# PING over bash's /dev/tcp, so that the check needs no redis-cli.
redis_answers() {
    local reply=""
    { exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3>&-
    [[ $reply == $'+PONG\r' ]]
}

ensure_redis() {
    if ! redis_answers; then
        command -v redis-server >/dev/null 2>&1 || apt_install redis-server
        # The package may have started its own server on the same port.
        if ! redis_answers; then
            say "starting redis-server on $REDIS_HOST:$REDIS_PORT"
            as_root mkdir -p "$REDIS_DIR" "$(dirname "$REDIS_LOG")"
            as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
                --appendonly no --dir "$REDIS_DIR" --logfile "$REDIS_LOG" ||
                die "redis-server did not start: see $REDIS_LOG"
        fi
        wait_for "Redis on $REDIS_HOST:$REDIS_PORT (log: $REDIS_LOG)" redis_answers
    fi
    say "Redis answers on $REDIS_HOST:$REDIS_PORT"
}

ensure_postgresql
ensure_redis
