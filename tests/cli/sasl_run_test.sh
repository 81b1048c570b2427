#!/usr/bin/env bash
# `ccstream run` on a secured listener of the real broker (SASL_PLAINTEXT, mechanism PLAIN; see
# deploy/kafka/start.sh), with the credentials only in kafka.consumer_properties and
# kafka.producer_properties: every client of the service (the start-up checks, the pipeline's
# consumer and producer, the restore's consumer, the look-ups of committed offsets and
# watermarks, the transaction watch) must connect with them, or nothing is processed. Two
# drained runs: the first processes the input; the second, on a fresh state dir, restores the
# state from the changelog. A wrong password is refused at start-up (exit 3), so the listener
# does check.
# Usage: sasl_run_test.sh <ccstream binary>   (env from the kafka fixture)
set -uo pipefail
bin="$1"
src="${CCSTREAM_SOURCE_DIR:?}"
plain=$(cat "${CCSTREAM_KAFKA_BOOTSTRAP_FILE:?}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/run*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v '^%' "$f" | tail -8; }; done
  exit 1
}
sasl=$(cat "$CCSTREAM_KAFKA_DIR/bootstrap-sasl") || fail "the broker has no SASL listener"
run_id="sasl-$$-$(date +%s)"

# shellcheck source=lib.sh
source "$src/tests/cli/lib.sh"
cli_input_topic "$run_id-in"
cli_output_topics "$run_id"

total=3000
start_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
cli_gen "$plain" "$run_id-in" "$total" 5 "$start_ms"

# write_config <file> <password> <state dir>
write_config() {
  cat >"$1" <<CFG
kafka {
  bootstrap_servers: "$sasl"
  group_id: "$run_id"
  input_topic: "$run_id-in"
  alerts_topic: "$run_id-alerts"
  dead_letter_topic: "$run_id-dead"
  changelog_topic: "$run_id-changelog"
  connect_timeout_ms: 10000
  consumer_properties { key: "security.protocol" value: "SASL_PLAINTEXT" }
  consumer_properties { key: "sasl.mechanism" value: "PLAIN" }
  consumer_properties { key: "sasl.username" value: "ccstream" }
  consumer_properties { key: "sasl.password" value: "$2" }
  producer_properties { key: "security.protocol" value: "SASL_PLAINTEXT" }
  producer_properties { key: "sasl.mechanism" value: "PLAIN" }
  producer_properties { key: "sasl.username" value: "ccstream" }
  producer_properties { key: "sasl.password" value: "$2" }
}
processing { clock: EVENT_TIME }
state { dir: "$3" }
domain { pseudonymisation_key: "sasl-test-key-0123456789abcdef" }
CFG
}
events_of() { tail -n 1 "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }

write_config "$work/wrong.textproto" "not-the-password" "$work/state-wrong"
timeout 120 "$bin" run --config "$work/wrong.textproto" --drain >"$work/run0.out" 2>"$work/run0.err"
code=$?
[ "$code" -eq 3 ] || fail "a wrong password: exit $code, want 3 (unreachable)"
rm -f "$work/run0.err"

write_config "$work/first.textproto" "ccstream-dev-secret" "$work/state-1"
timeout 300 "$bin" run --config "$work/first.textproto" --drain >"$work/run1.out" 2>"$work/run1.err" \
  || fail "first run exited $?"
first=$(events_of "$work/run1.out")
[ "$first" -eq "$total" ] || fail "first run handled $first events, want $total"
echo "first run handled $first events"

write_config "$work/second.textproto" "ccstream-dev-secret" "$work/state-2"
timeout 300 "$bin" run --config "$work/second.textproto" --drain >"$work/run2.out" 2>"$work/run2.err" \
  || fail "second run exited $?"
restored=$(grep -o 'restored [0-9]* task(s): [0-9]* changelog records' "$work/run2.err" |
  awk '{s += $4} END {print s + 0}')
[ "$restored" -gt 0 ] || fail "the second run restored no changelog records"
second=$(events_of "$work/run2.out")
[ "$second" -eq 0 ] || fail "the second run handled $second events, want 0 (all committed)"
echo "second run restored $restored changelog records"
echo "1 passed, 0 failed"
