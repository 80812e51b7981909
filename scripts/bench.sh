#!/usr/bin/env bash
# Latency benchmark run: `enigma bench` (the order path and every frame, replayed at full rate and at
# recorded pace in both topologies, with the floor measured in the same run) plus the live loopback section
# (tick-to-wire per transport against the local TLS test venue), one report in runs/bench-<timestamp>/.
# The test venue is test code, so that section comes from perf/bench_tick_to_wire (`enigma bench` + live).
#
#   scripts/bench.sh [--micro]     --micro also runs the Google Benchmark micro-benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${ENIGMA_JOBS:-$(nproc)}"
scripts/setup.sh
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build build/release -j "$JOBS" >/tmp/enigma-build.log 2>&1 || { tail -40 /tmp/enigma-build.log; exit 1; }
build/release/perf/bench_tick_to_wire --config config/replay.toml
if [ "${1:-}" = "--micro" ]; then
  for b in build/release/perf/bench_* build/release/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b" --benchmark_min_time=0.2
  done
fi
