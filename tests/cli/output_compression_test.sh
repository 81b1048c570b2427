#!/usr/bin/env bash
# What `ccstream run` writes to the real broker is compressed as documented: the alerts topic's
# record batches uncompressed (a few alerts each, where LZ4's set-up per batch cost more than it
# saved), the changelog's LZ4; with compression.type among the producer properties, that codec
# for both. Read from the broker's own log segments, in both processing guarantees.
# Usage: output_compression_test.sh <ccstream binary>   (env from the kafka fixture)
set -uo pipefail
bin="$1"
src="${CCSTREAM_SOURCE_DIR:?}"
bootstrap=$(cat "${CCSTREAM_KAFKA_BOOTSTRAP_FILE:?}")
data="${CCSTREAM_KAFKA_DIR:?}/data"
work=$(mktemp -d)
run_id="compression-$$-$(date +%s)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

topics="$src/deploy/kafka/topics.sh"
"$topics" "$CCSTREAM_KAFKA_DIR" "$run_id-in" 3 max.message.bytes=16777216 >/dev/null || fail "topic"
total=3000
start_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
"$bin" gen --bootstrap "$bootstrap" --topic "$run_id-in" --rate 2000 --duration-s 600 \
  --max-events "$total" --seed 5 --start-ms "$start_ms" --no-pace >"$work/gen.out" 2>"$work/gen.err" \
  || fail "gen: $(tail -3 "$work/gen.err")"

# The codec of every record batch in the topic's log segments, one per line, read from the
# record batch format (v2: base offset, length, leader epoch, magic, CRC, then the attributes,
# whose low three bits are the codec); control batches (transaction markers) are skipped.
codecs() {
  local topic="$1"
  python3 - "$data" "$topic" <<'PY'
import glob, os, struct, sys
data, topic = sys.argv[1], sys.argv[2]
names = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
files = [f for f in glob.glob(os.path.join(data, topic + "-*", "*.log"))
         if os.path.basename(os.path.dirname(f))[len(topic) + 1:].isdigit()]
if not files:
    sys.exit(f"no log segments of {topic} under {data}")
for path in files:
    blob = open(path, "rb").read()
    pos = 0
    while pos + 23 <= len(blob):
        (length,) = struct.unpack_from(">i", blob, pos + 8)
        if length <= 0:
            break
        magic = blob[pos + 16]
        (attributes,) = struct.unpack_from(">h", blob, pos + 21)
        if magic != 2:
            sys.exit(f"{path}: record batch of magic {magic} at {pos}")
        if not attributes & 0x20:
            print(names.get(attributes & 0x7, f"codec{attributes & 0x7}"))
        pos += 12 + length
PY
}

# run NAME GUARANTEE [PRODUCER_PROPERTY_LINE]: a drained run over the input with its own topics.
run() {
  local name="$1" guarantee="$2" extra="${3:-}" id="$run_id-$1"
  "$topics" "$CCSTREAM_KAFKA_DIR" "$id-alerts" 3 >/dev/null || fail "topic"
  "$topics" "$CCSTREAM_KAFKA_DIR" "$id-dead" 1 max.message.bytes=16777216 >/dev/null || fail "topic"
  "$topics" "$CCSTREAM_KAFKA_DIR" "$id-changelog" 3 cleanup.policy=compact >/dev/null || fail "topic"
  cat >"$work/$name.textproto" <<CFG
kafka {
  bootstrap_servers: "$bootstrap"
  group_id: "$id"
  group_instance_id: "$id-1"
  input_topic: "$run_id-in"
  alerts_topic: "$id-alerts"
  dead_letter_topic: "$id-dead"
  changelog_topic: "$id-changelog"
  $extra
}
processing { guarantee: $guarantee commit_interval_ms: 50 }
http { port: 0 }
state { dir: "$work/state-$name" }
domain { pseudonymisation_key: "compression-test-key-0123456789" }
CFG
  timeout 300 "$bin" run --drain --config "$work/$name.textproto" >"$work/$name.out" 2>"$work/$name.err" \
    || fail "$name: run failed: $(tail -5 "$work/$name.err")"
  grep -q "\"events\": $total" "$work/$name.out" || fail "$name: $(tail -1 "$work/$name.out")"
}

# expect NAME TOPIC CODEC: at least one batch, and every batch in that codec.
expect() {
  local name="$1" topic="$2" codec="$3" seen
  codecs "$topic" >"$work/codecs" 2>&1 || fail "$name: cannot read $topic: $(tail -1 "$work/codecs")"
  seen=$(sort "$work/codecs" | uniq -c | tr -s ' ' | paste -sd';' -)
  [ -n "$seen" ] || fail "$name: no record batches in $topic"
  [ "$(sort -u "$work/codecs")" = "$codec" ] \
    || fail "$name: $topic batches by codec: $seen; expected all $codec"
  echo "ok: $name $topic: $seen"
}

for guarantee in AT_LEAST_ONCE EXACTLY_ONCE; do
  name=$(echo "$guarantee" | tr '[:upper:]_' '[:lower:]-')
  run "$name" "$guarantee"
  expect "$name" "$run_id-$name-alerts" none
  expect "$name" "$run_id-$name-changelog" lz4
done
run configured AT_LEAST_ONCE 'producer_properties { key: "compression.type" value: "gzip" }'
expect configured "$run_id-configured-alerts" gzip
expect configured "$run_id-configured-changelog" gzip
echo "PASS"
