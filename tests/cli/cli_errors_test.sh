#!/usr/bin/env bash
# Bad input to the command line gives one clear error and a non-zero exit, never a crash or a
# hang: a bad configuration (syntax and semantics, with FILE:LINE), a missing file, an
# unreachable broker, unknown flags and commands.
# Usage: cli_errors_test.sh <ccstream binary>
set -uo pipefail
bin="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

# expect <name> <wanted exit> <regex the stderr must match> -- command...
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local start end code
  start=$(date +%s)
  timeout 60 "$@" >"$work/out" 2>"$work/err"
  code=$?
  end=$(date +%s)
  if [ "$code" -ne "$want" ]; then
    echo "FAIL $name: exit $code, want $want"; sed 's/^/  | /' "$work/err" | head -5
    failures=$((failures + 1)); return
  fi
  if ! grep -Eq "$pattern" "$work/err" "$work/out"; then
    echo "FAIL $name: output does not match /$pattern/"; sed 's/^/  | /' "$work/err" | head -5
    failures=$((failures + 1)); return
  fi
  if grep -Eqi 'terminate called|segmentation|core dumped|\babort(ed)?\b' "$work/err"; then
    echo "FAIL $name: crashed"; failures=$((failures + 1)); return
  fi
  echo "ok   $name ($((end - start)) s)"
  passed=$((passed + 1))
}

cat >"$work/good.textproto" <<'CFG'
kafka { bootstrap_servers: "127.0.0.1:9" }
processing { guarantee: AT_LEAST_ONCE commit_interval_ms: 200 }
domain { pseudonymisation_key: "0123456789abcdef0123" }
CFG
cat >"$work/syntax.textproto" <<'CFG'
kafka {
  bootstrap_servers: "localhost:9092"
  no_such_field: 3
}
CFG
cat >"$work/range.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing {
  commit_interval_ms: 0
}
CFG
cat >"$work/catchup.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing { catch_up_interval_ms: 600001 }
CFG
cat >"$work/deadline.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing { commit_deadline_ms: 4999 }
CFG
cat >"$work/threads.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing { threads: 0 }
CFG
cat >"$work/refused.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing { max_refused_record_aborts: 1001 }
CFG
cat >"$work/catchupbytes.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing { max_catch_up_batch_bytes: 4294967297 }
CFG
cat >"$work/batchbytes.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
processing { max_batch_bytes: 4294967297 }
CFG
cat >"$work/alertmanager.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
alertmanager {
  url: "https://am.example:9093"
}
CFG
cat >"$work/state.textproto" <<'CFG'
domain { pseudonymisation_key: "0123456789abcdef0123" }
state {
  block_cache_mib: 64
  write_buffers_mib: 128
}
CFG
cat >"$work/domain.textproto" <<'CFG'
domain {
  pseudonymisation_key: "short"
}
CFG

src="$(cd "$(dirname "$0")/../.." && pwd)"
expect check_config_example 0 'ccstream.textproto: OK' -- "$bin" check-config "$src/deploy/ccstream.textproto"
expect check_config_good 0 'good.textproto: OK' -- "$bin" check-config "$work/good.textproto"
expect check_config_syntax 2 'syntax.textproto:3:[0-9]+: .*no_such_field' -- \
  "$bin" check-config "$work/syntax.textproto"
expect check_config_range 2 'range.textproto:3: processing.commit_interval_ms' -- \
  "$bin" check-config "$work/range.textproto"
expect check_config_catch_up 2 'catchup.textproto:2: processing.catch_up_interval_ms: 600001 is outside 0..600000' -- \
  "$bin" check-config "$work/catchup.textproto"
expect check_config_commit_deadline 2 'deadline.textproto:2: processing.commit_deadline_ms: 4999 is outside 5000..600000' -- \
  "$bin" check-config "$work/deadline.textproto"
expect check_config_threads 2 'threads.textproto:2: processing.threads: 0 is outside 1..16' -- \
  "$bin" check-config "$work/threads.textproto"
expect check_config_refused_aborts 2 'refused.textproto:2: processing.max_refused_record_aborts: 1001 is outside 1..1000' -- \
  "$bin" check-config "$work/refused.textproto"
expect check_config_catch_up_bytes 2 'catchupbytes.textproto:2: processing.max_catch_up_batch_bytes: 4294967297 is above 4294967296' -- \
  "$bin" check-config "$work/catchupbytes.textproto"
expect check_config_batch_bytes 2 'batchbytes.textproto:2: processing.max_batch_bytes: 4294967297 is above 4294967296' -- \
  "$bin" check-config "$work/batchbytes.textproto"
expect check_config_alertmanager 2 'alertmanager.textproto:3: alertmanager.url: .* must start with http://' -- \
  "$bin" check-config "$work/alertmanager.textproto"
expect check_config_state 2 'state.textproto:4: state.write_buffers_mib: 128 is outside 8..block_cache_mib \(64\)' -- \
  "$bin" check-config "$work/state.textproto"
expect check_config_domain 2 'domain.textproto:2: domain.pseudonymisation_key' -- \
  "$bin" check-config "$work/domain.textproto"
printf 'a-key-of-at-least-sixteen-bytes\n' >"$work/key"
cat >"$work/keyfile.textproto" <<CFG
secrets { pseudonymisation_key_file: "$work/key" }
CFG
cat >"$work/nokey.textproto" <<CFG
kafka { group_id: "g" }
secrets { pseudonymisation_key_file: "$work/absent-key" }
CFG
expect check_config_key_file 0 'keyfile.textproto: OK' -- "$bin" check-config "$work/keyfile.textproto"
expect check_config_key_file_missing 2 'nokey.textproto:2: secrets.pseudonymisation_key_file: cannot read' -- \
  "$bin" check-config "$work/nokey.textproto"
expect check_config_missing 2 'nope.textproto: cannot open' -- \
  "$bin" check-config "$work/nope.textproto"
expect run_missing_config 2 'nope.textproto: cannot open' -- \
  "$bin" run --config "$work/nope.textproto"
expect run_bad_config 2 'range.textproto:3:' -- "$bin" run --config "$work/range.textproto"
cat >"$work/unreachable.textproto" <<'CFG'
kafka { bootstrap_servers: "127.0.0.1:9" connect_timeout_ms: 2000 }
domain { pseudonymisation_key: "0123456789abcdef0123" }
CFG
expect run_unreachable 3 'cannot reach Kafka at 127.0.0.1:9' -- \
  "$bin" run --config "$work/unreachable.textproto"
expect gen_unreachable 3 'cannot reach Kafka' -- \
  "$bin" gen --bootstrap 127.0.0.1:9 --rate 10 --duration-s 1
expect gen_no_cluster 2 'bootstrap HOST:PORT or --config FILE is required' -- "$bin" gen --rate 10
expect gen_missing_config 2 'nope.textproto' -- "$bin" gen --config "$work/nope.textproto"
expect gen_config_unreachable 3 'cannot reach Kafka at 127.0.0.1:9' -- \
  "$bin" gen --config "$work/unreachable.textproto" --max-events 1
expect unknown_flag 2 'unknown flag --bogus' -- "$bin" run --bogus
expect unknown_command 2 "unknown command 'fly'" -- "$bin" fly
expect replay_bad_format 2 'format' -- "$bin" replay --format nope --file x --embedded
expect replay_missing_file 1 'missing.csv' -- \
  "$bin" replay --format pwc-calls --file "$work/missing.csv" --embedded

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
