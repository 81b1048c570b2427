#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft, broker + controller in one JVM) for
# development and tests, detached from this shell, with its state in <work-dir>.
#
#   deploy/kafka/start.sh [--fresh] <work-dir>
#
# --fresh first stops a broker still running in <work-dir> and removes <work-dir>, so the broker
# starts from nothing (the CTest fixture uses it).
#
# First start on a fresh <work-dir>: picks free localhost ports (remembered in <work-dir>/ports),
# writes server.properties, formats the log directory, starts the broker and creates the ccstream
# topics. Later starts on the same <work-dir> (after stop.sh or a crash) reuse the ports, the data
# and the topics: nothing is reformatted or recreated. When the broker is already running it only
# prints its address.
#
# On success prints host:port (also written to <work-dir>/bootstrap) on stdout and exits 0.
# A second listener takes SASL_PLAINTEXT with the PLAIN mechanism, user "ccstream", password
# "ccstream-dev-secret" (a development broker's, not a secret), at the address in
# <work-dir>/bootstrap-sasl: tests of clients configured for a secured cluster use it.
# On failure prints one error line (plus the broker log tail when the broker itself failed) and
# exits non-zero; a broker this script launched is stopped again.
#
# Environment:
#   CCSTREAM_KAFKA_PORT              broker port (default: a free port; the controller port is
#                                    always picked free)
#   CCSTREAM_INPUT_PARTITIONS        partitions of cc.contact-events (default 6)
#   CCSTREAM_KAFKA_START_TIMEOUT     seconds to wait for the broker to answer (default 90)
#   CCSTREAM_KAFKA_HEAP              JVM heap options (default "-Xms256m -Xmx768m")
#   CCSTREAM_KAFKA_VERSION, CCSTREAM_CACHE_DIR, JAVA_HOME: see fetch.sh and README.md
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "${here}/common.sh"

fresh=0
if [ "${1:-}" = "--fresh" ]; then
  fresh=1
  shift
fi
if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 [--fresh] <work-dir>" >&2
  exit 2
fi
if [ "${fresh}" = 1 ] && [ -e "$1" ]; then
  "${here}/stop.sh" "$1"
  rm -rf "$1" || die "cannot remove the old work dir $1"
fi
mkdir -p "$1" || die "cannot create work dir $1"
work="$(cd "$1" && pwd)"

input_partitions="${CCSTREAM_INPUT_PARTITIONS:-6}"
timeout_s="${CCSTREAM_KAFKA_START_TIMEOUT:-90}"
heap="${CCSTREAM_KAFKA_HEAP:--Xms256m -Xmx768m}"
[[ "${input_partitions}" =~ ^[1-9][0-9]*$ ]] ||
  die "CCSTREAM_INPUT_PARTITIONS must be a positive number, not '${input_partitions}'"
[[ "${timeout_s}" =~ ^[1-9][0-9]*$ ]] ||
  die "CCSTREAM_KAFKA_START_TIMEOUT must be a positive number of seconds, not '${timeout_s}'"

require_java

# Already running: nothing to do.
if pid="$(running_pid "${work}")"; then
  [ -s "${work}/bootstrap" ] || die "broker pid ${pid} runs in ${work} but ${work}/bootstrap is missing"
  log "broker already running (pid ${pid})"
  cat "${work}/bootstrap"
  exit 0
fi
rm -f "${work}/broker.pid"

# --- ports -------------------------------------------------------------------------------------
pick_free_port() {
  # Below the usual ephemeral range (32768+) so that client sockets do not take it later.
  local avoid="${1:-0}" port tries
  for tries in $(seq 1 200); do
    port=$((20000 + RANDOM % 12000))
    if [ "${port}" != "${avoid}" ] && ! port_in_use "${port}"; then
      echo "${port}"
      return 0
    fi
  done
  die "found no free localhost port after ${tries} tries"
}

if [ -f "${work}/ports" ]; then
  # shellcheck source=/dev/null
  source "${work}/ports"
  [[ "${BROKER_PORT:-}" =~ ^[0-9]+$ && "${CONTROLLER_PORT:-}" =~ ^[0-9]+$ ]] ||
    die "${work}/ports is damaged; remove ${work} to start afresh"
  if [ -n "${CCSTREAM_KAFKA_PORT:-}" ] && [ "${CCSTREAM_KAFKA_PORT}" != "${BROKER_PORT}" ]; then
    die "${work} belongs to a broker on port ${BROKER_PORT}, not CCSTREAM_KAFKA_PORT=${CCSTREAM_KAFKA_PORT}"
  fi
  # A work dir of a broker from before the SASL listener gets a port for it now.
  if ! [[ "${SASL_PORT:-}" =~ ^[0-9]+$ ]]; then
    SASL_PORT="$(pick_free_port "${BROKER_PORT}")"
    while [ "${SASL_PORT}" = "${CONTROLLER_PORT}" ]; do SASL_PORT="$(pick_free_port "${BROKER_PORT}")"; done
  fi
else
  if [ -n "${CCSTREAM_KAFKA_PORT:-}" ]; then
    [[ "${CCSTREAM_KAFKA_PORT}" =~ ^[0-9]+$ ]] && [ "${CCSTREAM_KAFKA_PORT}" -ge 1 ] &&
      [ "${CCSTREAM_KAFKA_PORT}" -le 65535 ] ||
      die "CCSTREAM_KAFKA_PORT must be a port number, not '${CCSTREAM_KAFKA_PORT}'"
    BROKER_PORT="${CCSTREAM_KAFKA_PORT}"
  else
    BROKER_PORT="$(pick_free_port)"
  fi
  CONTROLLER_PORT="$(pick_free_port "${BROKER_PORT}")"
  SASL_PORT="$(pick_free_port "${BROKER_PORT}")"
  while [ "${SASL_PORT}" = "${CONTROLLER_PORT}" ]; do SASL_PORT="$(pick_free_port "${BROKER_PORT}")"; done
fi
for port in "${BROKER_PORT}" "${CONTROLLER_PORT}" "${SASL_PORT}"; do
  if port_in_use "${port}"; then
    die "port ${port} on 127.0.0.1 is already in use (another broker or program listens there;" \
        "stop it, or choose another port with CCSTREAM_KAFKA_PORT or another work dir)"
  fi
done
printf 'BROKER_PORT=%s\nCONTROLLER_PORT=%s\nSASL_PORT=%s\n' "${BROKER_PORT}" "${CONTROLLER_PORT}" \
  "${SASL_PORT}" >"${work}/ports"
bootstrap="127.0.0.1:${BROKER_PORT}"

# --- the broker's jars -------------------------------------------------------------------------
libs="$(kafka_libs_dir)"
if [ ! -f "${libs}/.complete" ]; then
  "${here}/fetch.sh" >/dev/null
fi

# --- configuration -----------------------------------------------------------------------------
data="${work}/data"
cat >"${work}/server.properties" <<PROPS
# Written by deploy/kafka/start.sh: a single-node KRaft development broker. Rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${BROKER_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${BROKER_PORT},SASL_PLAINTEXT://127.0.0.1:${SASL_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT

# A listener for clients configured for a secured cluster: SASL PLAIN, one user.
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_ccstream="ccstream-dev-secret";
log.dirs=${data}

# One broker: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
num.partitions=1

# Tests want groups to form at once.
group.initial.rebalance.delay.ms=0

# The broker's session with its own controller outlasts a hang of a few seconds (the tests stop
# the broker for 3-4 s, and a loaded machine delays the heartbeats further). With 4 s, such a
# hang got the broker fenced: every partition lost its leader for a moment, and the transaction
# coordinator skipped the markers of a commit under way ("Couldn't find leader endpoint ...
# likely deleted already"), so that the next abort marker aborted the committed transaction's
# records too. The price: a broker restarted after kill -9 rejoins once the old session expired.
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=15000

# A small machine: few threads, a small log-cleaner buffer.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=33554432
PROPS

# --- format (first start only) ----------------------------------------------------------------
if [ ! -f "${data}/meta.properties" ]; then
  rm -rf "${data}" "${work}/topics.created"
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  # An id starting with '-' would be read as an option by the format tool (1 start in 64):
  # replace that first character (any base64url character is a valid first character).
  if [ "${cluster_id:0:1}" = "-" ]; then cluster_id="A${cluster_id:1}"; fi
  log "formatting ${data} (cluster ${cluster_id})"
  if ! format_out="$("${JAVA}" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -Dlog4j2.configurationFile="${here}/tools-log4j2.properties" \
        -cp "${libs}/*" kafka.tools.StorageTool format \
        --config "${work}/server.properties" --cluster-id "${cluster_id}" 2>&1)"; then
    echo "${format_out}" >&2
    die "formatting the Kafka log directory ${data} failed"
  fi
fi

# --- start ---------------------------------------------------------------------------------------
log_file="${work}/broker.log"
touch "${log_file}"
log_offset=$(($(stat -c %s "${log_file}") + 1))
echo "=== start.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) on ${bootstrap} ===" >>"${log_file}"

# Class data sharing: the broker's loaded classes are archived once, when the first broker of
# this Java and Kafka stops cleanly (stop.sh moves the archive into the cache); later starts map
# the archive and need about half the CPU to start. A stale or foreign archive is ignored by the
# JVM.
cds_archive="$(kafka_cds_archive)"
rm -f "${work}/broker.jsa"
if [ -f "${cds_archive}" ]; then
  cds_opts=("-XX:SharedArchiveFile=${cds_archive}")
else
  cds_opts=("-XX:ArchiveClassesAtExit=${work}/broker.jsa")
fi

# setsid + redirected stdio: the broker outlives this script and holds none of its pipes, so a
# CTest fixture test running this script returns while the broker keeps running.
# shellcheck disable=SC2086
setsid "${JAVA}" ${heap} "${cds_opts[@]}" \
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
  -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="${here}/log4j2.properties" \
  -Dccstream.kafka.dir="${work}" \
  -cp "${libs}/*" kafka.Kafka "${work}/server.properties" \
  >>"${log_file}" 2>&1 </dev/null &
pid=$!
echo "${pid}" >"${work}/broker.pid"

fail() {
  echo "kafka: error: $*" >&2
  echo "kafka: last lines of ${log_file}:" >&2
  tail -n 25 "${log_file}" | sed 's/^/  | /' >&2
  if kill -0 "${pid}" 2>/dev/null; then
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "${pid}" 2>/dev/null || true
  fi
  rm -f "${work}/broker.pid"
  exit 1
}

deadline=$((SECONDS + timeout_s))
# (grep reads a process substitution: with pipefail, tail dying of SIGPIPE after grep -q's early
# exit would otherwise fail the check even when the line is there.)
until grep -q 'Kafka Server started' < <(tail -c "+${log_offset}" "${log_file}"); do
  kill -0 "${pid}" 2>/dev/null || fail "the broker exited during start-up"
  [ "${SECONDS}" -lt "${deadline}" ] || fail "the broker did not start within ${timeout_s} s"
  sleep 0.25
done

# --- topics (first start only) ------------------------------------------------------------------
if [ ! -f "${work}/topics.created" ]; then
  remaining=$((deadline - SECONDS))
  [ "${remaining}" -ge 10 ] || remaining=10
  if ! kafka_admin "${bootstrap}" "${remaining}" create \
      --topic cc.contact-events "${input_partitions}" max.message.bytes=16777216 \
      --topic cc.alerts 6 \
      --topic cc.dead-letter 1 max.message.bytes=16777216 \
      --topic ccstream-changelog 6 cleanup.policy=compact >&2; then
    fail "creating the ccstream topics failed"
  fi
  touch "${work}/topics.created"
fi

echo "${bootstrap}" >"${work}/bootstrap"
echo "127.0.0.1:${SASL_PORT}" >"${work}/bootstrap-sasl"
log "broker ${CCSTREAM_KAFKA_VERSION} running on ${bootstrap} (pid ${pid}, log ${log_file})"
echo "${bootstrap}"
