#!/usr/bin/env bash
# Installs the dependencies (Debian packages) and builds ccstream, its tests and benchmarks.
# Usage: scripts/build.sh   (build directory: $CCSTREAM_BUILD_DIR, default ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
build_dir="${CCSTREAM_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j "$(nproc)"
