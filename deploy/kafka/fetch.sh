#!/usr/bin/env bash
# Fetches the Apache Kafka broker and its runtime dependencies from Maven Central into
#   ${CCSTREAM_CACHE_DIR:-$HOME/.cache/ccstream}/kafka-<version>/libs
# Idempotent: when that folder is complete (it has a .complete marker) nothing is done and no
# network is needed. Prints the libs folder on stdout, progress on stderr.
#
# Environment:
#   CCSTREAM_KAFKA_VERSION  Kafka release to fetch (default 4.4.0)
#   CCSTREAM_CACHE_DIR      cache root (default $HOME/.cache/ccstream)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "${here}/common.sh"

libs="$(kafka_libs_dir)"
if [ -f "${libs}/.complete" ]; then
  echo "${libs}"
  exit 0
fi

if ! command -v mvn >/dev/null 2>&1; then
  die "Maven (mvn) is not installed; it is needed once to fetch Kafka ${CCSTREAM_KAFKA_VERSION}" \
      "(run deploy/install-deps.sh)"
fi
require_java

log "fetching Apache Kafka ${CCSTREAM_KAFKA_VERSION} from Maven Central into ${libs}"
mkdir -p "$(dirname "${libs}")"
staging="$(mktemp -d "$(dirname "${libs}")/libs.staging.XXXXXX")"
trap 'rm -rf "${staging}"' EXIT

# -B: no colours or progress bars; -q: only errors. Output goes to stderr so stdout stays
# machine-readable.
if ! mvn -B -q -f "${here}/pom.xml" \
    -Dstyle.color=never \
    -Dkafka.version="${CCSTREAM_KAFKA_VERSION}" \
    dependency:copy-dependencies \
    -DincludeScope=runtime \
    -DoutputDirectory="${staging}" 2>&1 | sed "s/\x1b\[[0-9;]*m//g" >&2; then
  die "Maven could not fetch org.apache.kafka:kafka_2.13:${CCSTREAM_KAFKA_VERSION} (see above)"
fi

if ! ls "${staging}"/kafka_2.13-*.jar >/dev/null 2>&1; then
  die "Maven finished but no kafka_2.13 jar was copied into ${staging}"
fi

touch "${staging}/.complete"
rm -rf "${libs}" "$(dirname "${libs}")/cds"
mv "${staging}" "${libs}"
trap - EXIT
log "fetched $(find "${libs}" -name '*.jar' | wc -l) jars into ${libs}"
echo "${libs}"
