#!/usr/bin/env bash
# Crash loop: the same input processed once cleanly (reference) and once under repeated kill -9
# (each after a seeded random 1-4 s, so at random points: during start-up and restore, in a
# batch, between batches), then drained. The crash run's committed alerts must equal the
# reference's exactly (ids and content), each once, and its case store must equal the
# reference's.
#
#   crash_loop_test.sh <ccstream> <fault_tool> <work-dir>
#
# Environment: FAULT_KILLS (default 20), FAULT_EVENTS (default 50000), FAULT_SEED (default 7,
# drives the kill times), FAULT_GEN_SEED (default 11, the traffic).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KILLS="${FAULT_KILLS:-20}"
EVENTS="${FAULT_EVENTS:-50000}"
RANDOM="${FAULT_SEED:-7}"
GEN_SEED="${FAULT_GEN_SEED:-11}"
test_started=${SECONDS}

input="crash-input-${RUN_ID}"
create_topic "${input}" 6
produce_events "${input}" "${EVENTS}" "${GEN_SEED}"
log "produced ${EVENTS} events to ${input}"

reference_run crash "${input}" EVENT_TIME 6

alerts="crash-alerts-${RUN_ID}"
changelog="crash-changelog-${RUN_ID}"
dlq="crash-dlq-${RUN_ID}"
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1
config="${WORK}/crash.textproto"
write_config "${config}" "crash-${RUN_ID}" crash-0 "${input}" "${alerts}" "${changelog}" "${dlq}" \
  "${WORK}/crash-state" EVENT_TIME

# Small batches (the reference uses the default 1000): many more transactions, so kills land
# mid-batch and the input outlasts most of the lives; the batch boundaries differ from the
# reference's, which the outputs must not depend on.
sed -i 's/processing { clock: EVENT_TIME }/processing { clock: EVENT_TIME max_batch_events: 50 }/' \
  "${config}"
crash_log="${WORK}/crash.log"
exited=0
for kill in $(seq 1 "${KILLS}"); do
  delay_ms=$((1000 + RANDOM % 3001))
  echo "=== kill ${kill} after ${delay_ms} ms ===" >>"${crash_log}"
  start_service "${config}" "${crash_log}"
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  if ! kill -0 "${SERVICE_PID}" 2>/dev/null; then
    # It must not exit by itself: without --drain it runs until stopped.
    rc=0
    wait "${SERVICE_PID}" || rc=$?
    tail -n 20 "${crash_log}" >&2
    fail "ccstream run exited by itself (code ${rc}) before kill ${kill}"
  fi
  kill -KILL "${SERVICE_PID}"
  wait "${SERVICE_PID}" 2>/dev/null || true
  exited=$((exited + 1))
  if [ $((kill % 10)) = 0 ]; then
    log "${kill} kills; $(grep -c 'restored' "${crash_log}" || true) lives got as far as restoring"
  fi
done
log "${exited} kill -9 done; draining"
drain "${config}" "${crash_log}" 300
left="$(tail -n 1 "${crash_log}" | sed -n 's/.*"events": \([0-9]*\).*/\1/p')"
log "the killed lives committed $((EVENTS - ${left:-0})) of ${EVENTS} events; the drain did the rest"

dump_alerts "${alerts}" "${WORK}/alerts.crash"
same_alerts "${WORK}/alerts.ref" "${WORK}/alerts.crash" "crash run after ${KILLS} kills"
same_cases "${REF_CONFIG}" "${config}" "crash run after ${KILLS} kills"
log "PASS: ${KILLS} kills, $(wc -l <"${WORK}/alerts.ref") alerts exactly once," \
    "in $((SECONDS - test_started)) s"
