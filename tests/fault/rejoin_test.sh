#!/usr/bin/env bash
# Rejoin after a fatal consumer error: while the service runs as static member X, another client
# joins the group as X and leaves again, so the service's consumer is fenced (FENCED_INSTANCE_ID,
# fatal in librdkafka; the same happens when a join is retried across a broker restart). The
# service must drop its tasks, rejoin with new clients and finish the stream: all the reference's
# alerts committed, each once, the same cases, `"rejoins": 1` in its final report, and exit 0 on
# SIGTERM.
#
#   rejoin_test.sh <ccstream> <fault_tool> <work-dir>
#
# Environment: FAULT_EVENTS (default 30000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS="${FAULT_EVENTS:-30000}"
test_started=${SECONDS}
input="rejoin-input-${RUN_ID}"
create_topic "${input}" 6
produce_events "${input}" "${EVENTS}" 47
reference_run rejoin "${input}" EVENT_TIME 6
ref_count="$(wc -l <"${WORK}/alerts.ref")"

alerts="rejoin-alerts-${RUN_ID}"
changelog="rejoin-changelog-${RUN_ID}"
dlq="rejoin-dlq-${RUN_ID}"
group="rejoin-${RUN_ID}"
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1
config="${WORK}/rejoin.textproto"
write_config "${config}" "${group}" rejoin-0 "${input}" "${alerts}" "${changelog}" "${dlq}" \
  "${WORK}/state" EVENT_TIME
# Slow the service down so that the fencing falls in the middle of the stream.
sed -i 's/processing { clock: EVENT_TIME }/processing { clock: EVENT_TIME max_batch_events: 50 commit_interval_ms: 100 }/' \
  "${config}"

start_service "${config}" "${WORK}/service.log"
pid="${SERVICE_PID}"
await_alerts "${alerts}" $((ref_count / 10)) 90 "${pid}"

log "taking the service's static member id"
"${FAULT_TOOL}" steal --bootstrap "${BOOTSTRAP}" --topic "${input}" --group "${group}" \
  --instance rejoin-0 --timeout-s 60 2>>"${WORK}/steal.log" ||
  { cat "${WORK}/steal.log" >&2; fail "the tool could not join as the service's member"; }

trap 'cleanup_processes; grep -v "^%" "${WORK}/service.log" | tail -n 12 >&2' EXIT
await_alerts "${alerts}" "${ref_count}" 240 "${pid}"
trap cleanup_processes EXIT
grep -q "rejoining the group after: consumer: .*fenced" "${WORK}/service.log" ||
  { tail -n 20 "${WORK}/service.log" >&2; fail "the service did not log a rejoin after being fenced"; }
kill -TERM "${pid}"
wait_exit "${pid}" 60 || fail "the service did not stop within 60 s of SIGTERM"
[ "${EXIT_CODE}" = 0 ] || { tail -n 20 "${WORK}/service.log" >&2; fail "the service exited ${EXIT_CODE}"; }
grep -q '"rejoins": 1' "${WORK}/service.log" ||
  { tail -n 5 "${WORK}/service.log" >&2; fail "the final report does not count one rejoin"; }

dump_alerts "${alerts}" "${WORK}/alerts.got"
same_alerts "${WORK}/alerts.ref" "${WORK}/alerts.got" "after a rejoin"
same_cases "${REF_CONFIG}" "${config}" "after a rejoin"
log "PASS: fenced consumer rejoined, ${ref_count} alerts exactly once, in $((SECONDS - test_started)) s"
