#!/usr/bin/env bash
# Builds the Kafka Streams peer into target/peer.jar: generates the protobuf Java classes from
# the repository's proto/ with protoc, then packages with Maven (offline once ~/.m2 holds the
# dependencies). Does nothing when target/peer.jar is newer than every input.
#
#   bench/peers/kafka-streams/build.sh [--force]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
proto_dir="$(cd "${here}/../../../proto" && pwd)"
jar="${here}/target/peer.jar"
gen="${here}/target/generated-sources/protobuf"

die() { echo "peer build: $*" >&2; exit 1; }
command -v protoc >/dev/null 2>&1 || die "protoc not found (apt-get install protobuf-compiler)"
command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
command -v java >/dev/null 2>&1 || die "java not found (apt-get install openjdk-17-jdk-headless)"

if [ "${1:-}" != "--force" ] && [ -f "${jar}" ] &&
  [ -z "$(find "${here}/pom.xml" "${here}/src" "${proto_dir}/events.proto" "${proto_dir}/alert.proto" \
    -newer "${jar}" -print -quit)" ]; then
  exit 0
fi

rm -rf "${gen}"
mkdir -p "${gen}"
protoc --proto_path="${proto_dir}" --java_out="${gen}" \
  "${proto_dir}/events.proto" "${proto_dir}/alert.proto"

# Offline first (fast, no network); online when something is missing from ~/.m2.
mvn_args=(-q -B -f "${here}/pom.xml" package)
log="${here}/target/mvn.log"
if ! mvn -o "${mvn_args[@]}" >"${log}" 2>&1; then
  if grep -qiE "offline|could not resolve|cannot access|not been downloaded" "${log}"; then
    mvn "${mvn_args[@]}" >"${log}" 2>&1 || { cat "${log}" >&2; die "maven build failed"; }
  else
    cat "${log}" >&2
    die "maven build failed"
  fi
fi
[ -f "${jar}" ] || die "maven did not produce ${jar}"
touch "${jar}"
