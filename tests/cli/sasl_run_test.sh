#!/usr/bin/env bash
# `ccstream run` on a secured listener of the real broker (SASL_PLAINTEXT, mechanism PLAIN; see
# deploy/kafka/start.sh), with the credentials only in kafka.consumer_properties and
# kafka.producer_properties: every client of the service (the start-up checks, the pipeline's
# consumer and producer, the restore's consumer, the look-ups of committed offsets and
# watermarks, the transaction watch) must connect with them, or nothing is processed. Two
# drained runs: the first processes the input; the second, on a fresh state dir, restores the
# state from the changelog. A wrong password is refused at start-up (exit 3), so the listener
# does check. The input itself goes in over the secured listener too, with `gen --config` and,
# given the data sets, `replay --bootstrap ... --config` (the producer properties of the
# configuration); `gen` with the wrong password exits 3.
# Usage: sasl_run_test.sh <ccstream binary> [<datasets dir>]   (env from the kafka fixture)
set -uo pipefail
bin="$1"
datasets="${2:-}"
src="${CCSTREAM_SOURCE_DIR:?}"
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

# The input, over the secured listener: the configuration gives the cluster, the input topic and
# the credentials.
total=3000
start_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
timeout 120 "$bin" gen --config "$work/wrong.textproto" --max-events 10 --no-pace \
  >"$work/gen0.out" 2>"$work/gen0.err"
code=$?
[ "$code" -eq 3 ] || fail "gen with a wrong password: exit $code, want 3 (unreachable)"
write_config "$work/first.textproto" "ccstream-dev-secret" "$work/state-1"
"$bin" gen --config "$work/first.textproto" --rate 2000 --duration-s 600 --max-events "$total" \
  --seed 5 --start-ms "$start_ms" --no-pace >"$work/gen.out" 2>"$work/gen.err" ||
  fail "gen over SASL: $(tail -3 "$work/gen.err")"
grep -q "\"produced\": $total}" "$work/gen.out" || fail "gen produced $(cat "$work/gen.out")"
if [ -n "$datasets" ]; then
  # A real data set after the generated traffic (its event times are years earlier: the run
  # counts them as events like any other).
  "$bin" replay --format pwc-calls --file "$datasets/calls_pwc/call_center_dataset_pwc.csv" \
    --bootstrap "$sasl" --config "$work/first.textproto" --topic "$run_id-in" \
    >"$work/replay.out" 2>"$work/replay.err" || fail "replay over SASL: $(tail -3 "$work/replay.err")"
  replayed=$(tail -n 1 "$work/replay.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["produced"])')
  [ "$replayed" -gt 0 ] || fail "replay over SASL produced $replayed events"
  total=$((total + replayed))
  echo "replayed $replayed events over SASL"
fi

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
