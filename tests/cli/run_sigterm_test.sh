#!/usr/bin/env bash
# `ccstream run` on the real broker: SIGTERM finishes the batch in flight, commits and exits 0;
# a restart resumes after the committed offsets, so the two runs together handle every event
# exactly once.
# Usage: run_sigterm_test.sh <ccstream binary>   (env from the kafka fixture)
set -uo pipefail
bin="$1"
src="${CCSTREAM_SOURCE_DIR:?}"
bootstrap=$(cat "${CCSTREAM_KAFKA_BOOTSTRAP_FILE:?}")
work=$(mktemp -d)
run_id="sigterm-$$-$(date +%s)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/run1.err" ] && tail -20 "$work/run1.err"; exit 1; }

# shellcheck source=lib.sh
source "$src/tests/cli/lib.sh"
cli_input_topic "$run_id-in"
cli_output_topics "$run_id"

total=20000
start_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
cli_gen "$bootstrap" "$run_id-in" "$total" 11 "$start_ms"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/config.textproto" <<CFG
kafka {
  bootstrap_servers: "$bootstrap"
  group_id: "$run_id"
  group_instance_id: "$run_id-1"
  input_topic: "$run_id-in"
  alerts_topic: "$run_id-alerts"
  dead_letter_topic: "$run_id-dead"
  changelog_topic: "$run_id-changelog"
}
processing { max_batch_events: 200 commit_interval_ms: 100 }
http { port: $port }
state { dir: "$work/state" }
domain { pseudonymisation_key: "sigterm-test-key-0123456789" }
CFG

"$bin" run --config "$work/config.textproto" >"$work/run1.out" 2>"$work/run1.err" &
pid=$!
# Let it get going, then ask it to stop in the middle of the stream.
processed() {
  python3 - "$port" <<'PY'
import sys, urllib.request
try:
    text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=2).read().decode()
except Exception:
    print(0); sys.exit()
print(int(sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith("ccstream_events_processed_total"))))
PY
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$1"; }
# Health probes: /healthz answers as soon as the server is up; /readyz once the consumer has
# joined and its partitions are restored.
ready=""
for _ in $(seq 1 600); do
  [ "$(status_of readyz)" = 200 ] && { ready=1; break; }
  kill -0 "$pid" 2>/dev/null || fail "run exited before it was ready"
  sleep 0.1
done
[ -n "$ready" ] || fail "/readyz did not answer 200 within 60 s: $(curl -s "http://127.0.0.1:$port/readyz")"
[ "$(status_of healthz)" = 200 ] || fail "/healthz did not answer 200"
[ "$(status_of nope)" = 404 ] || fail "an unknown path did not answer 404"
for _ in $(seq 1 1200); do
  [ "$(processed)" -ge 2000 ] && break
  kill -0 "$pid" 2>/dev/null || fail "run exited early"
  sleep 0.05
done
kill -TERM "$pid"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "run did not stop within 30 s of SIGTERM"
wait "$pid"
code=$?
pid=""
[ "$code" -eq 0 ] || fail "run exited $code after SIGTERM"
grep -q "stopped cleanly" "$work/run1.err" || fail "no clean-stop message"
first=$(tail -n 1 "$work/run1.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "first run handled $first events before SIGTERM"

timeout 300 "$bin" run --config "$work/config.textproto" --drain >"$work/run2.out" 2>"$work/run2.err" \
  || fail "second run: $(tail -5 "$work/run2.err")"
second=$(tail -n 1 "$work/run2.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "second run handled $second events"
[ "$first" -gt 0 ] && [ "$first" -lt "$total" ] || fail "SIGTERM did not land mid-stream ($first of $total)"
[ $((first + second)) -eq "$total" ] || fail "first $first + second $second != $total"
echo "1 passed, 0 failed"
