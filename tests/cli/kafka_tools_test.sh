#!/usr/bin/env bash
# The runbooks' Kafka tools through deploy/kafka/tools.sh, against the real broker and a real
# `ccstream run`: "Moving the input offsets by hand" (docs/observability.md) skips a backlog with
# kafka-consumer-groups.sh, and the runs after it read on from there (that they keep their state
# is tests/integration/restore_test.cc, InputOffsetsMovedForwardByHandSkipEventsAndKeepTheState);
# kafka-dump-log.sh shows the alerts written in committed transactions. (The transactions tool
# is followed in tests/integration/transaction_watch_test.cc.)
# Usage: kafka_tools_test.sh <ccstream binary>   (env from the kafka fixture)
set -uo pipefail
bin="$1"
src="${CCSTREAM_SOURCE_DIR:?}"
bootstrap=$(cat "${CCSTREAM_KAFKA_BOOTSTRAP_FILE:?}")
dir="${CCSTREAM_KAFKA_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f"; grep -v '^%' "$f" | tail -8; }; done
  exit 1
}
run_id="tools-$$-$(date +%s)"
tools="$src/deploy/kafka/tools.sh"

# shellcheck source=lib.sh
source "$src/tests/cli/lib.sh"
cli_input_topic "$run_id-in"
cli_output_topics "$run_id"
# gen <events> <seed> <start ms>
gen() { cli_gen "$bootstrap" "$run_id-in" "$@"; }
cat >"$work/run.textproto" <<CFG
kafka {
  bootstrap_servers: "$bootstrap"
  group_id: "$run_id"
  input_topic: "$run_id-in"
  alerts_topic: "$run_id-alerts"
  dead_letter_topic: "$run_id-dead"
  changelog_topic: "$run_id-changelog"
}
processing { clock: EVENT_TIME }
state { dir: "$work/state" }
domain { pseudonymisation_key: "tools-test-key-0123456789abcdef" }
CFG
# run <name>: a drained run on the one state dir; prints the events it handled.
run() {
  timeout 300 "$bin" run --config "$work/run.textproto" --drain >"$work/$1.out" 2>"$work/$1.err" ||
    fail "$1 exited $?"
  tail -n 1 "$work/$1.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'
}
# column <name>: the sum of that column of `kafka-consumer-groups.sh --describe` over the
# group's partitions of the input.
column() {
  "$tools" "$dir" consumer-groups --describe --group "$run_id" >"$work/describe.txt" 2>&1 ||
    fail "consumer-groups --describe: $(tail -3 "$work/describe.txt")"
  python3 - "$work/describe.txt" "$run_id-in" "$1" <<'PY'
import sys
path, topic, name = sys.argv[1:]
rows = [line.split() for line in open(path) if line.strip()]
header = next(r for r in rows if "CURRENT-OFFSET" in r)
col = header.index(name)
total = 0
for r in rows:
    if len(r) > col and r[1] == topic:
        total += int(r[col])
print(total)
PY
}

start_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
gen 2000 5 "$start_ms"
first=$(run first) || exit 1
[ "$first" -eq 2000 ] || fail "the first run handled $first events, want 2000"
[ "$(column CURRENT-OFFSET)" -eq 2000 ] || fail "committed offsets: $(cat "$work/describe.txt")"
[ "$(column LAG)" -eq 0 ] || fail "lag after the first run: $(cat "$work/describe.txt")"

# A backlog arrives while no instance runs, and is skipped as the runbook says.
gen 1500 6 $(( start_ms + 1200 * 1000 ))
[ "$(column LAG)" -eq 1500 ] || fail "lag of the backlog: $(cat "$work/describe.txt")"
"$tools" "$dir" consumer-groups --group "$run_id" --topic "$run_id-in" --reset-offsets \
  --to-latest --execute >"$work/reset.txt" 2>&1 || fail "reset-offsets: $(cat "$work/reset.txt")"
[ "$(column LAG)" -eq 0 ] || fail "lag after the reset: $(cat "$work/describe.txt")"
second=$(run second) || exit 1
[ "$second" -eq 0 ] || fail "the run after the reset handled $second events, want 0 (skipped)"
gen 700 7 $(( start_ms + 2400 * 1000 ))
third=$(run third) || exit 1
[ "$third" -eq 700 ] || fail "the run after the skip handled $third new events, want 700"
echo "skipped a backlog of 1500 events; read on from there (700 new events)"

# The alerts' record batches in the broker's segments: transactional, each transaction closed by
# a COMMIT marker and none aborted.
segments=$(ls "$dir"/data/"$run_id"-alerts-*/*.log | paste -sd, -)
"$tools" "$dir" dump-log --files "$segments" --print-data-log >"$work/dump.txt" 2>&1 ||
  fail "dump-log: $(tail -3 "$work/dump.txt")"
commits=$(grep -ac 'endTxnMarker: COMMIT' "$work/dump.txt")
aborts=$(grep -ac 'endTxnMarker: ABORT' "$work/dump.txt")
data=$(grep -a '^baseOffset' "$work/dump.txt" | grep -ac 'isControl: false')
plain=$(grep -a '^baseOffset' "$work/dump.txt" | grep -ac 'isTransactional: false')
[ "$data" -gt 0 ] || fail "no alert batches in the segments: $(head -5 "$work/dump.txt")"
[ "$commits" -gt 0 ] && [ "$aborts" -eq 0 ] && [ "$plain" -eq 0 ] ||
  fail "alerts: $commits COMMIT markers, $aborts ABORT, $plain batches outside a transaction"
echo "alerts: $data batches in transactions, $commits COMMIT markers"
echo "1 passed, 0 failed"
