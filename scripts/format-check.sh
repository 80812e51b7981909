#!/usr/bin/env bash
# Checks (default) or applies (--fix) .clang-format on the project's C++ sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.hpp' '*.cpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"; echo "formatted ${#files[@]} files"; exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then echo "needs formatting: $f"; bad=1; fi
done
[ $bad = 0 ] && echo "format-check: ${#files[@]} files clean"
exit $bad
