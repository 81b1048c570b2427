#!/usr/bin/env bash
# Builds the Kafka Streams peer if needed, then runs it in the foreground.
#
#   bench/peers/kafka-streams/run.sh --bootstrap HOST:PORT --input TOPIC --alerts TOPIC \
#       --app-id ID --state-dir DIR --lexicon PATH \
#       [--expect N] [--threads K] [--commit-interval-ms M]
#
# --expect N (N > 0): stop after N input records, close cleanly (the last transaction commits),
#   print {"events": N, "seconds": S, "alerts": A, "skipped": K} as the last line of stdout and
#   exit 0. S runs from the first processed record to the end of close().
# --expect 0 (default): run until SIGTERM/SIGINT, then close cleanly and print the same line.
# --threads K: num.stream.threads; default here 2 (PEER_THREADS), faster than 1 on the 2-core
#   benchmark machine (README.md); the jar alone defaults to Kafka Streams' 1.
# --commit-interval-ms M: commit.interval.ms, default 100 (Kafka Streams' default under EOS).
# stdout carries only the JSON line; the build output and the logs (WARN) go to stderr.
# Environment: PEER_JAVA_OPTS (default "-Xms256m -Xmx1g"), JAVA_HOME.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

"${here}/build.sh" >&2

java_bin=java
if [ -n "${JAVA_HOME:-}" ] && [ -x "${JAVA_HOME}/bin/java" ]; then java_bin="${JAVA_HOME}/bin/java"; fi
args=("$@")
case " $* " in
  *" --threads "*) ;;
  *) args+=(--threads "${PEER_THREADS:-2}") ;;
esac
# shellcheck disable=SC2086
exec "${java_bin}" ${PEER_JAVA_OPTS:--Xms256m -Xmx1g} -jar "${here}/target/peer.jar" "${args[@]}"
