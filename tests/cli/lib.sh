# Shared by the command-line tests that run `ccstream` against the kafka fixture's broker.
# Sourced, never run. The caller defines fail MESSAGE (prints and exits non-zero) and sets
# bin (the ccstream binary) and work (its temporary directory); the fixture's environment gives
# CCSTREAM_SOURCE_DIR, CCSTREAM_KAFKA_DIR and CCSTREAM_KAFKA_BOOTSTRAP_FILE.
# shellcheck shell=bash

# cli_input_topic <topic>: an input topic of 3 partitions that takes oversized events (so that
# ccstream, not the broker, refuses them).
cli_input_topic() {
  "$CCSTREAM_SOURCE_DIR/deploy/kafka/topics.sh" "$CCSTREAM_KAFKA_DIR" "$1" 3 \
    max.message.bytes=16777216 >/dev/null || fail "topic $1"
}

# cli_output_topics <prefix>: <prefix>-alerts (3 partitions), <prefix>-dead (1, taking a dead
# letter's original bytes) and <prefix>-changelog (3, compacted), as a run's configuration names
# them.
cli_output_topics() {
  local topics="$CCSTREAM_SOURCE_DIR/deploy/kafka/topics.sh"
  "$topics" "$CCSTREAM_KAFKA_DIR" "$1-alerts" 3 >/dev/null || fail "topic $1-alerts"
  "$topics" "$CCSTREAM_KAFKA_DIR" "$1-dead" 1 max.message.bytes=16777216 >/dev/null ||
    fail "topic $1-dead"
  "$topics" "$CCSTREAM_KAFKA_DIR" "$1-changelog" 3 cleanup.policy=compact >/dev/null ||
    fail "topic $1-changelog"
}

# cli_gen <bootstrap> <topic> <events> <seed> <start ms>: exactly that many generated events
# (2,000 a second of event time from the start given), sent at once.
cli_gen() {
  "$bin" gen --bootstrap "$1" --topic "$2" --rate 2000 --duration-s 600 --max-events "$3" \
    --seed "$4" --start-ms "$5" --no-pace >"$work/gen.out" 2>"$work/gen.err" ||
    fail "gen: $(tail -3 "$work/gen.err")"
  grep -q "\"produced\": $3}" "$work/gen.out" || fail "gen produced $(cat "$work/gen.out")"
}
