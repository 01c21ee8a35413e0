#!/usr/bin/env bash
# bench/run.sh - run every benchmark against the vigil binary of a build dir
# and print their results. `make bench` calls it as:
#   bash bench/run.sh <builddir>
# Runs bench_ingest, bench_query, then any other bench_* built (bench_pg only
# when VG_PG_URL is set). Extra arguments: BENCH_<NAME>_ARGS, e.g.
# BENCH_INGEST_ARGS="--readings 500000".
set -u
build=${1:?usage: bash bench/run.sh <builddir>}
vigil="$build/vigil"
if [ ! -x "$vigil" ]; then
  echo "run.sh: $vigil not found; build the 'vigil' target first" >&2
  exit 2
fi
type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" \
  2>/dev/null)
case "$type" in
  Release|RelWithDebInfo) ;;
  *) echo "run.sh: warning: $build is a '${type:-unknown}' build;" \
       "figures only mean something in Release" >&2 ;;
esac
v=$("$vigil" version 2>/dev/null | head -1)
echo "vigil benchmarks: $v, build $build ($type)"
echo "host: $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ)"
status=0
others=$(cd "$build/bench" 2>/dev/null && ls bench_* 2>/dev/null |
  grep -vx -e bench_ingest -e bench_query)
for b in bench_ingest bench_query $others; do
  if [ "$b" = bench_pg ] && [ -z "${VG_PG_URL:-}" ]; then
    echo; echo "bench_pg: skipped (VG_PG_URL is not set)"
    continue
  fi
  exe="$build/bench/$b"
  if [ ! -x "$exe" ]; then
    echo "run.sh: $exe not built" >&2
    status=1
    continue
  fi
  var=$(echo "$b" | tr a-z A-Z)_ARGS
  echo
  # shellcheck disable=SC2086
  "$exe" "$vigil" ${!var:-} || { echo "$b: FAILED (exit $?)"; status=1; }
done
# Dashboard in Debian's chromium (exit 77: chromium or playwright missing).
echo; node "$(dirname "$0")/bench_web.mjs" "$vigil"
rc=$?; [ $rc -eq 0 ] || [ $rc -eq 77 ] || { echo "bench_web: FAILED"; status=1; }
exit $status
