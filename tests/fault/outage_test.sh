#!/usr/bin/env bash
# Broker outage: while the service processes a stream, the broker is stopped for 30 s and started
# again (same port and data). The service must recover on its own: all the reference's alerts get
# committed, each once, no restore finds a store past the group's committed offset (a commit
# Kafka lost), and it still stops cleanly on SIGTERM. The broker is restarted even when the test
# fails, since later tests share it.
#
# The service is frozen (SIGSTOP) for the moment the broker stops, and meets the outage awake
# after it. This single broker's controlled shutdown leaves every partition without a leader
# while it still completes transactions, and Kafka skips the markers of leaderless partitions
# (KAFKA-5202): a commit acknowledged at that moment is lost by Kafka itself (one local CI run in
# six read 3 duplicate alerts that way). A crash (SIGKILL) is worse: at its restart the broker
# aborts a transaction left open while the controller still fences its old registration, and the
# markers skipped then leave that transaction hanging for good. docs/architecture.md, step 4.
#
#   outage_test.sh <ccstream> <fault_tool> <work-dir>
#
# Environment: FAULT_EVENTS (default 30000), FAULT_OUTAGE_S (default 30).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS="${FAULT_EVENTS:-30000}"
OUTAGE_S="${FAULT_OUTAGE_S:-30}"
test_started=${SECONDS}

restart_broker() {
  "${SOURCE_DIR}/deploy/kafka/start.sh" "${KAFKA_DIR}" >/dev/null ||
    echo "outage_test: could not restart the broker in ${KAFKA_DIR}" >&2
}
on_exit() {
  cleanup_processes
  restart_broker
}
trap on_exit EXIT

input="outage-input-${RUN_ID}"
create_topic "${input}" 6
produce_events "${input}" "${EVENTS}" 41
reference_run outage "${input}" EVENT_TIME 6
ref_count="$(wc -l <"${WORK}/alerts.ref")"

alerts="outage-alerts-${RUN_ID}"
changelog="outage-changelog-${RUN_ID}"
dlq="outage-dlq-${RUN_ID}"
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1
config="${WORK}/outage.textproto"
write_config "${config}" "outage-${RUN_ID}" outage-0 "${input}" "${alerts}" "${changelog}" \
  "${dlq}" "${WORK}/state" EVENT_TIME
# Slow the service down so that the outage falls in the middle of the stream.
sed -i 's/processing { clock: EVENT_TIME }/processing { clock: EVENT_TIME max_batch_events: 50 commit_interval_ms: 100 }/' \
  "${config}"
# The consumer group's conversation with the broker, for a failure to show (below): once, the
# service resumed its partitions after the outage and then read nothing for 3 minutes, and the
# group's committed offsets could not be read either (OffsetFetch unanswered within 10 s).
sed -i 's/^  dead_letter_topic: \(.*\)$/  dead_letter_topic: \1\n  consumer_properties { key: "debug" value: "cgrp,topic" }/' "${config}"
grep -q 'consumer_properties' "${config}" || fail "could not add the consumer's debug setting"

start_service "${config}" "${WORK}/service.log"
pid="${SERVICE_PID}"
await_alerts "${alerts}" $((ref_count / 10)) 90 "${pid}"

log "stopping the broker for ${OUTAGE_S} s"
kill -STOP "${pid}"
sleep 1  # a commit acknowledged just before the freeze gets its markers written
"${SOURCE_DIR}/deploy/kafka/stop.sh" "${KAFKA_DIR}" >/dev/null 2>&1 || {
  kill -CONT "${pid}"
  fail "stop.sh failed"
}
kill -CONT "${pid}"
sleep "${OUTAGE_S}"  # the outage itself, not a correctness wait
if ! kill -0 "${pid}" 2>/dev/null; then
  rc=0
  wait "${pid}" || rc=$?
  tail -n 20 "${WORK}/service.log" >&2
  fail "the service exited (code ${rc}) during the ${OUTAGE_S} s broker outage"
fi
restart_broker
log "broker back"

trap 'diagnose_alerts "${alerts}" "${pid}"; on_exit; grep -v "^%" "${WORK}/service.log" | tail -n 12 >&2
  echo "the consumer group, last lines:" >&2
  grep -E "OFFSETFETCH|FETCHSTART|OFFSET\||UNSTABLE|JOINSTATE|ASSIGN" "${WORK}/service.log" | tail -n 25 >&2' EXIT
await_alerts "${alerts}" "${ref_count}" 240 "${pid}"
trap on_exit EXIT
kill -TERM "${pid}"
wait_exit "${pid}" 60 || fail "the service did not stop within 60 s of SIGTERM"
rc="${EXIT_CODE}"
[ "${rc}" = 0 ] || { tail -n 20 "${WORK}/service.log" >&2; fail "the service exited ${rc}"; }

if grep -E "is past the group's committed offset" "${WORK}/service.log" >&2; then
  fail "a restore found a store past the group's committed offset: Kafka lost a commit"
fi
dump_alerts "${alerts}" "${WORK}/alerts.got"
same_alerts "${WORK}/alerts.ref" "${WORK}/alerts.got" "after a ${OUTAGE_S} s broker outage"
same_cases "${REF_CONFIG}" "${config}" "after a ${OUTAGE_S} s broker outage"
log "PASS: recovered from a ${OUTAGE_S} s outage, ${ref_count} alerts exactly once," \
    "in $((SECONDS - test_started)) s"
