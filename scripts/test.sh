#!/usr/bin/env bash
# Builds ccstream and runs every test: unit tests, integration tests against a real Kafka
# broker that the suite starts itself, end-to-end tests, and the lint checks.
# Usage: scripts/test.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build_dir="${CCSTREAM_BUILD_DIR:-build}"
status=0
ctest --test-dir "$build_dir" --output-on-failure --timeout 1200 "$@" || status=$?
if [ "$status" -ne 0 ]; then
  # The failures again, short, as the last lines of the output (which is what a CI page shows
  # when it keeps only the end): each GoogleTest assertion that failed, then the cases.
  log="$build_dir/Testing/Temporary/LastTest.log"
  if [ -f "$log" ]; then
    echo "---- assertions that failed (from $log) ----"
    grep -E -A4 '^[^ ].*:[0-9]+: Failure$' "$log" | cut -c1-200 | head -n 40 || true
    echo "---- test cases that failed ----"
    grep -E '^\[  FAILED  \] [A-Za-z0-9_/]+\.[A-Za-z0-9_/]+' "$log" | sed 's/ (.*//' |
      sort -u | head -n 20 || true
  fi
fi
exit "$status"
