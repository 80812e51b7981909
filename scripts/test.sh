#!/usr/bin/env bash
# One command for a newcomer and for CI: install dependencies, build, run every test, then the
# sanitizer builds of the suites that matter for memory and threading, then each fuzzer for a bounded time.
#
#   scripts/test.sh            everything (release + asan + tsan + fuzz)
#   scripts/test.sh --quick    release build and ctest only
#
# Environment: ENIGMA_JOBS (build parallelism, default nproc), ENIGMA_FUZZ_SECONDS (per fuzzer, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
JOBS="${ENIGMA_JOBS:-$(nproc)}"
FUZZ_SECONDS="${ENIGMA_FUZZ_SECONDS:-10}"
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }

step "setup"
scripts/setup.sh

# Suites built and run again under each sanitizer (executable name prefixes).
ASAN_SUITES='^(core|feed|strategy|risk|oms|engine)_[a-z0-9_]*test$'
TSAN_SUITES='^(core_(spsc_ring|logger|stage_runner|alloc)_test|oms_journal_test|engine_replay_test)$'

suite_targets() {  # <build dir> <regex>: test executables in that build matching the regex
  ninja -C "$1" -t targets all | sed -n 's/^\([A-Za-z0-9_]*\): phony$/\1/p' | grep -E "$2" || true
}

step "release: configure + build"
cmake --preset release >/dev/null
cmake --build build/release -j "$JOBS"

# Timing-sensitive network tests run serially (RUN_SERIAL); a test that fails is retried once so a
# scheduler hiccup on a loaded 2-core VM does not fail the run, and the retry is visible in the log.
CTEST_FLAGS=(--output-on-failure -j "$JOBS" --repeat until-pass:2)

step "release: ctest"
ctest --test-dir build/release "${CTEST_FLAGS[@]}"

if [ "$QUICK" = 1 ]; then
  step "done (quick)"; exit 0
fi

step "asan+ubsan: build + ctest"
cmake --preset asan >/dev/null
mapfile -t targets < <(suite_targets build/asan "$ASAN_SUITES")
cmake --build build/asan -j "$JOBS" --target "${targets[@]}"
regex=$(printf '%s|' "${targets[@]}"); regex="^(${regex%|})$"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan "${CTEST_FLAGS[@]}" -R "$regex" -LE slow

step "tsan: build + ctest"
cmake --preset tsan >/dev/null
mapfile -t targets < <(suite_targets build/tsan "$TSAN_SUITES")
cmake --build build/tsan -j "$JOBS" --target "${targets[@]}"
regex=$(printf '%s|' "${targets[@]}"); regex="^(${regex%|})$"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build/tsan "${CTEST_FLAGS[@]}" -R "$regex"

step "fuzz: build + run each target for ${FUZZ_SECONDS}s"
cmake --preset fuzz >/dev/null
mapfile -t targets < <(suite_targets build/fuzz '^fuzz_')
cmake --build build/fuzz -j "$JOBS" --target "${targets[@]}"
mkdir -p build/fuzz/work
for f in build/fuzz/tests/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus_src="tests/fuzz/corpus/${name#fuzz_}"
  work="build/fuzz/work/${name}"
  mkdir -p "$work"
  [ -d "$corpus_src" ] && cp -r "$corpus_src"/. "$work"/ 2>/dev/null || true
  echo "-- $name"
  "$f" "$work" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=0 2>&1 | tail -n 2
done

step "all passed"
