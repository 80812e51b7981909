#!/usr/bin/env bash
# Load test by hand: the bundled Binance USD-M session through the local TLS WebSocket venue into `paper` at
# 2x and 10x its recorded peak message rate, then unpaced (past saturation), then the 2x run twice again (RSS
# flat), as engine_stress_test does in CI (2 s per paced rate). Writes runs/stress-<UTC>/stress.md: rates
# reached, frames sent / processed, counted drops, book checks, gaps, the venue's largest write backlog,
# RSS and open fds at the start and end of each run, frame p50 / p99 / p99.9.
#
#   scripts/stress.sh [SECONDS]    seconds per paced rate (default 30; past one session, 94k frames, the
#                                  venue closes the connection and the session starts again: a lap)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RATE="${1:-30}"
case "$SECONDS_PER_RATE" in ''|*[!0-9.]*) echo "usage: scripts/stress.sh [SECONDS]" >&2; exit 2 ;; esac
JOBS="${ENIGMA_JOBS:-$(nproc)}"
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build build/release -j "$JOBS" --target engine_stress_test >/tmp/enigma-stress-build.log 2>&1 ||
  { tail -40 /tmp/enigma-stress-build.log; exit 1; }
out="runs/stress-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
status=0
ENIGMA_STRESS_SECONDS="$SECONDS_PER_RATE" build/release/tests/engine_stress_test >"$out/stress.log" 2>&1 || status=$?
{
  echo "# Stress: paper through the local TLS venue ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -m))"
  echo
  grep -E '^stress:' "$out/stress.log" || true
  echo
  grep -E '^\|' "$out/stress.log" || true
  echo
  if [ "$status" -eq 0 ]; then echo "All checks passed (nothing dropped silently, books agree, no gap but one per lap, fds and RSS flat)."
  else echo "FAILED (exit $status): see stress.log"; fi
} >"$out/stress.md"
cat "$out/stress.md"
[ "$status" -eq 0 ] || grep -E 'Failure|Expected|actual|Which is' "$out/stress.log" | head -40
exit "$status"
