#!/usr/bin/env bash
# Creates an extra topic (replication factor 1) on the running development broker of <work-dir>.
# Idempotent: a topic that already exists with the same partition count is accepted; one with a
# different count is an error.
#
#   deploy/kafka/topics.sh <work-dir> <topic> <partitions> [config=value...]
#   e.g. deploy/kafka/topics.sh build/kafka-broker bench.input 12 retention.ms=3600000
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "${here}/common.sh"

if [ "$#" -lt 3 ]; then
  echo "usage: $0 <work-dir> <topic> <partitions> [config=value...]" >&2
  exit 2
fi
work="$1" topic="$2" partitions="$3"
shift 3
[[ "${partitions}" =~ ^[1-9][0-9]*$ ]] || die "partitions must be a positive number, not '${partitions}'"
[ -d "${work}" ] || die "no broker work dir ${work} (run start.sh ${work} first)"
work="$(cd "${work}" && pwd)"
running_pid "${work}" >/dev/null || die "no broker running in ${work} (run start.sh ${work} first)"
[ -s "${work}/bootstrap" ] || die "${work}/bootstrap is missing (run start.sh ${work})"
for kv in "$@"; do
  [[ "${kv}" == ?*=* ]] || die "topic config must be key=value, not '${kv}'"
done

require_java
kafka_admin "$(cat "${work}/bootstrap")" "${CCSTREAM_KAFKA_TOPIC_TIMEOUT:-60}" create \
  --topic "${topic}" "${partitions}" "$@"
