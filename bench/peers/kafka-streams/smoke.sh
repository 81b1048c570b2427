#!/usr/bin/env bash
# Smoke test of the Kafka Streams peer against a running broker: builds the peer, creates a
# fresh pair of topics, fills the input, runs the peer with --expect and checks its JSON line.
#
#   bench/peers/kafka-streams/smoke.sh BOOTSTRAP
#
# Input: `$CCSTREAM_BIN gen` (20,000 events, unpaced) when CCSTREAM_BIN names the ccstream binary,
# otherwise the peer's own small generator (dev.ccstream.peer.GenMain: 200 contacts, one in five
# dissatisfied, plus 3 malformed records). Fails (non-zero) when the peer fails, the JSON line is
# missing, events differ from what was written, or alerts == 0. Prints the JSON line.
# Environment: SMOKE_WORK_DIR (default: a fresh temporary directory, removed afterwards).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../../.." && pwd)"
die() { echo "peer smoke: FAIL: $*" >&2; exit 1; }
[ "$#" -eq 1 ] && [ -n "$1" ] || { echo "usage: $0 BOOTSTRAP" >&2; exit 2; }
bootstrap="$1"

"${here}/build.sh" >&2
cp="${here}/target/peer.jar"

work="${SMOKE_WORK_DIR:-}"
cleanup=0
if [ -z "${work}" ]; then work="$(mktemp -d)"; cleanup=1; fi
mkdir -p "${work}"
trap '[ "${cleanup}" = 1 ] && rm -rf "${work}"' EXIT

run_id="peer-smoke-$(date +%s)-$$"
input="${run_id}.in"
alerts="${run_id}.alerts"
# Created (12 and 6 partitions) with the peer's own Kafka client, so no broker work dir is needed.
java -cp "${cp}" dev.ccstream.peer.GenMain --bootstrap "${bootstrap}" --create-topics \
  "${input}:12,${alerts}:6" >&2 || die "cannot create the topics"

if [ -n "${CCSTREAM_BIN:-}" ]; then
  produced="$("${CCSTREAM_BIN}" gen --bootstrap "${bootstrap}" --topic "${input}" \
    --max-events 20000 --duration-s 3600 --rate 200 --no-pace --seed 1)" || die "ccstream gen failed"
  [[ "$(tail -n 1 <<<"${produced}")" =~ \"produced\":\ ([0-9]+) ]] ||
    die "ccstream gen printed no count (got '${produced}')"
  events="${BASH_REMATCH[1]}"
else
  events="$(java -cp "${cp}" dev.ccstream.peer.GenMain --bootstrap "${bootstrap}" \
    --topic "${input}" --contacts 200)" || die "the generator failed"
fi

out="${work}/peer.out"
timeout 300 "${here}/run.sh" --bootstrap "${bootstrap}" --input "${input}" --alerts "${alerts}" \
  --app-id "${run_id}" --state-dir "${work}/state" \
  --lexicon "${repo}/processor/domain/text/data/vader_lexicon.txt" --expect "${events}" \
  >"${out}" || die "the peer exited with status $?"

line="$(tail -n 1 "${out}")"
echo "${line}"
[[ "${line}" =~ ^\{\"events\":\ ([0-9]+),\ \"seconds\":\ [0-9.]+,\ \"alerts\":\ ([0-9]+),\ \"skipped\":\ ([0-9]+)\}$ ]] ||
  die "no JSON result line (got '${line}')"
[ "${BASH_REMATCH[1]}" = "${events}" ] || die "processed ${BASH_REMATCH[1]} events, expected ${events}"
[ "${BASH_REMATCH[2]}" -gt 0 ] || die "no alerts"
echo "peer smoke: OK" >&2
