#!/usr/bin/env bash
# Builds ccstream and runs the embedded demo: a generator and the processor on an in-process
# broker, /metrics on http://127.0.0.1:9464/metrics. Extra arguments go to `ccstream demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec "${CCSTREAM_BUILD_DIR:-build}/processor/cli/ccstream" demo "$@"
