#!/usr/bin/env bash
# bench/run.sh - run every benchmark against the vigil binary of a build dir
# and print their results. Called by `make bench` as: bash bench/run.sh <builddir>
# Extra arguments for one benchmark: BENCH_INGEST_ARGS, BENCH_QUERY_ARGS.
set -u
build=${1:?usage: bash bench/run.sh <builddir>}
vigil="$build/vigil"
if [ ! -x "$vigil" ]; then
  echo "run.sh: $vigil not found; build the 'vigil' target first" >&2
  exit 2
fi
type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
case "$type" in
  Release|RelWithDebInfo) ;;
  *) echo "run.sh: warning: $build is a '${type:-unknown}' build;" \
          "figures are only meaningful in Release" >&2 ;;
esac
echo "vigil benchmarks: $("$vigil" version 2>/dev/null | head -1), build $build ($type)"
echo "host: $(nproc) cores, $(uname -sr), $(date -u +%FT%TZ)"
status=0
for b in bench_ingest bench_query; do
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
exit $status
