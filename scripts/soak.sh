#!/usr/bin/env bash
# Endurance run by hand: `paper` against the local TLS venue at twice the recorded peak rate for MINUTES, a
# fault every 6 s segment on a schedule (venue reset, stale feed, snapshot 503, drop without close, slow admin
# readers), ending with the reconciliation of every order (journal vs the engine's order table, fills vs the
# simulated venue's position) and the growth checks (RSS at most 32 MiB above the first segment's, open fds
# back to where they were). The same test runs in CI for 60 s (engine_soak_test, label slow).
#
#   scripts/soak.sh MINUTES        writes runs/soak-<UTC>/soak.md (figures) and soak.log (the whole output)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-}"
case "$MINUTES" in ''|*[!0-9.]*) echo "usage: scripts/soak.sh MINUTES" >&2; exit 2 ;; esac
JOBS="${ENIGMA_JOBS:-$(nproc)}"
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build build/release -j "$JOBS" --target engine_soak_test >/tmp/enigma-soak-build.log 2>&1 ||
  { tail -40 /tmp/enigma-soak-build.log; exit 1; }
out="runs/soak-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
status=0
ENIGMA_SOAK_SECONDS="$(awk -v m="$MINUTES" 'BEGIN { print m * 60 }')" build/release/tests/engine_soak_test \
  >"$out/soak.log" 2>&1 || status=$?
{
  echo "# Soak: $MINUTES min of paper against the local TLS venue with faults ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
  echo
  grep -E '^soak:' "$out/soak.log" | sed 's/^soak: /- /' || true
  echo
  if [ "$status" -eq 0 ]; then echo "All checks passed (every order reconciled, no growth beyond the bounds)."
  else echo "FAILED (exit $status): see soak.log"; fi
} >"$out/soak.md"
cat "$out/soak.md"
[ "$status" -eq 0 ] || grep -E 'Failure|Expected|actual|Which is|error' "$out/soak.log" | head -40
exit "$status"
