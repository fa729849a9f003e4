#!/usr/bin/env bash
# The benchmark in one command: `bash bench/run.sh` (from anywhere). Installs the tools if missing (bench/setup.sh),
# builds dist/ so the proxy runs compiled, runs bench/run.ts (every process it starts is stopped by PID, the whole run
# is time-bounded), writes bench/results/latest.json and regenerates BENCHMARKS.md. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

bash bench/setup.sh
# Many keep-alive connections per process.
ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || true

if [ "${BENCH_BUILD:-1}" = "1" ]; then
  # tsc emits even when another part of the tree has type errors; the proxy probe decides whether it runs.
  echo "[bench] building dist/ (tsc -p tsconfig.build.json)" >&2
  npx tsc -p tsconfig.build.json >/tmp/isthmus-bench-build.log 2>&1 || echo "[bench] tsc reported errors (see /tmp/isthmus-bench-build.log); continuing" >&2
fi

pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# run.ts stops its own children (process groups, by PID) on exit, signal and its own time bound (BENCH_MAX_S).
timeout --signal=TERM --kill-after=30 "$(( ${BENCH_MAX_S:-900} + 60 ))" node --import tsx bench/run.ts &
pid=$!
status=0
wait "$pid" || status=$?
pid=""
# 0: all ran; 1: results written but a target failed; anything else (time bound, signal, crash): no new results.
if [ "$status" -le 1 ]; then
  node --import tsx bench/report.ts "${BENCH_OUT:-bench/results/latest.json}" "${BENCH_REPORT:-BENCHMARKS.md}"
else
  echo "[bench] run did not finish (status $status); results and BENCHMARKS.md left as they were" >&2
fi
exit "$status"
