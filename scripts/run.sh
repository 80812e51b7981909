#!/usr/bin/env bash
# The main job: install what is missing, build release, and replay the bundled real market data
# (data/) through the full pipeline against the simulated exchange. Prints the summary and writes
# runs/<UTC timestamp>/ (log, summary.json, trades.csv, equity.csv, per-stage .hgrm, report.md/.html).
#
#   scripts/run.sh [extra enigma replay flags, e.g. --topology pipelined --speed recorded]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${ENIGMA_JOBS:-$(nproc)}"

scripts/setup.sh
if [ ! -f build/release/build.ninja ]; then
  echo "run: configuring release build"
  cmake --preset release >/dev/null
fi
echo "run: building enigma (release)"
cmake --build build/release -j "$JOBS" --target enigma >/tmp/enigma-build.log 2>&1 || { tail -40 /tmp/enigma-build.log; exit 1; }
exec build/release/enigma replay --config config/replay.toml "$@"
