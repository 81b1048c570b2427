#!/usr/bin/env bash
# Installs every Debian package that ccstream's build, tests and benchmarks need.
# Idempotent: packages already present are skipped; safe to re-run. Prints what it does.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates curl python3
  clang-format clang-tidy
  # libraries
  librdkafka-dev libprotobuf-dev protobuf-compiler libprotoc-dev librocksdb-dev
  prometheus-cpp-dev libcivetweb-dev libre2-dev libabsl-dev libssl-dev nlohmann-json3-dev tzdata
  libjemalloc-dev
  kafkacat
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  lz4
  # the real Kafka broker (Java) and the Kafka Streams peer
  openjdk-17-jdk-headless maven
  # end-to-end: real Prometheus, Alertmanager and a real browser
  prometheus prometheus-alertmanager chromium
)
# Node.js with npm (for the browser tests' playwright-core): taken as it is when `npm` already
# exists, since some images ship a Node.js whose package conflicts with Debian's npm.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
