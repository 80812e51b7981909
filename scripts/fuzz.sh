#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan; tests/fuzz/) and runs each one in turn from its seed
# corpus (tests/fuzz/corpus/<target without fuzz_>/), for a bounded time. A crash, leak or sanitizer report
# stops the run with a non-zero exit and leaves the input in build/fuzz/artifacts/ (replay it with
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
echo "fuzz: ${#targets[@]} target(s), ${SECONDS_EACH}s each$([ "$LONG" = 1 ] && echo ' (long)')"
for name in "${targets[@]}"; do
  f="build/fuzz/tests/$name"
  [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
  corpus_src="tests/fuzz/corpus/${name#fuzz_}"
  work="build/fuzz/work/${name}"
  mkdir -p "$work"
  [ -d "$corpus_src" ] && cp -r "$corpus_src"/. "$work"/ 2>/dev/null || true
  echo "-- $name"
  "$f" "$work" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="build/fuzz/artifacts/${name}-" 2>&1 | tail -n 2
done
echo "fuzz: all ${#targets[@]} target(s) ran clean"
