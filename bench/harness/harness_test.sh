#!/usr/bin/env bash
# bench/run.sh end to end on a tiny run against the test broker: every stage (baseline, both
# modes, the Kafka Streams peer, latency, kill -9 and restore) runs, and the JSON it prints last
# carries every required figure as a positive number, with the Markdown report beside it.
# The broker is warmed up first, apart from the results.
# Usage: harness_test.sh <build dir>   (env from the kafka fixture)
set -uo pipefail
build="$1"
src="${CCSTREAM_SOURCE_DIR:?}"
bootstrap=$(cat "${CCSTREAM_KAFKA_BOOTSTRAP_FILE:?}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; tail -60 "$work/err"; exit 1; }

bash "$src/bench/run.sh" --quick --build-dir "$build" --bootstrap "$bootstrap" \
  --prefix "harness-test-$$" --work-dir "$work/run" --out-dir "$work/results" \
  --events 20000 --keys 5000 --latency-s 15 >"$work/out" 2>"$work/err" \
  || fail "bench/run.sh exited non-zero"

python3 - "$work/out" "$work/results" <<'PY' || fail "results"
import glob, json, sys
last = open(sys.argv[1]).read().strip().splitlines()[-1]
r = json.loads(last)
required = ["baseline_events_per_s", "eos_events_per_s", "alo_events_per_s", "peer_events_per_s",
            "eos_p99_ms", "alo_p99_ms", "peer_p99_ms", "resume_after_kill_s",
            "restore_records_per_s", "restore_keys_per_s", "peak_rss_mib"]
bad = [k for k in required if not isinstance(r.get(k), (int, float)) or r[k] <= 0]
if bad:
    sys.exit(f"missing or not positive: {bad} in {last}")
for ratio in ["eos_vs_baseline", "alo_vs_baseline", "eos_vs_peer"]:
    if not isinstance(r.get(ratio), (int, float)) or r[ratio] <= 0:
        sys.exit(f"ratio {ratio} missing in {last}")
# The latency runs carry the load asked for (5,000 events/s by default) over their samples.
for who in ["eos", "alo", "peer"]:
    offered = r.get(f"{who}_latency_offered_events_per_s")
    if not isinstance(offered, (int, float)) or not 3750 <= offered <= 6250:
        sys.exit(f"{who} latency offered {offered} events/s, not 5,000 +- 25 % in {last}")
files = glob.glob(sys.argv[2] + "/*-quick.json")
mds = glob.glob(sys.argv[2] + "/*-quick.md")
if len(files) != 1 or len(mds) != 1:
    sys.exit(f"expected one JSON and one Markdown file, found {files} {mds}")
doc = json.load(open(files[0]))
if doc["results"] != r or "cpus" not in doc["machine"]:
    sys.exit("the file's results differ from the printed line, or the machine is missing")
# Each throughput run reports what its state changes and its commits cost.
for run in ["tp-exactly_once", "tp-at_least_once"]:
    detail = doc["details"].get(run, {})
    for figure in ["changelog_records_per_event", "changelog_bytes_per_event",
                   "commit_ms_per_batch", "commit_s"]:
        if not isinstance(detail.get(figure), (int, float)) or detail[figure] <= 0:
            sys.exit(f"{run}: {figure} missing or not positive in {detail}")
# The broker was warmed up first, by a run over as many events as the input (under 1,000,000),
# which is reported apart from the results.
if doc["params"].get("warmup_events") != 20000 or doc["details"].get("warmup", {}).get("events") != 20000:
    sys.exit(f"no warm-up of 20,000 events: {doc['params']} {doc['details'].get('warmup')}")
if any(k.startswith("warmup") for k in r):
    sys.exit(f"the warm-up's figures are among the results: {last}")
# The latency runs of ccstream report their commits too (the wait per commit bounds the latency).
for run in ["lat-eos", "lat-alo"]:
    detail = doc["details"].get(run, {})
    for figure in ["commit_ms_per_batch", "commits"]:
        if not isinstance(detail.get(figure), (int, float)) or detail[figure] <= 0:
            sys.exit(f"{run}: {figure} missing or not positive in {detail}")
md = open(mds[0]).read()
for word in ["EOS ÷ baseline", "EOS ÷ peer", "restore", "peer_p99_ms"]:
    if word not in md:
        sys.exit(f"the Markdown report lacks {word!r}")
print("harness OK:", last)
PY
