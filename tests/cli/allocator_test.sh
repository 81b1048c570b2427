#!/usr/bin/env bash
# The service's allocations go to jemalloc: the binary loads it, and a running process has it
# mapped (with glibc's malloc it used more CPU and a fifth more peak memory; see
# docs/performance.md). The options the binary gives jemalloc are in effect (a background thread
# returns freed pages), and MALLOC_CONF in the environment still overrides them.
# Usage: allocator_test.sh CCSTREAM_BINARY
set -uo pipefail
bin="$1"
failures=0
# grep -q stops reading at the first match; under pipefail a writer still writing would then die
# of SIGPIPE and fail the pipeline, so grep reads a process substitution (or the files) instead.
if grep -q 'libjemalloc' < <(ldd "$bin"); then
  echo "ok   $bin loads libjemalloc"
else
  echo "FAIL $bin does not load libjemalloc:"
  ldd "$bin"
  failures=$((failures + 1))
fi

# Starts `ccstream classify` (it waits for texts on its standard input meanwhile) with the
# environment given, and prints what a running process showed: "mapped" or "unmapped" (whether it
# has libjemalloc mapped), then "bg" or "no-bg" (whether one of its threads is jemalloc's
# background thread). Looks for up to TRIES tenths of a second (default 300: a machine busy with
# other tests may start the process slowly; the look ends as soon as both are seen).
inspect() {
  local fifo pid mapped=unmapped bg=no-bg
  fifo="$(mktemp -u)"
  mkfifo "$fifo"
  env "$@" "$bin" classify < "$fifo" > /dev/null 2>&1 &
  pid=$!
  exec 3> "$fifo"
  for _ in $(seq 1 "${TRIES:-300}"); do
    grep -q 'libjemalloc' "/proc/$pid/maps" 2>/dev/null && mapped=mapped
    # The lexicon and the classifier load first: by then jemalloc has long been initialised.
    if [ "$mapped" = mapped ] && grep -qs '^jemalloc_bg_thd' /proc/"$pid"/task/*/comm; then
      bg=bg
      break
    fi
    sleep 0.1
  done
  exec 3>&-
  wait "$pid" 2>/dev/null
  rm -f "$fifo"
  echo "$mapped $bg"
}

seen="$(inspect)"
if [[ "$seen" == "mapped "* ]]; then
  echo "ok   a running ccstream has libjemalloc mapped"
else
  echo "FAIL a running ccstream does not have libjemalloc mapped"
  failures=$((failures + 1))
fi
if [[ "$seen" == *" bg" ]]; then
  echo "ok   jemalloc runs its background thread (the binary's malloc_conf is read)"
else
  echo "FAIL no jemalloc background thread in a running ccstream: its malloc_conf was not read"
  failures=$((failures + 1))
fi
seen="$(TRIES=50 inspect MALLOC_CONF=background_thread:false)"  # 5 s without the thread
if [ "$seen" = "mapped no-bg" ]; then
  echo "ok   MALLOC_CONF=background_thread:false overrides it"
else
  echo "FAIL with MALLOC_CONF=background_thread:false: '$seen' (expected no background thread)"
  failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
