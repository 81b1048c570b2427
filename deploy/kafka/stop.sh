#!/usr/bin/env bash
# Stops the development broker of <work-dir> started by start.sh: SIGTERM (a clean, controlled
# shutdown), then SIGKILL if it has not exited within CCSTREAM_KAFKA_STOP_TIMEOUT seconds
# (default 30; at least 90 for a broker writing its class-data-sharing archive). Idempotent: a broker that is not running is fine. Keeps <work-dir> (data, ports,
# topics), so start.sh <work-dir> brings the same broker back.
#
#   deploy/kafka/stop.sh <work-dir>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "${here}/common.sh"

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 <work-dir>" >&2
  exit 2
fi
if [ ! -d "$1" ]; then
  log "no broker: ${1} does not exist"
  exit 0
fi
work="$(cd "$1" && pwd)"
timeout_s="${CCSTREAM_KAFKA_STOP_TIMEOUT:-30}"
[[ "${timeout_s}" =~ ^[1-9][0-9]*$ ]] ||
  die "CCSTREAM_KAFKA_STOP_TIMEOUT must be a positive number of seconds, not '${timeout_s}'"

if ! pid="$(running_pid "${work}")"; then
  rm -f "${work}/broker.pid"
  log "no broker running in ${work}"
  exit 0
fi

# A broker writing its class-data-sharing archive at exit (see start.sh) needs longer to exit.
# (A process substitution: under pipefail, tr dying of SIGPIPE after grep -q's early exit on a
# long Java command line would otherwise read as "not found".)
if grep -q 'ArchiveClassesAtExit' < <(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null) &&
   [ "${timeout_s}" -lt 90 ]; then
  timeout_s=90
fi
kill -TERM "${pid}" 2>/dev/null || true
killed=0
deadline=$((SECONDS + timeout_s))
while kill -0 "${pid}" 2>/dev/null; do
  if [ "${SECONDS}" -ge "${deadline}" ]; then
    log "broker pid ${pid} still running after ${timeout_s} s; sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    killed=1
    for _ in $(seq 1 40); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "${pid}" 2>/dev/null; then
      die "broker pid ${pid} survived SIGKILL"
    fi
    break
  fi
  sleep 0.2
done
rm -f "${work}/broker.pid"
log "broker stopped (pid ${pid})"

# A broker started without a class-data-sharing archive wrote one at its clean exit: keep it in
# the cache for the next starts (see start.sh). Best effort, in a subshell: a failure here only
# costs start-up time later. Never after SIGKILL, which may have cut the archive short.
if [ "${killed}" = 0 ] && [ -s "${work}/broker.jsa" ]; then
  (
    require_java
    archive="$(kafka_cds_archive)"
    [ -f "${archive}" ] && exit 0
    mkdir -p "$(dirname "${archive}")" &&
      cp "${work}/broker.jsa" "${archive}.tmp.$$" &&
      mv "${archive}.tmp.$$" "${archive}" &&
      log "kept the broker's class-data-sharing archive in ${archive}" ||
      { rm -f "${archive}.tmp.$$"; exit 1; }
  ) || log "could not keep the class-data-sharing archive (start-up stays slower)"
fi
rm -f "${work}/broker.jsa"
