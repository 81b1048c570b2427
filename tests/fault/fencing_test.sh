#!/usr/bin/env bash
# Zombie fencing: instance A runs with group_instance_id X; instance B starts with the same
# identity (same transactional.id, same static member id, its own state dir as on another host).
# A must stop writing: it exits non-zero with a message naming the fencing within 60 s. B drains;
# the committed alerts equal a reference run's, each once, and B's case store (rebuilt from the
# changelog) equals the reference's.
#
#   fencing_test.sh <ccstream> <fault_tool> <work-dir>
#
# Environment: FAULT_EVENTS (default 150000: A must still be working through the input when B
# starts, and ccstream drains 30,000 events in about a second; an A that had finished sat idle,
# was fenced by B's join, rejoined after B had drained nothing and exited, and ran on).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS="${FAULT_EVENTS:-150000}"
test_started=${SECONDS}
input="fence-input-${RUN_ID}"
create_topic "${input}" 6
produce_events "${input}" "${EVENTS}" 23
reference_run fence "${input}" EVENT_TIME 6
ref_count="$(wc -l <"${WORK}/alerts.ref")"

alerts="fence-alerts-${RUN_ID}"
changelog="fence-changelog-${RUN_ID}"
dlq="fence-dlq-${RUN_ID}"
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1
config_a="${WORK}/a.textproto"
config_b="${WORK}/b.textproto"
write_config "${config_a}" "fence-${RUN_ID}" shared-x "${input}" "${alerts}" "${changelog}" \
  "${dlq}" "${WORK}/state-a" EVENT_TIME
write_config "${config_b}" "fence-${RUN_ID}" shared-x "${input}" "${alerts}" "${changelog}" \
  "${dlq}" "${WORK}/state-b" EVENT_TIME

start_service "${config_a}" "${WORK}/a.log"
pid_a="${SERVICE_PID}"
# A is well under way: a tenth of the reference's alerts are committed.
await_alerts "${alerts}" $((ref_count / 10)) 90 "${pid_a}"
log "A is running with $((ref_count / 10))+ alerts committed; starting B with the same identity"

start_service "${config_b}" "${WORK}/b.log" --drain
pid_b="${SERVICE_PID}"
if ! wait_exit "${pid_a}" 60; then
  tail -n 20 "${WORK}/a.log" >&2
  fail "instance A still runs 60 s after B took its identity"
fi
rc_a="${EXIT_CODE}"
log "A exited with ${rc_a}: $(grep -i 'fenc' "${WORK}/a.log" | tail -n 1)"
[ "${rc_a}" != 0 ] || fail "the fenced instance A exited 0 instead of reporting the fencing"
grep -qi 'fenc' "${WORK}/a.log" || { tail -n 20 "${WORK}/a.log" >&2; fail "A's exit message does not mention the fencing"; }

if ! wait_exit "${pid_b}" 300; then
  tail -n 20 "${WORK}/b.log" >&2
  fail "instance B did not drain within 300 s"
fi
rc_b="${EXIT_CODE}"
[ "${rc_b}" = 0 ] || { tail -n 20 "${WORK}/b.log" >&2; fail "instance B exited ${rc_b}"; }

dump_alerts "${alerts}" "${WORK}/alerts.got"
same_alerts "${WORK}/alerts.ref" "${WORK}/alerts.got" "after fencing"
same_cases "${REF_CONFIG}" "${config_b}" "B after fencing"
log "PASS: A fenced (exit ${rc_a}), ${ref_count} alerts exactly once, in $((SECONDS - test_started)) s"
