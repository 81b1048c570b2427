#!/usr/bin/env bash
# The crash loop at length, on demand (not part of CTest): by default 200 kill -9 over 200,000
# events, against a broker of its own that it starts and stops.
#
#   tests/fault/long_crash_loop.sh <build-dir> [kills] [events] [seed]
#
# Needs `ccstream` and `fault_tool` built in <build-dir>
# (cmake --build <build-dir> --target ccstream fault_tool). Uses the broker work dir
# <build-dir>/fault-long-broker (fresh each time) and <build-dir>/tests/fault/work/long_crash_loop.
# Takes about 2 s per kill plus two full passes over the events.
set -euo pipefail
if [ "$#" -lt 1 ]; then
  echo "usage: $0 <build-dir> [kills=200] [events=200000] [seed=7]" >&2
  exit 2
fi
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(cd "${here}/../.." && pwd)"
broker="${build}/fault-long-broker"

"${source_dir}/deploy/kafka/start.sh" --fresh "${broker}" >/dev/null
trap '"${source_dir}/deploy/kafka/stop.sh" "${broker}" >/dev/null 2>&1 || true' EXIT

CCSTREAM_KAFKA_DIR="${broker}" CCSTREAM_KAFKA_BOOTSTRAP_FILE="${broker}/bootstrap" \
CCSTREAM_SOURCE_DIR="${source_dir}" FAULT_KILLS="${2:-200}" FAULT_EVENTS="${3:-200000}" \
FAULT_SEED="${4:-7}" \
  "${here}/crash_loop_test.sh" "${build}/processor/cli/ccstream" "${build}/tests/fault/fault_tool" \
  "${build}/tests/fault/work/long_crash_loop"
