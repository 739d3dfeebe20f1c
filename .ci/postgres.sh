# shellcheck shell=bash
# Sourced by .ci/run. Defines:
#   pg_start  start a throwaway PostgreSQL cluster on 127.0.0.1 (free port, trust auth) and export
#             SQLSAFE_TEST_POSTGRES_URL=postgresql+psycopg://sqlsafe@127.0.0.1:PORT/postgres
#   pg_stop   stop it and remove its directory
# Usage in .ci/run:
#   source .ci/postgres.sh
#   pg_start
#   trap pg_stop EXIT
# Both return non-zero on failure instead of exiting, since they run inside the caller's shell.

_sqlsafe_pg_bindir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    # Debian installs the server binaries outside PATH.
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1) || true
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
}

# Runs a command as the cluster's owner: the server refuses to run as root.
_sqlsafe_pg_as_owner() {
    if [ "$(id -u)" != 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$SQLSAFE_PG_USER" -- "$@"
    else
        su -s /bin/sh "$SQLSAFE_PG_USER" -c "$(printf '%q ' "$@")"
    fi
}

_sqlsafe_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
    local bindir port attempt
    # Callers may run with set -euo pipefail: every failure below is handled explicitly.
    bindir=$(_sqlsafe_pg_bindir)
    if [ -z "$bindir" ]; then
        echo "pg_start: initdb/pg_ctl not found; installing PostgreSQL from Debian packages" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 ||
            return 1
        bindir=$(_sqlsafe_pg_bindir)
        [ -n "$bindir" ] || { echo "pg_start: still no initdb/pg_ctl" >&2; return 1; }
    fi
    SQLSAFE_PG_USER=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        if id postgres >/dev/null 2>&1; then SQLSAFE_PG_USER=postgres; else SQLSAFE_PG_USER=nobody; fi
    fi
    SQLSAFE_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sqlsafe-pg.XXXXXX") || return 1
    SQLSAFE_PG_BINDIR=$bindir
    export SQLSAFE_PG_DIR SQLSAFE_PG_BINDIR SQLSAFE_PG_USER
    chown "$SQLSAFE_PG_USER" "$SQLSAFE_PG_DIR" || return 1
    _sqlsafe_pg_as_owner "$bindir/initdb" -D "$SQLSAFE_PG_DIR/data" -U sqlsafe --auth=trust \
        -E UTF8 --no-locale >"$SQLSAFE_PG_DIR/initdb.log" 2>&1 ||
        { cat "$SQLSAFE_PG_DIR/initdb.log" >&2; return 1; }
    # The port is picked before the server binds it, so another process may take it first: retry.
    for attempt in 1 2 3; do
        port=$(_sqlsafe_free_port) || return 1
        if _sqlsafe_pg_as_owner "$bindir/pg_ctl" -D "$SQLSAFE_PG_DIR/data" -l "$SQLSAFE_PG_DIR/server.log" \
            -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$SQLSAFE_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            export SQLSAFE_TEST_POSTGRES_URL="postgresql+psycopg://sqlsafe@127.0.0.1:$port/postgres"
            echo "pg_start: PostgreSQL ($bindir) on 127.0.0.1:$port, data in $SQLSAFE_PG_DIR" >&2
            return 0
        fi
        echo "pg_start: attempt $attempt failed to start on port $port" >&2
    done
    cat "$SQLSAFE_PG_DIR/server.log" >&2
    return 1
}

pg_stop() {
    [ -n "${SQLSAFE_PG_DIR:-}" ] || return 0
    if [ -f "$SQLSAFE_PG_DIR/data/postmaster.pid" ]; then
        _sqlsafe_pg_as_owner "$SQLSAFE_PG_BINDIR/pg_ctl" -D "$SQLSAFE_PG_DIR/data" -m fast -w stop >/dev/null ||
            echo "pg_stop: pg_ctl stop failed" >&2
    fi
    rm -rf "$SQLSAFE_PG_DIR"
    unset SQLSAFE_PG_DIR SQLSAFE_PG_BINDIR SQLSAFE_PG_USER SQLSAFE_TEST_POSTGRES_URL
}
