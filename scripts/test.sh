#!/usr/bin/env bash
# Builds ccstream and runs every test: unit tests, integration tests against a real Kafka
# broker that the suite starts itself, end-to-end tests, and the lint checks.
# Usage: scripts/test.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
build_dir="${CCSTREAM_BUILD_DIR:-build}"
ctest --test-dir "$build_dir" --output-on-failure --timeout 1200 "$@"
