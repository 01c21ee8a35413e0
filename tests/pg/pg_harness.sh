#!/usr/bin/env bash
# pg_harness.sh - run a command against a throwaway PostgreSQL cluster.
#
#   tests/pg/pg_harness.sh COMMAND [ARGS...]
#
# Creates a cluster with initdb in a temp dir (trust auth, C locale), starts
# it on an ephemeral loopback port with its socket in that dir, creates the
# database vigil_test, and runs COMMAND with these exported:
#   VG_PG_URL, VIGIL_TEST_PG_URL  postgresql://postgres@127.0.0.1:PORT/vigil_test
#   VG_PG_STOP / VG_PG_START      shell commands that stop (immediate mode,
#                                 like a crash) / start the server again
# then stops the server and removes the dir, whatever COMMAND did. Exits
# with COMMAND's status, or 77 (ctest SKIPPED) when PostgreSQL is missing.
# As root the server runs as the `postgres` system user (runuser), which
# owns the temp dir. PG_HARNESS_FSYNC=on keeps fsync (default off: the
# tests survive a server crash, not a machine crash; benchmarks set it on).
# COMMAND is stopped after PG_HARNESS_TIMEOUT seconds (default 240, below
# the ctest TIMEOUT of 300), so the cluster is always removed: a test killed
# by ctest itself would leave the server running.
set -u

PGBIN=${PGBIN:-}
if [ -z "$PGBIN" ]; then
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then PGBIN=$d; break; fi
  done
fi
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "SKIPPED: PostgreSQL server not installed (initdb not found under" \
       "/usr/lib/postgresql/*/bin; \`make deps\` installs it)"
  exit 77
fi
if ! command -v psql >/dev/null; then
  echo "SKIPPED: psql not found (package postgresql-client)"
  exit 77
fi
[ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/vgpg.XXXXXX") || exit 1
chmod 755 "$DIR"
AS=()
if [ "$(id -u)" = 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "SKIPPED: running as root and no postgres system user to run as"
    rmdir "$DIR"; exit 77
  fi
  chown postgres: "$DIR"
  AS=(runuser -u postgres --)
fi
DATA=$DIR/data
LOG=$DIR/server.log

cleanup() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "${AS[@]}" "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 \
     --locale=C --no-sync >"$DIR/initdb.log" 2>&1; then
  cat "$DIR/initdb.log" >&2; exit 1
fi
FSYNC=${PG_HARNESS_FSYNC:-off}
cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
fsync = $FSYNC
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
CONF

started=0
for attempt in 1 2 3 4 5 6 7 8; do
  PORT=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  if "${AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 30 \
       start >/dev/null 2>&1; then
    started=1; break
  fi
done
if [ $started = 0 ]; then
  echo "pg_harness: server did not start" >&2; cat "$LOG" >&2; exit 1
fi

ADMIN="postgresql://postgres@127.0.0.1:$PORT/postgres"
psql -q -X -v ON_ERROR_STOP=1 "$ADMIN" -c "CREATE DATABASE vigil_test" \
  >/dev/null || exit 1

export VG_PG_URL="postgresql://postgres@127.0.0.1:$PORT/vigil_test"
export VIGIL_TEST_PG_URL=$VG_PG_URL
q() { printf '%q ' "$@"; }
export VG_PG_STOP="$(q "${AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop)"
export VG_PG_START="$(q "${AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 30 start)"
echo "pg_harness: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')" \
     "on 127.0.0.1:$PORT (fsync=$FSYNC)"
timeout --kill-after=5 "${PG_HARNESS_TIMEOUT:-240}" "$@"
rc=$?
[ $rc = 124 ] && echo "pg_harness: command timed out" >&2
exit $rc
