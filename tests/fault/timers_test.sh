#!/usr/bin/env bash
# Timers without traffic: on the wall clock, one complaint opens a case whose acknowledge
# milestone has an 8 s calendar-time target with one warning at 0.5; then no input at all. The
# SLA_WARNING and the SLA_BREACH must arrive on their own, each no earlier than its due time and
# within 1 s after it (plus the commit interval), and each exactly once.
#
#   timers_test.sh <ccstream> <fault_tool> <work-dir>
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET_MS=8000
COMMIT_INTERVAL_MS=100
TOLERANCE_MS=$((1000 + COMMIT_INTERVAL_MS))

input="timers-input-${RUN_ID}"
alerts="timers-alerts-${RUN_ID}"
changelog="timers-changelog-${RUN_ID}"
dlq="timers-dlq-${RUN_ID}"
create_topic "${input}" 6
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1
config="${WORK}/timers.textproto"
write_config "${config}" "timers-${RUN_ID}" timers-0 "${input}" "${alerts}" "${changelog}" \
  "${dlq}" "${WORK}/state" WALL_CLOCK \
  'sla { preset: "none" policies { name: "fast" milestones { kind: ACKNOWLEDGE name: "acknowledge"' \
  'calendar_time: "8s" warning_fractions: 0.5 } } }'
sed -i "s/processing { clock: WALL_CLOCK }/processing { clock: WALL_CLOCK commit_interval_ms: ${COMMIT_INTERVAL_MS} }/" \
  "${config}"
"${CCSTREAM}" check-config "${config}" >/dev/null || fail "the test configuration is refused"

service_log="${WORK}/service.log"
start_service "${config}" "${service_log}"
service_pid="${SERVICE_PID}"
deadline=$((SECONDS + 60))
until grep -q 'restored' "${service_log}"; do
  kill -0 "${service_pid}" 2>/dev/null || { cat "${service_log}" >&2; fail "ccstream run exited"; }
  [ "${SECONDS}" -lt "${deadline}" ] || fail "the service was not assigned its partitions in 60 s"
  sleep 0.2
done

"${FAULT_TOOL}" watch --bootstrap "${BOOTSTRAP}" --topic "${alerts}" --count 3 --timeout-s 40 \
  >"${WORK}/watch.out" 2>"${WORK}/watch.err" &
watch_pid=$!
PIDS+=("${watch_pid}")
opened_ms="$("${FAULT_TOOL}" complaint --bootstrap "${BOOTSTRAP}" --topic "${input}" \
  --customer "timers-customer-${RUN_ID}" --event-id "timers-event-${RUN_ID}")" ||
  fail "cannot produce the complaint"
log "complaint produced with event time ${opened_ms}"
rc=0
wait "${watch_pid}" || rc=$?
cat "${WORK}/watch.out" >&2
[ "${rc}" = 0 ] || fail "expected 3 alerts (CASE_OPENED, SLA_WARNING, SLA_BREACH): $(cat "${WORK}/watch.err")"

# Each SLA alert: due = opened + (deadline - opened) x fraction; received in [due, due + tolerance].
check_sla_alert() {
  local kind="$1" fraction_expected="$2" line received deadline fraction due late
  line="$(awk -F'\t' -v k="${kind}" '$3 == k' "${WORK}/watch.out")"
  [ "$(printf '%s\n' "${line}" | grep -c .)" = 1 ] || fail "expected exactly one ${kind}, got: ${line}"
  received="$(cut -f1 <<<"${line}")"
  deadline="$(cut -f6 <<<"${line}")"
  fraction="$(cut -f7 <<<"${line}")"
  [ "$((deadline - opened_ms))" = "${TARGET_MS}" ] ||
    fail "${kind}: deadline ${deadline} is not opened ${opened_ms} + ${TARGET_MS} ms"
  awk -v f="${fraction}" -v e="${fraction_expected}" 'BEGIN { exit !(f == e) }' ||
    fail "${kind}: fraction ${fraction}, expected ${fraction_expected}"
  due="$(awk -v o="${opened_ms}" -v d="${deadline}" -v f="${fraction}" \
    'BEGIN { printf "%.0f", o + (d - o) * f }')"
  late=$((received - due))
  log "${kind}: due ${due}, received ${received} (${late} ms after due)"
  [ "${late}" -ge 0 ] || fail "${kind} arrived ${late#-} ms before its due time"
  [ "${late}" -le "${TOLERANCE_MS}" ] || fail "${kind} arrived ${late} ms after its due time"
}
grep -q $'\tCASE_OPENED\t' "${WORK}/watch.out" || fail "no CASE_OPENED alert"
check_sla_alert SLA_WARNING 0.500000
check_sla_alert SLA_BREACH 1.000000

# Nothing more may follow: stop the service cleanly (it commits what it holds), then the topic
# must hold exactly those three alerts, each once.
kill -TERM "${service_pid}"
wait_exit "${service_pid}" 30 || fail "ccstream run did not stop within 30 s of SIGTERM"
rc="${EXIT_CODE}"
[ "${rc}" = 0 ] || fail "ccstream run exited ${rc} on SIGTERM"
dump_alerts "${alerts}" "${WORK}/alerts.txt"
[ "$(wc -l <"${WORK}/alerts.txt")" = 3 ] ||
  fail "the alerts topic holds $(wc -l <"${WORK}/alerts.txt") alerts, expected 3"
log "PASS: warning and breach fired on time without traffic, exactly once"
