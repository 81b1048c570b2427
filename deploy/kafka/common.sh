# Shared helpers for deploy/kafka/*.sh. Sourced, never run.
# shellcheck shell=bash

CCSTREAM_KAFKA_VERSION="${CCSTREAM_KAFKA_VERSION:-4.4.0}"
CCSTREAM_CACHE_DIR="${CCSTREAM_CACHE_DIR:-${HOME}/.cache/ccstream}"
KAFKA_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { echo "kafka: $*" >&2; }

die() {
  echo "kafka: error: $*" >&2
  exit 1
}

kafka_libs_dir() { echo "${CCSTREAM_CACHE_DIR}/kafka-${CCSTREAM_KAFKA_VERSION}/libs"; }

# The broker's class-data-sharing archive for this Java (needs JAVA set by require_java).
kafka_cds_archive() {
  local java_id
  java_id="$("${JAVA}" -Xshare:off -version 2>&1 | cksum | cut -d' ' -f1)"
  echo "${CCSTREAM_CACHE_DIR}/kafka-${CCSTREAM_KAFKA_VERSION}/cds/broker-java${java_id}.jsa"
}

# Sets JAVA to a Java 17+ launcher, or exits with one clear message.
require_java() {
  if [ -n "${JAVA_HOME:-}" ]; then
    JAVA="${JAVA_HOME}/bin/java"
    [ -x "${JAVA}" ] || die "Java not found: JAVA_HOME=${JAVA_HOME} has no bin/java" \
                            "(install openjdk-17-jdk-headless with deploy/install-deps.sh)"
  elif command -v java >/dev/null 2>&1; then
    JAVA="$(command -v java)"
  else
    die "Java not found on PATH; Kafka needs Java 17 or newer" \
        "(install openjdk-17-jdk-headless with deploy/install-deps.sh, or set JAVA_HOME)"
  fi
  local version major
  version="$("${JAVA}" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
  major="${version%%.*}"
  if ! [[ "${major}" =~ ^[0-9]+$ ]] || [ "${major}" -lt 17 ]; then
    die "Kafka ${CCSTREAM_KAFKA_VERSION} needs Java 17 or newer; ${JAVA} is '${version:-unknown}'"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:<port>.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

# Prints the pid recorded in <work-dir>/broker.pid when that process is still alive and is the
# broker of <work-dir> (so a recycled pid never gets signalled).
running_pid() {
  local pidfile="$1/broker.pid" pid
  [ -f "${pidfile}" ] || return 1
  pid="$(cat "${pidfile}")"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $1/server.properties" ||
    return 1
  echo "${pid}"
}

# Runs the small Java admin tool (topic creation, readiness) against the given bootstrap. It is
# compiled once per version of KafkaAdmin.java into the cache; without javac it runs in Java's
# single-file source mode (slower: it compiles on every call).
kafka_admin() {
  local libs sum classes javac="" tmp
  libs="$(kafka_libs_dir)"
  sum="$(cksum <"${KAFKA_SCRIPT_DIR}/KafkaAdmin.java" | cut -d' ' -f1)"
  classes="$(dirname "${libs}")/admin-${sum}"
  if [ -n "${JAVA_HOME:-}" ] && [ -x "${JAVA_HOME}/bin/javac" ]; then
    javac="${JAVA_HOME}/bin/javac"
  elif [ -z "${JAVA_HOME:-}" ] && command -v javac >/dev/null 2>&1; then
    javac="$(command -v javac)"
  fi
  if [ ! -f "${classes}/KafkaAdmin.class" ] && [ -n "${javac}" ]; then
    tmp="$(mktemp -d "${classes}.tmp.XXXXXX")"
    if "${javac}" -nowarn -d "${tmp}" -cp "${libs}/*" "${KAFKA_SCRIPT_DIR}/KafkaAdmin.java" >&2; then
      mv -T "${tmp}" "${classes}" 2>/dev/null || rm -rf "${tmp}"
    else
      rm -rf "${tmp}"
      echo "kafka: error: compiling ${KAFKA_SCRIPT_DIR}/KafkaAdmin.java failed" >&2
      return 1
    fi
  fi
  local main=("${KAFKA_SCRIPT_DIR}/KafkaAdmin.java") cp="${libs}/*"
  if [ -f "${classes}/KafkaAdmin.class" ]; then
    main=(KafkaAdmin)
    cp="${classes}:${libs}/*"
  fi
  "${JAVA}" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="${KAFKA_SCRIPT_DIR}/tools-log4j2.properties" \
    -cp "${cp}" "${main[@]}" "$@"
}
