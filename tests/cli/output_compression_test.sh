#!/usr/bin/env bash
# What `ccstream run` writes to the real broker is compressed as documented: the alerts topic's
# record batches uncompressed (a few alerts each, where LZ4's set-up per batch cost more than it
# saved), the changelog's LZ4; with compression.type among the producer properties, that codec
# for both. Read from the broker's own log segments, in both processing guarantees. A batch that
# the codec would not have shrunk is sent uncompressed by librdkafka, and is accepted as such.
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

# shellcheck source=lib.sh
source "$src/tests/cli/lib.sh"
cli_input_topic "$run_id-in"
total=3000
start_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
cli_gen "$bootstrap" "$run_id-in" "$total" 5 "$start_ms"

# The codec of every record batch in the topic's log segments, one per line, read from the
# record batch format (v2: base offset, length, leader epoch, magic, CRC, then the attributes,
# whose low three bits are the codec); control batches (transaction markers) are skipped.
# librdkafka sends a batch uncompressed when the codec would not shrink it (a lone small record
# gains LZ4's 15 bytes of frame): such a batch reads "none (CODEC would not shrink it)", found by
# compressing its records as librdkafka does (LZ4 frame of independent 64 KiB blocks, no
# checksum; gzip at the default level). Any other uncompressed batch reads "none".
codecs() {
  local topic="$1" expected="$2"
  python3 - "$data" "$topic" "$expected" <<'PY'
import glob, os, struct, subprocess, sys, zlib
data, topic, expected = sys.argv[1], sys.argv[2], sys.argv[3]
names = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}

def compressed_size(codec, records):
    if codec == "lz4":
        out = subprocess.run(["lz4", "-1", "-B4", "--no-frame-crc", "-c"], input=records,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
        return len(out.stdout)
    if codec == "gzip":
        gz = zlib.compressobj(-1, zlib.DEFLATED, 31)
        return len(gz.compress(records) + gz.flush())
    sys.exit(f"no way to compress with {codec}")

files = [f for f in glob.glob(os.path.join(data, topic + "-*", "*.log"))
         if os.path.basename(os.path.dirname(f))[len(topic) + 1:].isdigit()]
if not files:
    sys.exit(f"no log segments of {topic} under {data}")
for path in files:
    blob = open(path, "rb").read()
    pos = 0
    while pos + 61 <= len(blob):
        (length,) = struct.unpack_from(">i", blob, pos + 8)
        if length <= 0:
            break
        magic = blob[pos + 16]
        (attributes,) = struct.unpack_from(">h", blob, pos + 21)
        if magic != 2:
            sys.exit(f"{path}: record batch of magic {magic} at {pos}")
        codec = names.get(attributes & 0x7, f"codec{attributes & 0x7}")
        if attributes & 0x20:
            pass
        elif codec == "none" and expected != "none":
            records = blob[pos + 61:pos + 12 + length]
            if compressed_size(expected, records) > len(records):
                print(f"none ({expected} would not shrink it)")
            else:
                print("none")
        else:
            print(codec)
        pos += 12 + length
PY
}

# run NAME GUARANTEE [PRODUCER_PROPERTY_LINE]: a drained run over the input with its own topics.
run() {
  local name="$1" guarantee="$2" extra="${3:-}" id="$run_id-$1"
  cli_output_topics "$id"
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

# expect NAME TOPIC CODEC: at least one batch in that codec, and every batch in it, or left
# uncompressed because that codec would not have shrunk it.
expect() {
  local name="$1" topic="$2" codec="$3" seen
  codecs "$topic" "$codec" >"$work/codecs" 2>&1 \
    || fail "$name: cannot read $topic: $(tail -1 "$work/codecs")"
  seen=$(sort "$work/codecs" | uniq -c | tr -s ' ' | paste -sd';' -)
  grep -qx "$codec" "$work/codecs" || fail "$name: no $codec record batches in $topic: $seen"
  grep -vxq -e "$codec" -e "none ($codec would not shrink it)" "$work/codecs" \
    && fail "$name: $topic batches by codec: $seen; expected all $codec"
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
