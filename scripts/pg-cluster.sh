#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 cluster for tests, benchmarks and the quick start.
#
#   scripts/pg-cluster.sh start STATE_DIR [--durable] [--port N]
#   scripts/pg-cluster.sh stop  STATE_DIR
#   scripts/pg-cluster.sh halt  STATE_DIR   (a crash: immediate shutdown, data kept)
#   scripts/pg-cluster.sh resume STATE_DIR  (starts a halted cluster again; crash recovery runs)
#
# The cluster lives in a fresh /tmp directory (reachable by the postgres user even when the
# checkout is under /root), listens on a Unix socket in that directory only (plus 127.0.0.1:PORT
# with --port), and trusts local connections. STATE_DIR receives `dsn` (a libpq URI) and
# `cluster_dir`. Without --durable, fsync and synchronous_commit are off: fast tests, no
# durability. With --durable they are on, as in production (benchmarks, quick start).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
command=${1:?usage: pg-cluster.sh start|stop|halt|resume STATE_DIR [--durable] [--port N]}
state_dir=${2:?usage: pg-cluster.sh start|stop STATE_DIR}
shift 2
durable=0
port=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --durable) durable=1 ;;
        --port) port=$2; shift ;;
        *) echo "pg-cluster: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

# initdb refuses to run as root: run the server as the postgres user then.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

stop_cluster() {
    [[ -f "$state_dir/cluster_dir" ]] || return 0
    local dir
    dir=$(cat "$state_dir/cluster_dir")
    if [[ -d "$dir/data" ]]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    rm -f "$state_dir/cluster_dir" "$state_dir/dsn"
}

case "$command" in
    start)
        [[ -x "$PG_BIN/initdb" ]] || { echo "pg-cluster: $PG_BIN/initdb not found (install postgresql-15)" >&2; exit 1; }
        mkdir -p "$state_dir"
        stop_cluster
        dir=$(mktemp -d /tmp/wagate-pg.XXXXXX)
        chmod 755 "$dir"
        if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
        as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
        sync_settings="fsync = off
synchronous_commit = off
full_page_writes = off"
        if [[ $durable -eq 1 ]]; then
            sync_settings="fsync = on
synchronous_commit = on
full_page_writes = on"
        fi
        listen=""
        [[ -n "$port" ]] && listen="127.0.0.1"
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '$listen'
port = ${port:-5432}
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 256MB
$sync_settings
CONF
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
            || { cat "$dir/server.log" >&2; exit 1; }
        echo "$dir" >"$state_dir/cluster_dir"
        echo "postgresql:///postgres?host=$dir&port=${port:-5432}&user=postgres" >"$state_dir/dsn"
        echo "pg-cluster: started in $dir ($( [[ $durable -eq 1 ]] && echo durable || echo fsync off ))"
        ;;
    stop)
        stop_cluster
        echo "pg-cluster: stopped"
        ;;
    halt | resume)
        # An outage for the chaos harness (tests/chaos) and outage tests: the server goes away as in
        # a crash (no checkpoint, connections cut) and comes back on the same socket and port.
        [[ -f "$state_dir/cluster_dir" ]] || { echo "pg-cluster: no cluster in $state_dir" >&2; exit 1; }
        dir=$(cat "$state_dir/cluster_dir")
        if [[ $command == halt ]]; then
            as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
        else
            as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
                || { tail -n 20 "$dir/server.log" >&2; exit 1; }
        fi
        echo "pg-cluster: $( [[ $command == halt ]] && echo halted || echo resumed )"
        ;;
    *)
        echo "pg-cluster: unknown command $command" >&2
        exit 2
        ;;
esac
