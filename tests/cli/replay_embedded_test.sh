#!/usr/bin/env bash
# `ccstream replay --embedded` processes every record of the three real data sets, and the
# figures it reports agree with counts computed here, independently, from the files.
# Usage: replay_embedded_test.sh <ccstream binary> <datasets dir>
set -uo pipefail
bin="$1"
data="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

# Expected figures, straight from the files (python's csv and json modules).
read -r pwc_rows pwc_answered pwc_abandoned pwc_within pwc_surveys <<<"$(python3 - "$data" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/calls_pwc/call_center_dataset_pwc.csv", newline="")))
answered = [r for r in rows if r["answered (Y/N)"] == "Y"]
within = [r for r in answered if int(r["speed of answer(seconds)"]) <= 20]
surveys = [r for r in answered if r["satisfaction rating"].strip() in {"1", "2", "3", "4", "5"}]
print(len(rows), len(answered), len(rows) - len(answered), len(within), len(surveys))
PY
)"
read -r ibm_conversations ibm_turns <<<"$(python3 - "$data" <<'PY'
import json, sys
conversations = json.load(open(sys.argv[1] + "/conversations_ibm/dev.json"))
turns = sum(len(c["dialogContent"]) + (1 if c.get("agentURL") else 0) for c in conversations)
print(len(conversations), turns)
PY
)"
cfpb_rows=$(python3 - "$data" <<'PY'
import csv, sys
print(sum(1 for _ in csv.DictReader(open(sys.argv[1] + "/complaints_cfpb/complaints_sample.csv", newline=""))))
PY
)

# check <name> <json> <field> <want>
check() {
  local got
  got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$2" "$3")
  if [ "$got" != "$4" ]; then
    echo "FAIL $1: $3 = $got, want $4"; failures=$((failures + 1))
  else
    echo "ok   $1: $3 = $got"; passed=$((passed + 1))
  fi
}

# metric_sum <file> <metric name>: the sum over all label sets.
metric_sum() {
  awk -v m="$2" 'index($0, m) == 1 && substr($0, length(m) + 1, 1) ~ /[{ ]/ && $0 !~ /^#/ {s += $NF} END {printf "%d\n", s}' "$1"
}

replay() {
  local format=$1 file=$2
  (cd "$work" && timeout 600 "$bin" replay --format "$format" --file "$file" --embedded \
    --metrics-out "$work/$format.prom" >"$work/$format.out" 2>"$work/$format.err")
  local code=$?
  if [ "$code" -ne 0 ]; then
    echo "FAIL $format: exit $code"; tail -5 "$work/$format.err"; failures=$((failures + 1))
    echo "{}"; return
  fi
  tail -n 1 "$work/$format.out"
}

json=$(replay pwc-calls "$data/calls_pwc/call_center_dataset_pwc.csv")
check pwc "$json" events $((pwc_rows + 2 * pwc_answered + pwc_surveys + pwc_abandoned))
check pwc "$json" dead_letters 0
prom="$work/pwc-calls.prom"
for pair in "ccstream_contacts_offered_total:$pwc_rows" \
            "ccstream_contacts_answered_total:$pwc_answered" \
            "ccstream_contacts_abandoned_total:$pwc_abandoned" \
            "ccstream_contacts_answered_within_threshold_total:$pwc_within" \
            "ccstream_csat_responses_total:$pwc_surveys"; do
  name=${pair%%:*}; want=${pair##*:}
  got=$(metric_sum "$prom" "$name")
  if [ "$got" != "$want" ]; then
    echo "FAIL pwc: $name = $got, want $want"; failures=$((failures + 1))
  else
    echo "ok   pwc: $name = $got"; passed=$((passed + 1))
  fi
done

json=$(replay ibm-conversations "$data/conversations_ibm/dev.json")
check ibm "$json" events $((2 * ibm_conversations + ibm_turns))
check ibm "$json" dead_letters 0

json=$(replay cfpb-complaints "$data/complaints_cfpb/complaints_sample.csv")
check cfpb "$json" events "$cfpb_rows"
check cfpb "$json" dead_letters 0
got_cases=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cases_opened"])' "$json")
if [ "$got_cases" -gt 0 ] && [ "$got_cases" -le "$cfpb_rows" ]; then
  echo "ok   cfpb: cases_opened = $got_cases (one per customer and category)"; passed=$((passed + 1))
else
  echo "FAIL cfpb: cases_opened = $got_cases, want 1..$cfpb_rows"; failures=$((failures + 1))
fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
