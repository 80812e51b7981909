#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; tests/fuzz/) and runs them, ENIGMA_JOBS at a time, each
# from its seed corpus (tests/fuzz/corpus/<target without fuzz_>/), for a bounded time. A crash, leak or
# sanitizer report fails the run (exit 1, after the other targets) and leaves the input in build/fuzz/artifacts/ (replay it with
# `build/fuzz/tests/fuzz_<name> build/fuzz/artifacts/<file>`).
#
#   scripts/fuzz.sh [REGEX]          every target (or those matching REGEX) for ENIGMA_FUZZ_SECONDS each (default 10);
#                                    scripts/test.sh runs this as its fuzz step
#   scripts/fuzz.sh --long [REGEX]   the same for hours: ENIGMA_FUZZ_SECONDS defaults to 3600 per target
#
# Each target's corpus grows in build/fuzz/work/<target>/ (seeded from the repository's) and is kept between runs.
#
# Environment: ENIGMA_JOBS (build parallelism, default nproc), ENIGMA_FUZZ_SECONDS (per target).
set -euo pipefail
cd "$(dirname "$0")/.."
LONG=0
if [ "${1:-}" = "--long" ]; then LONG=1; shift; fi
FILTER="${1:-.}"
JOBS="${ENIGMA_JOBS:-$(nproc)}"
SECONDS_EACH="${ENIGMA_FUZZ_SECONDS:-$([ "$LONG" = 1 ] && echo 3600 || echo 10)}"

cmake --preset fuzz >/dev/null
mapfile -t targets < <(ninja -C build/fuzz -t targets all | sed -n 's/^\(fuzz_[A-Za-z0-9_]*\): phony$/\1/p' |
                       grep -E "$FILTER" || true)
[ "${#targets[@]}" -gt 0 ] || { echo "no fuzz target matches '$FILTER'" >&2; exit 2; }
cmake --build build/fuzz -j "$JOBS" --target "${targets[@]}"
mkdir -p build/fuzz/work build/fuzz/artifacts
echo "fuzz: ${#targets[@]} target(s), ${SECONDS_EACH}s each, ${JOBS} at a time$([ "$LONG" = 1 ] && echo ' (long)')"
# One target: its corpus seeded from the repository's, then libFuzzer for SECONDS_EACH; its last two lines are
# printed when it ends (whole, so that targets running side by side do not interleave their output).
run_target() {
  set -o pipefail
  local name="$1" f="build/fuzz/tests/$1" work="build/fuzz/work/$1" corpus_src="tests/fuzz/corpus/${1#fuzz_}" out rc=0
  [ -x "$f" ] || { echo "-- $name: missing $f" >&2; return 1; }
  mkdir -p "$work"
  [ -d "$corpus_src" ] && cp -r "$corpus_src"/. "$work"/ 2>/dev/null || true
  out=$("$f" "$work" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="build/fuzz/artifacts/${name}-" 2>&1 | tail -n 2) || rc=$?
  printf -- '-- %s%s\n%s\n' "$name" "$([ "$rc" = 0 ] || echo " FAILED (exit $rc)")" "$out"
  return "$rc"
}
export -f run_target
export SECONDS_EACH
# Each target is one single-threaded process: JOBS of them at once (xargs exits non-zero if any failed).
if ! printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_target "$1"' _ {}; then
  echo "fuzz: a target failed (its input is in build/fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} target(s) ran clean"
