#!/usr/bin/env bash
# End to end with the real parts an ops team runs: the real Kafka broker (CTest fixture), ccstream
# `run`, a real Prometheus scraping it every second with deploy/prometheus's rules, and a real
# Alertmanager with deploy/alertmanager's config, which ccstream also posts its alerts to.
#
# It produces three complaints lodged on 2021-01-01 and replays the PwC call-centre data set
# (Jan–Mar 2021) into the input topic, with their event times (clock EVENT_TIME), then checks
# through Prometheus's HTTP API:
#   - the KPI counters equal the figures computed here from the CSV (offered, answered, answered
#     within 20 s, abandoned, CSAT responses per score);
#   - no output partition is blocked by a transaction that does not end, and all three topics
#     written in transactions are watched;
#   - ccstream_sla_breaches_total equals the SLA_BREACH alerts read from the alerts topic
#     (read_committed), and there are some (the complaints' milestones pass during the quarter);
#   - every PromQL expression of the Grafana dashboard returns data;
# and through Alertmanager's API v2 that it lists, as active, exactly the case SLA breaches of
# the alerts topic (by case and milestone), and no live-contact breach (every contact ended, so
# each was resolved). Also /healthz and /readyz.
#
#   observability_test.sh <ccstream> <fault_tool> <datasets-dir> <work-dir>
set -euo pipefail
if [ "$#" -ne 4 ]; then
  echo "usage: $0 <ccstream> <fault_tool> <datasets-dir> <work-dir>" >&2
  exit 2
fi
bin="$1"
tool="$2"
data="$3"
work="$4"
src="${CCSTREAM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
kafka_dir="${CCSTREAM_KAFKA_DIR:?}"
bootstrap="$(tr -d ' \n' <"${CCSTREAM_KAFKA_BOOTSTRAP_FILE:?}")"
rm -rf "$work"
mkdir -p "$work"
run_id="obs-$(date +%s)-$$"
started=$SECONDS

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
fail() {
  echo "FAIL: $*" >&2
  for f in ccstream.log prometheus.log alertmanager.log; do
    [ -f "$work/$f" ] && { echo "--- tail of $f" >&2; grep -v '^%' "$work/$f" | tail -n 8 >&2; }
  done
  exit 1
}
cleanup() {
  local pid
  for pid in $(jobs -pr); do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in $(jobs -pr); do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

for tool_bin in prometheus promtool prometheus-alertmanager curl python3; do
  command -v "$tool_bin" >/dev/null || fail "$tool_bin is not installed (deploy/install-deps.sh)"
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cc_port=$(free_port)
prom_port=$(free_port)
am_port=$(free_port)
am_cluster_port=$(free_port)

# ---- expected figures, straight from the CSV
csv="$data/calls_pwc/call_center_dataset_pwc.csv"
python3 - "$csv" >"$work/expected.json" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
answered = [r for r in rows if r["answered (Y/N)"] == "Y"]
within = [r for r in answered if int(r["speed of answer(seconds)"]) <= 20]
scores = {}
for r in answered:
    s = r["satisfaction rating"].strip()
    if s in {"1", "2", "3", "4", "5"}:
        scores[s] = scores.get(s, 0) + 1
surveys = sum(scores.values())
json.dump({"offered": len(rows), "answered": len(answered), "within": len(within),
           "abandoned": len(rows) - len(answered), "csat": scores,
           "events": len(rows) + 2 * len(answered) + surveys + (len(rows) - len(answered))},
          sys.stdout)
PY
expected() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))' "$work/expected.json" "$1"; }
complaints=3
want_events=$(( $(expected events) + complaints ))
log "expecting $want_events events: $(cat "$work/expected.json")"

# ---- topics and input
topics="$src/deploy/kafka/topics.sh"
"$topics" "$kafka_dir" "$run_id-in" 6 max.message.bytes=16777216 >/dev/null || fail "topic"
"$topics" "$kafka_dir" "$run_id-alerts" 6 >/dev/null || fail "topic"
"$topics" "$kafka_dir" "$run_id-dead" 1 >/dev/null || fail "topic"
"$topics" "$kafka_dir" "$run_id-changelog" 6 cleanup.policy=compact >/dev/null || fail "topic"
lodged_ms=1609493400000  # 2021-01-01T09:30:00Z
for i in $(seq 1 "$complaints"); do
  "$tool" complaint --bootstrap "$bootstrap" --topic "$run_id-in" --customer "e2e-customer-$i" \
    --contact "e2e-contact-$i" --event-id "e2e-complaint-$i" --time-ms "$lodged_ms" >/dev/null ||
    fail "cannot produce complaint $i"
done
"$bin" replay --format pwc-calls --file "$csv" --bootstrap "$bootstrap" --topic "$run_id-in" \
  >"$work/replay.out" 2>"$work/replay.err" || fail "replay: $(tail -3 "$work/replay.err")"
log "replayed: $(tail -n 1 "$work/replay.out")"

# ---- Alertmanager (deploy/alertmanager/alertmanager.yml as shipped)
prometheus-alertmanager --config.file="$src/deploy/alertmanager/alertmanager.yml" \
  --storage.path="$work/am-data" --web.listen-address="127.0.0.1:$am_port" \
  --cluster.listen-address="127.0.0.1:$am_cluster_port" >"$work/alertmanager.log" 2>&1 &

# ---- Prometheus: deploy/prometheus/prometheus.yml with this run's ports and a 1 s cadence
mkdir -p "$work/prom"
cp -r "$src/deploy/prometheus/rules" "$work/prom/rules"
sed -e "s/localhost:9464/127.0.0.1:$cc_port/" -e "s/localhost:9093/127.0.0.1:$am_port/" \
    -e 's/scrape_interval: [0-9]*s/scrape_interval: 1s/' \
    -e 's/scrape_timeout: [0-9]*s/scrape_timeout: 1s/' \
    -e 's/evaluation_interval: [0-9]*s/evaluation_interval: 1s/' \
    "$src/deploy/prometheus/prometheus.yml" >"$work/prom/prometheus.yml"
grep -q "127.0.0.1:$cc_port" "$work/prom/prometheus.yml" || fail "could not point Prometheus at ccstream"
promtool check config "$work/prom/prometheus.yml" >"$work/promtool.out" 2>&1 ||
  fail "promtool check config: $(cat "$work/promtool.out")"
prometheus --config.file="$work/prom/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &

# ---- ccstream
cat >"$work/ccstream.textproto" <<CFG
kafka {
  bootstrap_servers: "$bootstrap"
  group_id: "$run_id"
  input_topic: "$run_id-in"
  alerts_topic: "$run_id-alerts"
  dead_letter_topic: "$run_id-dead"
  changelog_topic: "$run_id-changelog"
}
# Small batches: the dashboard's rate() panels need the counters to rise across several 1 s
# scrapes, and ccstream would otherwise take the whole replay in about one scrape interval
# (a counter first seen at its final value has a rate of 0, which the panels leave out).
processing { clock: EVENT_TIME max_batch_events: 20 }
http { port: $cc_port }
state { dir: "$work/state" }
alertmanager { url: "http://127.0.0.1:$am_port" resend_interval_s: 30 }
domain { pseudonymisation_key: "observability-e2e-key-0123456789" }
CFG
"$bin" run --config "$work/ccstream.textproto" >"$work/ccstream.log" 2>&1 &
cc_pid=$!

http_status() { curl -s -o /dev/null -w '%{http_code}' "$1" || true; }
await() {  # await <what> <timeout-s> <command...>: until the command succeeds
  local what="$1" timeout_s="$2" deadline
  shift 2
  deadline=$((SECONDS + timeout_s))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not within $timeout_s s"
    kill -0 "$cc_pid" 2>/dev/null || fail "ccstream exited"
    sleep 0.5
  done
}
is_200() { [ "$(http_status "$1")" = 200 ]; }
await "ccstream /readyz" 90 is_200 "http://127.0.0.1:$cc_port/readyz"
is_200 "http://127.0.0.1:$cc_port/healthz" || fail "/healthz is not 200"
await "Prometheus ready" 60 is_200 "http://127.0.0.1:$prom_port/-/ready"
await "Alertmanager ready" 60 is_200 "http://127.0.0.1:$am_port/-/ready"

# query <promql>: the instant-query result as JSON (the `data.result` array).
query() {
  curl -s --get "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="success", d; print(json.dumps(d["data"]["result"]))'
}
# scalar <promql>: the single value of the result as an integer ("none" when empty).
scalar() {
  query "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(int(float(r[0]["value"][1])) if r else "none")'
}
processed_in_prometheus() { [ "$(scalar 'sum(ccstream_events_processed_total)')" = "$want_events" ]; }
await "Prometheus sees all $want_events events processed" 240 processed_in_prometheus
# A scrape is not atomic across metric families: let two more scrapes (1 s apart) take the
# final values of every family once processing is over.
sleep 2.5
log "Prometheus has scraped all $want_events events"

failures=0
check() {  # check <name> <got> <want>
  if [ "$2" = "$3" ]; then
    log "ok   $1 = $2"
  else
    log "FAIL $1 = $2, want $3"
    failures=$((failures + 1))
  fi
}
check offered "$(scalar 'sum(ccstream_contacts_offered_total)')" "$(expected offered)"
check answered "$(scalar 'sum(ccstream_contacts_answered_total)')" "$(expected answered)"
check "answered within 20 s" "$(scalar 'sum(ccstream_contacts_answered_within_threshold_total)')" \
  "$(expected within)"
check abandoned "$(scalar 'sum(ccstream_contacts_abandoned_total)')" "$(expected abandoned)"
for score in 1 2 3 4 5; do
  check "CSAT score $score" "$(scalar "sum(ccstream_csat_responses_total{score=\"$score\"})")" \
    "$(expected "csat.get('$score', 0)")"
done
check "dead letters" "$(scalar 'sum(ccstream_events_dead_lettered_total)')" 0
# The watch for transactions that do not end reports on each topic written in transactions.
check "topics watched for blocked partitions" \
  "$(scalar "count(ccstream_output_partitions_blocked{topic=~\"$run_id-.*\"})")" 3
check "blocked output partitions" "$(scalar 'sum(ccstream_output_partitions_blocked)')" 0

# ---- SLA breaches: metric vs the alerts topic (read_committed)
"$tool" dump --bootstrap "$bootstrap" --topic "$run_id-alerts" --fields 1 --timeout-s 120 \
  >"$work/alerts.tsv" 2>"$work/dump.err" || fail "cannot read the alerts topic"
topic_breaches=$(awk -F'\t' '$2 == "SLA_BREACH"' "$work/alerts.tsv" | wc -l)
topic_live=$(awk -F'\t' '$2 == "LIVE_SLA_BREACH"' "$work/alerts.tsv" | wc -l)
log "alerts topic: $(wc -l <"$work/alerts.tsv") alerts, $topic_breaches SLA_BREACH, $topic_live LIVE_SLA_BREACH"
[ "$topic_breaches" -gt 0 ] || fail "no SLA_BREACH alert in the topic: the complaints' milestones did not pass"
check "ccstream_sla_breaches_total vs SLA_BREACH alerts in the topic" \
  "$(scalar 'sum(ccstream_sla_breaches_total)')" "$topic_breaches"
check "ccstream_live_sla_breaches_total vs LIVE_SLA_BREACH alerts in the topic" \
  "$(scalar 'sum(ccstream_live_sla_breaches_total) or vector(0)')" "$topic_live"
topic_live_warnings=$(awk -F'\t' '$2 == "LIVE_SLA_WARNING"' "$work/alerts.tsv" | wc -l)
check "ccstream_live_sla_warnings_total vs LIVE_SLA_WARNING alerts in the topic" \
  "$(scalar 'sum(ccstream_live_sla_warnings_total) or vector(0)')" "$topic_live_warnings"

# ---- Alertmanager lists the case breaches as active, and no live-contact breach
awk -F'\t' '$2 == "SLA_BREACH" {print $3 "\t" $4}' "$work/alerts.tsv" | sort -u >"$work/want-am.tsv"
am_matches() {
  curl -s --get "http://127.0.0.1:$am_port/api/v2/alerts" --data-urlencode 'active=true' \
    --data-urlencode 'filter=alertname="CcstreamSlaBreach"' >"$work/am.json" || return 1
  python3 - "$work/am.json" >"$work/got-am.tsv" 2>"$work/am-live.txt" <<'PY' || return 1
import json, sys
alerts = json.load(open(sys.argv[1]))
live = [a for a in alerts if "contact_id" in a["labels"]]
for a in alerts:
    if "case_id" in a["labels"]:
        print(a["labels"]["case_id"] + "\t" + a["labels"].get("milestone", ""))
print(len(live), file=sys.stderr)
PY
  sort -u -o "$work/got-am.tsv" "$work/got-am.tsv"
  cmp -s "$work/want-am.tsv" "$work/got-am.tsv" && [ "$(cat "$work/am-live.txt")" = 0 ]
}
if am_matches || { sleep 1; await "Alertmanager lists the breaches" 60 am_matches; }; then
  log "ok   Alertmanager lists the $(wc -l <"$work/want-am.tsv") case breaches as active and no live-contact breach"
fi
# Every breach went to Alertmanager at least once (live ones were posted, then resolved).
check "Alertmanager posts at least the breaches" \
  "$(scalar "sum(ccstream_alertmanager_posts_total{result=\"ok\"}) >= bool $((topic_breaches + topic_live))")" 1
python3 - "$work/am.json" <<'PY' || fail "Alertmanager alerts lack labels or annotations"
import json, sys
for a in json.load(open(sys.argv[1])):
    for label in ("alertname", "kind", "queue", "milestone", "case_id"):
        assert label in a["labels"], (label, a["labels"])
    for annotation in ("summary", "reason", "case"):
        assert annotation in a["annotations"], (annotation, a["annotations"])
PY

# ---- every expression of the Grafana dashboard returns data
python3 "$src/tests/deploy/dashboard_exprs.py" "$src/deploy/grafana/ccstream-dashboard.json" \
  >"$work/dashboard-exprs.txt" || fail "cannot read the dashboard's expressions"
exprs=0
while IFS= read -r expr; do
  [ -n "$expr" ] || continue
  exprs=$((exprs + 1))
  n=$(query "$expr" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') ||
    { log "FAIL dashboard expression does not run: $expr"; failures=$((failures + 1)); continue; }
  if [ "$n" -eq 0 ]; then
    log "FAIL dashboard expression returns no data: $expr"
    failures=$((failures + 1))
  fi
done <"$work/dashboard-exprs.txt"
[ "$exprs" -gt 0 ] || fail "the dashboard has no expressions"
log "checked $exprs dashboard expressions"

kill -TERM "$cc_pid"
for _ in $(seq 1 300); do kill -0 "$cc_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$cc_pid" 2>/dev/null && fail "ccstream did not stop within 30 s of SIGTERM"
[ "$failures" -eq 0 ] || fail "$failures check(s) failed"
log "PASS: KPIs, SLA breaches, Alertmanager and the dashboard agree, in $((SECONDS - started)) s"
