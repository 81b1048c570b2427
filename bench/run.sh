#!/usr/bin/env bash
# The end-to-end benchmark: ccstream (EXACTLY_ONCE and AT_LEAST_ONCE), a baseline librdkafka
# consumer and a Kafka Streams peer on the same topic of a real Kafka broker, in one run;
# throughput, alert latency at a fixed load, recovery after kill -9 and restore from the
# changelog. Writes bench/results/<date>-<host>.json and .md (-2, -3, ... added when a report
# of that name is already there); prints the JSON last.
#
# Usage: bench/run.sh [--quick] [--stages LIST] [--build-dir DIR] [--work-dir DIR] [--out-dir DIR]
#   --quick       200,000 events, 100,000 keys of state, 30 s measured per latency run (about
#                 5 minutes once built); the full run is 1,000,000 events, 1,000,000 keys, 90 s.
#   --stages      comma-separated subset of baseline,eos,alo,peer,latency,recovery (default all)
#   --build-dir   where ccstream is built (default ./build; configured and built if needed)
#   --work-dir    broker data, state directories and logs (default: a new /tmp directory, removed
#                 at the end unless the run fails)
#   --out-dir     where the results go (default bench/results)
#   --bootstrap   use this running broker instead of starting one from deploy/kafka
#   --prefix      prefix of the run's topic and group names (default: bench-<pid>)
# Any further --name value pairs are passed to bench/harness/harness.py (e.g. --events 500000,
# --commit-interval-ms 50, --rate 5000, --warmup-events 0 to skip the warm-up of the broker); see
# `python3 bench/harness/harness.py --help`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build"
work=""
out="$root/bench/results"
mode=full
stages="baseline,eos,alo,peer,latency,recovery"
bootstrap=""
prefix="bench-$$"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick; shift ;;
    --stages) stages="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --work-dir) work="$2"; shift 2 ;;
    --out-dir) out="$2"; shift 2 ;;
    --bootstrap) bootstrap="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    --*) [ $# -ge 2 ] || { echo "bench/run.sh: $1 needs a value" >&2; exit 2; }
         extra+=("$1" "$2"); shift 2 ;;
    *) echo "bench/run.sh: unexpected argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$mode" in
  quick) sizes=(--events 200000 --keys 100000 --latency-s 30) ;;
  *) sizes=(--events 1000000 --keys 1000000 --latency-s 90) ;;
esac

bash "$root/deploy/install-deps.sh" >&2
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
fi
cmake --build "$build_dir" --target ccstream ccstream_bench_tool >&2
ccstream="$build_dir/processor/cli/ccstream"
tool="$build_dir/bench/ccstream_bench_tool"

own_work=0
if [ -z "$work" ]; then work=$(mktemp -d /tmp/ccstream-bench.XXXXXX); own_work=1; fi
mkdir -p "$work" "$out"
ok=0
cleanup() {
  # Nothing of the run may outlive it: processors, the peer, the broker.
  pkill -f -- "--config $work/" 2>/dev/null || true
  pkill -f -- "--state-dir $work/" 2>/dev/null || true
  "$root/deploy/kafka/stop.sh" "$work/kafka" >/dev/null 2>&1 || true
  if [ "$ok" = 1 ] && [ "$own_work" = 1 ]; then rm -rf "$work"; fi
  if [ "$ok" != 1 ]; then echo "bench/run.sh: failed; logs in $work" >&2; fi
}
trap cleanup EXIT

if [[ ",$stages," == *",peer,"* ]]; then
  "$root/bench/peers/kafka-streams/build.sh" >&2
fi
if [ -z "$bootstrap" ]; then
  bootstrap=$("$root/deploy/kafka/start.sh" --fresh "$work/kafka" | tail -1)
fi
echo "bench/run.sh: broker at $bootstrap, work in $work" >&2

python3 "$root/bench/harness/harness.py" --ccstream "$ccstream" --tool "$tool" \
  --bootstrap "$bootstrap" --work "$work" --out "$out" --mode "$mode" --stages "$stages" \
  --prefix "$prefix" \
  --peer-dir "$root/bench/peers/kafka-streams" \
  --lexicon "$root/processor/domain/text/data/vader_lexicon.txt" \
  "${sizes[@]}" "${extra[@]+"${extra[@]}"}"
ok=1
