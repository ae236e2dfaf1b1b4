#!/usr/bin/env bash
# A private PostgreSQL server for the test suite, from Debian's packages.
#
#   scripts/postgres.sh start   initdb (first time) + start + create role/db safeguard_test; waits until ready
#   scripts/postgres.sh stop    stop it (no error when it is not running)
#   scripts/postgres.sh status  exit 0 when running
#   scripts/postgres.sh url     print the SQLAlchemy URL tests use (SAFEGUARD_TEST_POSTGRES_URL)
#   scripts/postgres.sh hold PID     start, and record PID as a user of the server
#   scripts/postgres.sh release PID  forget PID; stop the server when no live user is left
#
# `make test` uses hold/release, so two test runs sharing a checkout (or a developer's own
# `postgres-start`) do not pull the server out from under each other.
#
# It listens on 127.0.0.1 only, on an uncommon port (SAFEGUARD_PG_PORT, default 55432; when that
# is taken and SAFEGUARD_PG_PORT is unset, a free port is picked and remembered beside the data
# directory), plus a unix socket inside its data directory, with trust authentication: for local
# tests only, never for real data. Data lives in var/pg-test (SAFEGUARD_PG_DATA overrides).
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user
# made by Debian's package.
# Durability is switched off (fsync, synchronous_commit, full_page_writes): it is a throwaway.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${SAFEGUARD_PG_PORT:-55432}"
ROLE="safeguard_test"
DBNAME="safeguard_test"

die() { echo "postgres.sh: $*" >&2; exit 1; }

find_bin() {
    local candidate dir=""
    if [ -n "${SAFEGUARD_PG_BIN:-}" ]; then
        dir="$SAFEGUARD_PG_BIN"
    else
        # Highest installed major version wins.
        for candidate in $(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -name initdb \
                2>/dev/null | sort -V); do
            dir="$(dirname "$candidate")"
        done
    fi
    if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ]; then
        die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin; run 'make system-deps' (apt-get install -y postgresql)"
    fi
    echo "$dir"
}

# Run a command as the user that owns the server: `postgres` when we are root, else ourselves.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        # From /, since the postgres user may not be allowed into the current directory.
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

data_dir() {
    local dir="${SAFEGUARD_PG_DATA:-$ROOT/var/pg-test}"
    # The unix socket path must stay under ~107 bytes, and as root the `postgres` user must be
    # able to reach the directory. If not, fall back to a per-checkout directory under /tmp.
    local sock_len=$(( ${#dir} + 20 ))
    local reachable=1
    if [ "$(id -u)" -eq 0 ] && [ -z "${SAFEGUARD_PG_DATA:-}" ]; then
        runuser -u postgres -- test -x "$ROOT" 2>/dev/null || reachable=0
    fi
    if [ "$sock_len" -gt 100 ] || [ "$reachable" -eq 0 ]; then
        local key
        key="$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
        dir="${TMPDIR:-/tmp}/safeguard-pg-test-$key"
    fi
    echo "$dir"
}

PGDATA_DIR="$(data_dir)"
LOG_FILE="$PGDATA_DIR.log"
# The port this checkout's server last started on, when the default was taken by another server.
PORT_FILE="$PGDATA_DIR.port"
if [ -z "${SAFEGUARD_PG_PORT:-}" ] && [ -s "$PORT_FILE" ]; then
    PORT="$(cat "$PORT_FILE")"
fi
HOLDERS="$PGDATA_DIR.holders"
LOCK_FILE="$PGDATA_DIR.lock"

# Serialise start/stop/hold/release between concurrent invocations.
with_lock() {
    mkdir -p "$(dirname "$PGDATA_DIR")"
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "could not lock $LOCK_FILE"
    "$@"
}

is_running() {
    local bin
    bin="$(find_bin)"
    [ -f "$PGDATA_DIR/PG_VERSION" ] && as_pg "$bin/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

psql_admin() {
    local bin
    bin="$(find_bin)"
    as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDATA_DIR" -p "$PORT" -U postgres \
        -d postgres "$@"
}

init_cluster() {
    local bin="$1"
    mkdir -p "$(dirname "$PGDATA_DIR")"
    if [ -d "$PGDATA_DIR" ] && [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        rm -rf "$PGDATA_DIR"   # a half-made directory from an interrupted initdb
    fi
    mkdir -p "$PGDATA_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$PGDATA_DIR"
        touch "$LOG_FILE" && chown postgres:postgres "$LOG_FILE"
    fi
    chmod 700 "$PGDATA_DIR"
    echo "postgres.sh: initdb $PGDATA_DIR"
    as_pg "$bin/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust --encoding=UTF8 --no-locale \
        --no-sync >/dev/null
    as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null <<CONF

# --- scripts/postgres.sh: a throwaway server for tests ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDATA_DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
log_min_messages = warning
# Test databases live seconds; an autovacuum worker on one makes DROP DATABASE ... WITH (FORCE)
# fail for a non-superuser ("must be a member of the role whose process is being terminated").
autovacuum = off
CONF
    # trust on the socket and on loopback only; nothing else may connect.
    as_pg tee "$PGDATA_DIR/pg_hba.conf" >/dev/null <<'HBA'
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
HBA
}

port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    local bin
    bin="$(find_bin)"
    if [ -f "$PGDATA_DIR/PG_VERSION" ] && [ "$(id -u)" -eq 0 ]; then
        # A data dir copied or made by root (e.g. restored cache): hand it back to postgres.
        [ "$(stat -c %U "$PGDATA_DIR")" = postgres ] || chown -R postgres:postgres "$PGDATA_DIR"
    fi
    [ -f "$PGDATA_DIR/PG_VERSION" ] || init_cluster "$bin"
    if is_running; then
        echo "postgres.sh: already running ($PGDATA_DIR)"
    else
        if [ "$(id -u)" -eq 0 ]; then
            touch "$LOG_FILE" && chown postgres:postgres "$LOG_FILE"
        fi
        if [ -z "${SAFEGUARD_PG_PORT:-}" ] && port_taken "$PORT"; then
            # Another checkout's (or anybody's) server holds the port: take a free one.
            PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
            echo "$PORT" >"$PORT_FILE"
        fi
        echo "postgres.sh: starting on 127.0.0.1:$PORT"
        if ! as_pg "$bin/pg_ctl" start -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 \
                -o "-p $PORT" >/dev/null 9>&-; then
            echo "postgres.sh: server did not start; last lines of $LOG_FILE:" >&2
            tail -n 30 "$LOG_FILE" >&2 || true
            echo "postgres.sh: if another server holds port $PORT, pick another with" \
                "SAFEGUARD_PG_PORT=<port>" >&2
            exit 1
        fi
    fi
    local i
    for i in $(seq 1 60); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
            break
        fi
        [ "$i" -eq 60 ] && die "server not ready on 127.0.0.1:$PORT after 30 s (see $LOG_FILE)"
        sleep 0.5
    done
    psql_admin <<SQL
SELECT 'CREATE ROLE $ROLE LOGIN CREATEDB'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') \gexec
SELECT 'CREATE DATABASE $DBNAME OWNER $ROLE'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DBNAME') \gexec
SQL
    echo "postgres.sh: ready: $(cmd_url)"
}

cmd_stop() {
    local bin
    bin="$(find_bin)"
    if is_running; then
        as_pg "$bin/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 60 >/dev/null
        echo "postgres.sh: stopped"
    else
        echo "postgres.sh: not running"
    fi
}

live_holders() {
    local f pid n=0
    mkdir -p "$HOLDERS"
    for f in "$HOLDERS"/*; do
        [ -e "$f" ] || continue
        pid="$(basename "$f")"
        if kill -0 "$pid" 2>/dev/null; then
            n=$((n + 1))
        else
            rm -f "$f"
        fi
    done
    echo "$n"
}

cmd_hold() {
    local pid="${1:?hold needs a PID}"
    cmd_start
    mkdir -p "$HOLDERS"
    echo "$pid" >"$HOLDERS/$pid"
}

cmd_release() {
    local pid="${1:?release needs a PID}"
    rm -f "$HOLDERS/$pid"
    if [ "$(live_holders)" -gt 0 ]; then
        echo "postgres.sh: still used by another run; left running"
        return 0
    fi
    if is_running; then
        # Nobody uses it: drop what test runs left behind (killed runs), then stop.
        psql_admin -t -A -c "SELECT datname FROM pg_database WHERE datname NOT IN
            ('postgres', 'template0', 'template1', '$DBNAME')" | while read -r name; do
            if [ -n "$name" ]; then
                psql_admin -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" </dev/null
            fi
        done
    fi
    cmd_stop
}

cmd_url() {
    echo "postgresql+psycopg://$ROLE@127.0.0.1:$PORT/$DBNAME"
}

case "${1:-}" in
    start) with_lock cmd_start ;;
    stop) with_lock cmd_stop ;;
    hold) with_lock cmd_hold "${2:-}" ;;
    release) with_lock cmd_release "${2:-}" ;;
    status) if is_running; then echo "running ($PGDATA_DIR)"; else echo "not running"; exit 3; fi ;;
    url) cmd_url ;;
    *) echo "usage: $0 start|stop|status|url|hold PID|release PID" >&2; exit 2 ;;
esac
