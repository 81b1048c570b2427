#!/usr/bin/env bash
# Checks the monitoring files in deploy/ (Prometheus, Alertmanager, Grafana) and their
# documentation. Runs every check, prints PASS/FAIL per check and exits 1 if any failed.
#
#   tests/deploy/check_deploy.sh [REPO_ROOT]
#
# Needs promtool (Debian `prometheus`), amtool (Debian `prometheus-alertmanager`) and python3,
# all installed by deploy/install-deps.sh.
set -euo pipefail

ROOT="$(cd "${1:-$(dirname "$0")/../..}" && pwd)"
cd "$ROOT"

PROM=deploy/prometheus/prometheus.yml
RECORDING=deploy/prometheus/rules/ccstream-recording.yml
ALERTS=deploy/prometheus/rules/ccstream-alerts.yml
AM=deploy/alertmanager/alertmanager.yml
DASHBOARD=deploy/grafana/ccstream-dashboard.json

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

failed=()
# check NAME COMMAND...: runs the command, shows its output on failure.
check() {
  local name="$1"
  shift
  if "$@" >"$WORK/out" 2>&1; then
    echo "PASS $name"
  else
    echo "FAIL $name"
    sed 's/^/    /' "$WORK/out"
    failed+=("$name")
  fi
}

for tool in promtool amtool python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL $tool not found: run deploy/install-deps.sh" >&2
    exit 1
  fi
done

check "promtool check config $PROM" promtool check config "$PROM"
check "promtool check rules $RECORDING" promtool check rules "$RECORDING"
check "promtool check rules $ALERTS" promtool check rules "$ALERTS"
check "promtool test rules tests/deploy/rules_test.yml" promtool test rules tests/deploy/rules_test.yml
check "amtool check-config $AM" amtool check-config "$AM"

# Routing: alerts posted by ccstream and floor KPI alerts reach the floor, pipeline alerts ops.
route() {
  local want="$1"
  shift
  amtool config routes test --config.file="$AM" --verify.receivers="$want" "$@"
}
check "alertmanager routes CcstreamSlaBreach to floor" \
  route floor alertname=CcstreamSlaBreach kind=SLA_BREACH severity=critical queue=billing \
  milestone=acknowledge case_id=c-1
check "alertmanager routes CcstreamEscalation to floor" \
  route floor alertname=CcstreamEscalation kind=ESCALATION severity=high queue=billing case_id=c-2
check "alertmanager routes a live-contact CcstreamSlaBreach to floor" \
  route floor alertname=CcstreamSlaBreach kind=LIVE_SLA_BREACH queue=billing milestone=queue_wait \
  contact_id=k-3
check "alertmanager routes team=floor to floor" \
  route floor alertname=CcstreamServiceLevelBelowTarget severity=warning team=floor queue=billing
check "alertmanager routes team=ops to ops" \
  route ops alertname=CcstreamDown severity=critical team=ops

check "dashboard is valid JSON" python3 -m json.tool "$DASHBOARD"

# The dashboard's expressions must parse as PromQL: they are checked as recording rules.
dashboard_promql() {
  python3 tests/deploy/dashboard_exprs.py "$DASHBOARD" >"$WORK/exprs"
  if [ ! -s "$WORK/exprs" ]; then
    echo "no expressions found in $DASHBOARD"
    return 1
  fi
  python3 - "$WORK/exprs" "$WORK/dashboard-rules.yml" <<'EOF'
import json, sys
exprs = [line.rstrip("\n") for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, expr in enumerate(exprs):
        out.write(f"      - record: dashboard_expr_{i}\n        expr: {json.dumps(expr)}\n")
EOF
  promtool check rules "$WORK/dashboard-rules.yml"
}
check "dashboard expressions are valid PromQL" dashboard_promql

check "metrics referenced are documented; alerts have severity, annotations, runbook" \
  python3 tests/deploy/check_metrics.py "$ROOT"

if [ "${#failed[@]}" -gt 0 ]; then
  echo
  echo "deploy_configs: ${#failed[@]} check(s) failed:"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "deploy_configs: all checks passed"
