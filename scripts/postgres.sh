#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on loopback for the PostgreSQL store's tests, and stops it again.
#
#   scripts/postgres.sh COMMAND [ARGS…]   runs COMMAND with TCLOCAL_TEST_POSTGRES_URL set to the
#                                         server's URL, stops the server, and exits with COMMAND's
#                                         status
#   scripts/postgres.sh                   starts the server, prints the URL, and keeps it running
#                                         until interrupted (Ctrl-C)
#
# The server lives in a temporary directory (removed at exit), listens on 127.0.0.1 on a free
# port with trust authentication, and holds one empty database, `tclocal_test`. PostgreSQL is
# found on PATH or under /usr/lib/postgresql/*/bin, and installed with apt-get when missing (as
# root, or through sudo). initdb refuses to run as root, so as root the server runs as the
# `postgres` user (or `nobody`).
#
# When TCLOCAL_TEST_POSTGRES_URL is already set, COMMAND runs against that database instead.
# When PostgreSQL cannot be installed or started, it says so on stderr and still runs COMMAND,
# without TCLOCAL_TEST_POSTGRES_URL, so the PostgreSQL tests skip instead of failing.
set -euo pipefail

say() { printf 'postgres.sh: %s\n' "$*" >&2; }

# Runs the wrapped command (or waits) without a server.
without_postgres() {
    say "$1"
    say "the PostgreSQL tests will skip (TCLOCAL_TEST_POSTGRES_URL is not set)"
    if [ "$#" -gt 1 ]; then
        shift
        # Not exec: the EXIT trap (when set) must still clean up.
        local status=0
        "$@" || status=$?
        exit "$status"
    fi
    exit 1
}

find_bin_dir() {
    # /usr/local/bin may hold links to a few of the tools only: follow them to the real folder,
    # which has createdb too.
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

install_postgres() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            return 1
        fi
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    say "PostgreSQL is not installed; installing it with apt-get"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 ||
        return 1
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    return 1
}

# A database the caller chose (their own server) is used as it is.
if [ -n "${TCLOCAL_TEST_POSTGRES_URL:-}" ]; then
    say "using the caller's TCLOCAL_TEST_POSTGRES_URL"
    if [ "$#" -eq 0 ]; then
        echo "TCLOCAL_TEST_POSTGRES_URL=$TCLOCAL_TEST_POSTGRES_URL"
        exit 0
    fi
    exec "$@"
fi

BIN_DIR="$(find_bin_dir)" || {
    install_postgres || without_postgres "PostgreSQL is not installed and cannot be installed here" "$@"
    BIN_DIR="$(find_bin_dir)" || without_postgres "PostgreSQL was installed but initdb/pg_ctl are not found" "$@"
}

# initdb and postgres refuse to run as root: as root, run them as an unprivileged user.
AS=()
if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then
        RUN_USER=postgres
    else
        RUN_USER=nobody
    fi
    if command -v runuser >/dev/null 2>&1; then
        AS=(runuser -u "$RUN_USER" --)
    else
        AS=(su -s /bin/sh "$RUN_USER" -c '"$0" "$@"')
    fi
fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/tclocal-postgres.XXXXXX")"
cleanup() {
    if [ -f "$DIR/data/postmaster.pid" ]; then
        "${AS[@]}" "$BIN_DIR/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "${#AS[@]}" -gt 0 ]; then
    chown "$RUN_USER" "$DIR"
fi

PORT="$(free_port)" || without_postgres "no free port found on 127.0.0.1" "$@"
DB_USER=tclocal
DB_NAME=tclocal_test

if ! "${AS[@]}" "$BIN_DIR/initdb" -D "$DIR/data" -U "$DB_USER" --auth=trust --no-sync \
    -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1; then
    cat "$DIR/initdb.log" >&2
    without_postgres "initdb failed" "$@"
fi
# fsync off: the data is thrown away at exit, so crash safety buys nothing here.
if ! "${AS[@]}" "$BIN_DIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c full_page_writes=off" \
    start >/dev/null 2>&1; then
    cat "$DIR/server.log" >&2 || true
    without_postgres "the PostgreSQL server did not start" "$@"
fi
if ! "${AS[@]}" "$BIN_DIR/createdb" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" "$DB_NAME" >&2; then
    without_postgres "createdb failed" "$@"
fi

export TCLOCAL_TEST_POSTGRES_URL="postgres://$DB_USER@127.0.0.1:$PORT/$DB_NAME"
say "PostgreSQL $("$BIN_DIR/pg_ctl" --version | awk '{print $3}') is up: TCLOCAL_TEST_POSTGRES_URL=$TCLOCAL_TEST_POSTGRES_URL"

if [ "$#" -eq 0 ]; then
    echo "TCLOCAL_TEST_POSTGRES_URL=$TCLOCAL_TEST_POSTGRES_URL"
    say "press Ctrl-C to stop it"
    while :; do sleep 3600; done
fi

# Not exec: the EXIT trap must stop the server once the command is done.
status=0
"$@" || status=$?
exit "$status"
