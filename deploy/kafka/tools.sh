#!/usr/bin/env bash
# Kafka's own command-line tools, run against the development broker of <work-dir>: the commands
# the runbooks (docs/observability.md) give as kafka-transactions.sh and
# kafka-consumer-groups.sh, and the log dump used to read a topic's segments.
#
#   deploy/kafka/tools.sh <work-dir> transactions ARGS...      # kafka-transactions.sh
#   deploy/kafka/tools.sh <work-dir> consumer-groups ARGS...   # kafka-consumer-groups.sh
#   deploy/kafka/tools.sh <work-dir> dump-log ARGS...          # kafka-dump-log.sh
#   e.g. deploy/kafka/tools.sh build/kafka-broker transactions describe-producers \
#          --topic cc.alerts --partition 0
#
# `transactions` and `consumer-groups` get `--bootstrap-server` of <work-dir> (its PLAINTEXT
# listener); `dump-log` reads files and needs no broker. The tools live in the kafka-tools
# artifact, which the broker does not need: it is fetched from Maven Central on first use into
#   ${CCSTREAM_CACHE_DIR}/kafka-<version>/tools
# and run with the broker's jars (fetch.sh) beside it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "${here}/common.sh"

usage() {
  echo "usage: $0 <work-dir> transactions|consumer-groups|dump-log [tool arguments...]" >&2
  exit 2
}
[ "$#" -ge 2 ] || usage
work="$1" tool="$2"
shift 2
case "${tool}" in
  transactions) main=org.apache.kafka.tools.TransactionsCommand broker=1 ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand broker=1 ;;
  dump-log) main=org.apache.kafka.tools.DumpLogSegments broker=0 ;;
  *) usage ;;
esac

bootstrap=()
if [ "${broker}" = 1 ]; then
  [ -d "${work}" ] || die "no broker work dir ${work} (run start.sh ${work} first)"
  running_pid "$(cd "${work}" && pwd)" >/dev/null ||
    die "no broker running in ${work} (run start.sh ${work} first)"
  [ -s "${work}/bootstrap" ] || die "${work}/bootstrap is missing (run start.sh ${work})"
  bootstrap=(--bootstrap-server "$(cat "${work}/bootstrap")")
fi

require_java
libs="$("${here}/fetch.sh")"
tools="$(dirname "${libs}")/tools"
if [ ! -f "${tools}/.complete" ]; then
  command -v mvn >/dev/null 2>&1 ||
    die "Maven (mvn) is not installed; it is needed once to fetch kafka-tools" \
        "${CCSTREAM_KAFKA_VERSION} (run deploy/install-deps.sh)"
  log "fetching org.apache.kafka:kafka-tools:${CCSTREAM_KAFKA_VERSION} into ${tools}"
  staging="$(mktemp -d "${tools}.staging.XXXXXX")"
  trap 'rm -rf "${staging}"' EXIT
  # Only the tools' own jar: what it needs at run time is among the broker's jars.
  if ! mvn -B -q -f "${here}/pom.xml" -Dstyle.color=never dependency:copy \
      -Dartifact="org.apache.kafka:kafka-tools:${CCSTREAM_KAFKA_VERSION}" \
      -DoutputDirectory="${staging}" 2>&1 | sed "s/\x1b\[[0-9;]*m//g" >&2 ||
      ! ls "${staging}"/kafka-tools-*.jar >/dev/null 2>&1; then
    die "Maven could not fetch org.apache.kafka:kafka-tools:${CCSTREAM_KAFKA_VERSION} (see above)"
  fi
  touch "${staging}/.complete"
  rm -rf "${tools}"
  mv "${staging}" "${tools}"
  trap - EXIT
fi

exec "${JAVA}" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
  -Dlog4j2.configurationFile="${here}/tools-log4j2.properties" \
  -cp "${tools}/*:${libs}/*" "${main}" "${bootstrap[@]}" "$@"
