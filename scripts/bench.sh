#!/usr/bin/env bash
# Latency benchmark run: replays a recorded session at full rate and at recorded pace in both
# topologies, with the floor measured in the same run, and writes the report (runs/bench-<timestamp>/).
#
#   scripts/bench.sh [--micro]     --micro also runs the Google Benchmark micro-benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${ENIGMA_JOBS:-$(nproc)}"
scripts/setup.sh
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build build/release -j "$JOBS" >/tmp/enigma-build.log 2>&1 || { tail -40 /tmp/enigma-build.log; exit 1; }
build/release/enigma bench --config config/replay.toml
if [ "${1:-}" = "--micro" ]; then
  for b in build/release/perf/bench_* build/release/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" --benchmark_min_time=0.2
  done
fi
