#!/usr/bin/env bash
# The wallboard in a real browser against a running `ccstream run` on the wall clock: the page
# served at / goes LIVE, shows an escalating contact within 2 s of its events being produced, and
# shows a complaint's case at risk with a running countdown, then breached at its due time
# (within 1.5 s after it). The API needs a bearer token, so the page is opened as
# /?access_token=T and must pass it on every call. See README.md.
#
#   wallboard_test.sh <ccstream> <fault_tool> <work-dir>   # real broker (CTest fixture `kafka`)
#   wallboard_test.sh --mock <work-dir>                    # mock_api.py instead; no broker
#
# Needs node (>= 20), npm (first run: setup.sh installs playwright-core from the registry),
# /usr/bin/chromium and python3. The screenshot is <work-dir>/wallboard.png.
BROWSER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACK_S=10  # the acknowledge milestone of the test's SLA policy

json_array() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_http <url> <timeout-s> <pid>: until the URL answers 200; fails when <pid> exits first.
wait_http() {
  local url="$1" timeout_s="$2" pid="$3" deadline=$((SECONDS + $2))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${url}")" = 200 ]; do
    kill -0 "${pid}" 2>/dev/null || return 1
    [ "${SECONDS}" -lt "${deadline}" ] || return 1
    sleep 0.2
  done
}

if [ "${1:-}" = "--mock" ]; then
  set -euo pipefail
  [ "$#" = 2 ] || { echo "usage: $0 --mock <work-dir>" >&2; exit 2; }
  WORK="$2"
  rm -rf "${WORK}"
  mkdir -p "${WORK}"
  fail() { echo "FAIL: $*" >&2; exit 1; }
  modules="$("${BROWSER_DIR}/setup.sh" --print)" || fail "cannot install playwright-core"
  token="mock-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  python3 "${BROWSER_DIR}/mock_api.py" --port 0 --port-file "${WORK}/port" --token "${token}" \
    >"${WORK}/mock.log" 2>&1 &
  mock_pid=$!
  trap 'kill "${mock_pid}" 2>/dev/null || true; wait "${mock_pid}" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do [ -s "${WORK}/port" ] && break; sleep 0.1; done
  [ -s "${WORK}/port" ] || { cat "${WORK}/mock.log" >&2; fail "mock_api.py did not start"; }
  base="http://127.0.0.1:$(cat "${WORK}/port")"
  wait_http "${base}/readyz" 10 "${mock_pid}" || fail "mock_api.py is not ready"
  node "${BROWSER_DIR}/wallboard_test.mjs" "${base}/?access_token=${token}" "${WORK}" \
    --modules "${modules}" --mock-base "${base}" \
    --contact-cmd "$(json_array curl -sf -X POST "${base}/mock/contact?contact_id={contact_id}")" \
    --complaint-cmd "$(json_array curl -sf -X POST \
      "${base}/mock/complaint?category={category}&ack_ms=$((ACK_S * 1000))")" ||
    fail "the wallboard test failed against the mock API (see ${WORK}/console.log)"
  echo "PASS: wallboard against the mock API" >&2
  exit 0
fi

source "${BROWSER_DIR}/../fault/lib.sh"
command -v node >/dev/null || fail "node is not installed"
command -v curl >/dev/null || fail "curl is not installed"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is not installed"
modules="$("${BROWSER_DIR}/setup.sh" --print)" || fail "cannot install playwright-core"

input="wallboard-input-${RUN_ID}"
alerts="wallboard-alerts-${RUN_ID}"
changelog="wallboard-changelog-${RUN_ID}"
dlq="wallboard-dlq-${RUN_ID}"
create_topic "${input}" 6
create_topic "${alerts}" 6
create_topic "${changelog}" 6 cleanup.policy=compact
create_topic "${dlq}" 1

port="$(free_port)"
token="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "${token}" >"${WORK}/token"
chmod 600 "${WORK}/token"
config="${WORK}/wallboard.textproto"
write_config "${config}" "wallboard-${RUN_ID}" wallboard-0 "${input}" "${alerts}" "${changelog}" \
  "${dlq}" "${WORK}/state" WALL_CLOCK \
  'sla { preset: "none" policies { name: "fast" milestones { kind: ACKNOWLEDGE name: "acknowledge"' \
  "calendar_time: \"${ACK_S}s\" warning_fractions: 0.5 } } }"
sed -i -e "s/processing { clock: WALL_CLOCK }/processing { clock: WALL_CLOCK commit_interval_ms: 100 }/" \
  -e "s|http { port: 0 }|http { port: ${port} auth_token_file: \"${WORK}/token\" }|" "${config}"
grep -q "port: ${port}" "${config}" || fail "cannot set the HTTP port in ${config}"
"${CCSTREAM}" check-config "${config}" >/dev/null || fail "the test configuration is refused"

service_log="${WORK}/service.log"
start_service "${config}" "${service_log}"
service_pid="${SERVICE_PID}"
base="http://127.0.0.1:${port}"
if ! wait_http "${base}/readyz" 60 "${service_pid}"; then
  tail -n 20 "${service_log}" >&2
  fail "ccstream run did not answer /readyz with 200 within 60 s"
fi
log "ccstream run ready on ${base}"

# The token is enforced: the API refuses a call without it, the page itself is served.
code="$(curl -s -o /dev/null -w '%{http_code}' "${base}/api/queues")"
[ "${code}" = 401 ] || fail "GET /api/queues without the token answered ${code}, expected 401"

rc=0
node "${BROWSER_DIR}/wallboard_test.mjs" "${base}/?access_token=${token}" "${WORK}" \
  --modules "${modules}" \
  --contact-cmd "$(json_array "${FAULT_TOOL}" contact --bootstrap "${BOOTSTRAP}" --topic "${input}" \
    --customer '{contact_customer}' --contact '{contact_id}' --queue wallboard)" \
  --complaint-cmd "$(json_array "${FAULT_TOOL}" complaint --bootstrap "${BOOTSTRAP}" \
    --topic "${input}" --customer '{complaint_customer}' --event-id '{event_id}' \
    --category '{category}')" || rc=$?
if [ "${rc}" != 0 ]; then
  kill -0 "${service_pid}" 2>/dev/null || log "ccstream run is no longer running"
  tail -n 20 "${service_log}" >&2
  fail "the wallboard test failed (see ${WORK}/console.log and ${WORK}/wallboard.png)"
fi

kill -0 "${service_pid}" 2>/dev/null || fail "ccstream run exited during the test"
kill -TERM "${service_pid}"
wait_exit "${service_pid}" 30 || fail "ccstream run did not stop within 30 s of SIGTERM"
[ "${EXIT_CODE}" = 0 ] || fail "ccstream run exited ${EXIT_CODE} on SIGTERM"
log "PASS: the wallboard went LIVE, showed the escalation and the breach on time"
