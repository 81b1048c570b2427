#!/usr/bin/env bash
# Fail-over: three instances (distinct group_instance_id and state dirs) share one group on six
# partitions. One is killed with SIGKILL midway; after the session timeout its partitions move
# to the two others, which restore those tasks from the changelog and carry on. Once all the
# reference's alerts are committed the survivors stop on SIGTERM (exit 0); the committed alerts
# must equal the reference's, each once.
#
#   failover_test.sh <ccstream> <fault_tool> <work-dir>
#
# Environment: FAULT_EVENTS (default 30000).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS="${FAULT_EVENTS:-30000}"
test_started=${SECONDS}
input="failover-input-${RUN_ID}"
create_topic "${input}" 6
produce_events "${input}" "${EVENTS}" 31
reference_run failover "${input}" EVENT_TIME 6
ref_count="$(wc -l <"${WORK}/alerts.ref")"

alerts="failover-alerts-${RUN_ID}"
changelog="failover-changelog-${RUN_ID}"
dlq="failover-dlq-${RUN_ID}"
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1
pids=()
for i in 0 1 2; do
  write_config "${WORK}/i${i}.textproto" "failover-${RUN_ID}" "member-${i}" "${input}" \
    "${alerts}" "${changelog}" "${dlq}" "${WORK}/state-${i}" EVENT_TIME
  # Small batches slow the group down, so that every member works for a while before the kill.
  sed -i 's/processing { clock: EVENT_TIME }/processing { clock: EVENT_TIME max_batch_events: 20 }/' \
    "${WORK}/i${i}.textproto"
  start_service "${WORK}/i${i}.textproto" "${WORK}/i${i}.log"
  pids+=("${SERVICE_PID}")
done

# Midway: every instance owns partitions and has worked on them: a third of what remained when
# the last one got its partitions is committed since.
deadline=$((SECONDS + 60))
for i in 0 1 2; do
  until grep -q 'restored' "${WORK}/i${i}.log"; do
    kill -0 "${pids[${i}]}" 2>/dev/null || { tail "${WORK}/i${i}.log" >&2; fail "instance ${i} exited"; }
    [ "${SECONDS}" -lt "${deadline}" ] || fail "instance ${i} got no partitions within 60 s"
    sleep 0.2
  done
done
settled="$(alert_count "${alerts}")"
midway=$((settled + (ref_count - settled) / 3))
log "all three members own partitions (${settled} alerts committed); killing one at ${midway}"
await_alerts "${alerts}" "${midway}" 120 "${pids[@]}"
victim=1
victim_partitions="$(grep -c 'assigned' "${WORK}/i${victim}.log")"
kill -KILL "${pids[${victim}]}"
wait "${pids[${victim}]}" 2>/dev/null || true
log "killed instance ${victim} (had ${victim_partitions} assignment(s)); waiting for the fail-over"
# Log lines of the survivors from now on.
survivor_offsets=("$(wc -c <"${WORK}/i0.log")" "$(wc -c <"${WORK}/i2.log")")

# All the reference's alerts committed (bounded), then the survivors stop cleanly.
await_alerts "${alerts}" "${ref_count}" 180 "${pids[0]}" "${pids[2]}"
after_kill="$( (tail -c "+$((survivor_offsets[0] + 1))" "${WORK}/i0.log";
               tail -c "+$((survivor_offsets[1] + 1))" "${WORK}/i2.log") | grep 'restored' || true)"
log "survivors after the kill: ${after_kill:-no restore}"
[ -n "${after_kill}" ] || fail "no survivor restored a task after the kill (the partitions did not move)"
# The victim's work since it got its partitions reaches the survivors through the changelog.
grep -qE 'restored [0-9]+ task\(s\): [1-9][0-9]* changelog records' <<<"${after_kill}" ||
  fail "the survivors restored no changelog records of the killed member's work"
for i in 0 2; do
  kill -TERM "${pids[${i}]}"
done
for i in 0 2; do
  wait_exit "${pids[${i}]}" 60 || fail "instance ${i} did not stop within 60 s of SIGTERM"
  rc="${EXIT_CODE}"
  [ "${rc}" = 0 ] || { tail -n 20 "${WORK}/i${i}.log" >&2; fail "instance ${i} exited ${rc}"; }
done

dump_alerts "${alerts}" "${WORK}/alerts.got"
same_alerts "${WORK}/alerts.ref" "${WORK}/alerts.got" "after fail-over"
log "PASS: fail-over, ${ref_count} alerts exactly once, in $((SECONDS - test_started)) s"
