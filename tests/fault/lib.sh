#!/usr/bin/env bash
# Shared helpers of the fault-injection tests (sourced, not run).
#
# The calling script is run as `<script> <ccstream> <fault_tool> <work-dir>` and finds the broker
# through CCSTREAM_KAFKA_BOOTSTRAP (host:port) or CCSTREAM_KAFKA_BOOTSTRAP_FILE (set by the CTest
# fixture `kafka`), and deploy/kafka through CCSTREAM_SOURCE_DIR.
set -euo pipefail

if [ "$#" -lt 3 ]; then
  echo "usage: $0 <ccstream> <fault_tool> <work-dir>" >&2
  exit 2
fi
CCSTREAM="$1"
FAULT_TOOL="$2"
WORK="$3"
SOURCE_DIR="${CCSTREAM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
KAFKA_DIR="${CCSTREAM_KAFKA_DIR:-}"

if [ -n "${CCSTREAM_KAFKA_BOOTSTRAP:-}" ]; then
  BOOTSTRAP="${CCSTREAM_KAFKA_BOOTSTRAP}"
elif [ -n "${CCSTREAM_KAFKA_BOOTSTRAP_FILE:-}" ] && [ -s "${CCSTREAM_KAFKA_BOOTSTRAP_FILE}" ]; then
  BOOTSTRAP="$(tr -d ' \n' <"${CCSTREAM_KAFKA_BOOTSTRAP_FILE}")"
else
  echo "FAIL: no broker (set CCSTREAM_KAFKA_BOOTSTRAP or CCSTREAM_KAFKA_BOOTSTRAP_FILE)" >&2
  exit 1
fi
[ -n "${KAFKA_DIR}" ] || { echo "FAIL: CCSTREAM_KAFKA_DIR is not set" >&2; exit 1; }

rm -rf "${WORK}"
mkdir -p "${WORK}"
# Topic and group names are unique per run, so a rerun on the same broker never sees old data.
RUN_ID="$(date +%s)-$$"
PIDS=()

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Kills (SIGKILL) every process this test started that still runs (its running background jobs,
# so a recycled pid is never hit).
cleanup_processes() {
  local pid
  for pid in $(jobs -pr); do
    kill -KILL "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup_processes EXIT

# create_topic <name> <partitions> [key=value...]
create_topic() {
  "${SOURCE_DIR}/deploy/kafka/topics.sh" "${KAFKA_DIR}" "$@" >/dev/null ||
    fail "cannot create topic $1"
}

# write_config <file> <group> <instance-id> <input> <alerts> <changelog> <dead-letter> <state-dir>
#              <clock> [extra textproto...]
write_config() {
  local file="$1" group="$2" instance="$3" input="$4" alerts="$5" changelog="$6" dlq="$7"
  local state="$8" clock="$9"
  shift 9
  cat >"${file}" <<CONF
kafka {
  bootstrap_servers: "${BOOTSTRAP}"
  group_id: "${group}"
  group_instance_id: "${instance}"
  input_topic: "${input}"
  alerts_topic: "${alerts}"
  changelog_topic: "${changelog}"
  dead_letter_topic: "${dlq}"
}
processing { clock: ${clock} }
http { port: 0 }
state { dir: "${state}" }
domain { pseudonymisation_key: "fault-injection-test-key-0123456789" $* }
CONF
}

# start_service <config> <log> [--drain]: starts `ccstream run` in the background; sets SERVICE_PID.
start_service() {
  local config="$1" logfile="$2"
  shift 2
  "${CCSTREAM}" run --config "${config}" "$@" >>"${logfile}" 2>&1 &
  SERVICE_PID=$!
  PIDS+=("${SERVICE_PID}")
}

# wait_exit <pid> <timeout-s>: waits for the process (a child of this shell) to exit and sets
# EXIT_CODE. Returns 1 on timeout (the process is then still running). Not in $(...): a subshell
# cannot wait for this shell's children.
wait_exit() {
  local pid="$1" timeout_s="$2" deadline
  deadline=$((SECONDS + timeout_s))
  while kill -0 "${pid}" 2>/dev/null; do
    [ "${SECONDS}" -lt "${deadline}" ] || return 1
    sleep 0.2
  done
  EXIT_CODE=0
  wait "${pid}" || EXIT_CODE=$?
}

# drain <config> <log> <timeout-s>: runs `ccstream run --drain` to completion; fails the test when
# it does not exit 0 within the timeout.
drain() {
  local config="$1" logfile="$2" timeout_s="$3"
  start_service "${config}" "${logfile}" --drain
  if ! wait_exit "${SERVICE_PID}" "${timeout_s}"; then
    tail -n 20 "${logfile}" >&2
    fail "run --drain (${config}) did not finish within ${timeout_s} s"
  fi
  if [ "${EXIT_CODE}" != 0 ]; then
    tail -n 20 "${logfile}" >&2
    fail "run --drain (${config}) exited ${EXIT_CODE}"
  fi
}

# dump_alerts <topic> <out-file>: the topic's alerts, read_committed, `alert_id<TAB>sha256` sorted;
# fails the test when any alert_id occurs more than once.
dump_alerts() {
  local topic="$1" out="$2" summary
  summary="$("${FAULT_TOOL}" dump --bootstrap "${BOOTSTRAP}" --topic "${topic}" --timeout-s 120 \
    2>&1 >"${out}")" || fail "cannot read ${topic}: ${summary}"
  log "${topic}: ${summary}"
  case "${summary}" in
    *" duplicates=0"*) ;;
    *) fail "${topic} holds duplicate alerts: ${summary}" ;;
  esac
}

# diagnose_alerts <topic> <pid>: when committed alerts are missing, what tells held back from
# lost: each partition's stable end and high watermark (they differ while a transaction is open),
# and the service's own count of committed alerts (it is stopped with SIGTERM and prints its
# report to its log).
diagnose_alerts() {
  local topic="$1" pid="$2"
  "${FAULT_TOOL}" ends --bootstrap "${BOOTSTRAP}" --topic "${topic}" >&2 || true
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    wait_exit "${pid}" 30 || true
  fi
}

# await_alerts <topic> <count> <timeout-s> <pid...>: waits until the topic holds <count> committed
# alerts; fails at once when one of the given service processes exits meanwhile, and on timeout.
await_alerts() {
  local topic="$1" count="$2" timeout_s="$3" watcher pid
  shift 3
  "${FAULT_TOOL}" watch --bootstrap "${BOOTSTRAP}" --topic "${topic}" --count "${count}" \
    --timeout-s "${timeout_s}" >/dev/null 2>"${WORK}/await.err" &
  watcher=$!
  while kill -0 "${watcher}" 2>/dev/null; do
    for pid in "$@"; do
      if ! kill -0 "${pid}" 2>/dev/null; then
        kill -KILL "${watcher}" 2>/dev/null || true
        wait "${watcher}" 2>/dev/null || true
        EXIT_CODE=0
        wait "${pid}" || EXIT_CODE=$?
        fail "service pid ${pid} exited (code ${EXIT_CODE}) before ${count} alerts were committed"
      fi
    done
    sleep 0.2
  done
  wait "${watcher}" || fail "${topic}: not ${count} alerts within ${timeout_s} s: $(cat "${WORK}/await.err")"
}

# alert_count <topic>: how many alerts the topic holds now (read_committed).
alert_count() {
  local summary
  summary="$("${FAULT_TOOL}" dump --bootstrap "${BOOTSTRAP}" --topic "$1" --timeout-s 60 2>&1 \
    >/dev/null)" || fail "cannot read $1: ${summary}"
  summary="${summary#records=}"
  echo "${summary%% *}"
}

# same_alerts <reference-file> <actual-file> <what>: fails unless both sets are identical.
same_alerts() {
  local ref="$1" got="$2" what="$3"
  [ -s "${ref}" ] || fail "the reference run produced no alerts; the comparison would prove nothing"
  if ! cmp -s "${ref}" "${got}"; then
    echo "alerts differ (${what}): < reference, > actual (first 20 lines)" >&2
    diff "${ref}" "${got}" | head -n 20 >&2 || true
    fail "${what}: $(wc -l <"${got}") alerts, reference has $(wc -l <"${ref}")"
  fi
}

# same_cases <config-ref> <config-got> <what>
same_cases() {
  local a="$1" b="$2" what="$3"
  "${CCSTREAM}" cases --config "${a}" >"${WORK}/cases.ref" || fail "ccstream cases (${a}) failed"
  "${CCSTREAM}" cases --config "${b}" >"${WORK}/cases.got" || fail "ccstream cases (${b}) failed"
  [ -s "${WORK}/cases.ref" ] || fail "the reference run holds no cases"
  if ! cmp -s "${WORK}/cases.ref" "${WORK}/cases.got"; then
    diff "${WORK}/cases.ref" "${WORK}/cases.got" | head -n 10 >&2 || true
    fail "${what}: case stores differ ($(wc -l <"${WORK}/cases.got") cases, reference" \
         "$(wc -l <"${WORK}/cases.ref"))"
  fi
  log "case stores identical ($(wc -l <"${WORK}/cases.ref") cases)"
}

# produce_events <topic> <count> <seed>: deterministic generated traffic (fixed start time).
produce_events() {
  local topic="$1" count="$2" seed="$3"
  "${CCSTREAM}" gen --bootstrap "${BOOTSTRAP}" --topic "${topic}" --seed "${seed}" \
    --max-events "${count}" --no-pace --start-ms 1767225600000 --duration-s 100000000 \
    >"${WORK}/gen.out" 2>"${WORK}/gen.err" || { cat "${WORK}/gen.err" >&2; fail "gen failed"; }
  grep -q "\"produced\": ${count}}" "${WORK}/gen.out" ||
    fail "gen produced $(cat "${WORK}/gen.out"), not ${count} events"
}

# reference_run <name> <input> <clock> <topic-partitions>: topics, config and a full drain;
# sets REF_CONFIG and REF_ALERTS.
reference_run() {
  local name="$1" input="$2" clock="$3" partitions="$4"
  REF_ALERTS="${name}-ref-alerts-${RUN_ID}"
  local changelog="${name}-ref-changelog-${RUN_ID}" dlq="${name}-ref-dlq-${RUN_ID}"
  create_topic "${REF_ALERTS}" 6
  create_topic "${changelog}" "${partitions}" cleanup.policy=compact
  create_topic "${dlq}" 1
  REF_CONFIG="${WORK}/ref.textproto"
  write_config "${REF_CONFIG}" "${name}-ref-${RUN_ID}" ref-0 "${input}" "${REF_ALERTS}" \
    "${changelog}" "${dlq}" "${WORK}/ref-state" "${clock}"
  local started=${SECONDS}
  drain "${REF_CONFIG}" "${WORK}/ref.log" 300
  log "reference run drained in $((SECONDS - started)) s"
  dump_alerts "${REF_ALERTS}" "${WORK}/alerts.ref"
}
