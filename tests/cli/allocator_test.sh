#!/usr/bin/env bash
# The service's allocations go to jemalloc: the binary loads it, and a running process has it
# mapped (with glibc's malloc it used more CPU and a fifth more peak memory; see
# docs/performance.md).
# Usage: allocator_test.sh CCSTREAM_BINARY
set -uo pipefail
bin="$1"
failures=0
if ldd "$bin" | grep -q 'libjemalloc'; then
  echo "ok   $bin loads libjemalloc"
else
  echo "FAIL $bin does not load libjemalloc:"
  ldd "$bin"
  failures=$((failures + 1))
fi
# A running process: `ccstream classify` waits for texts on its standard input meanwhile.
fifo="$(mktemp -u)"
mkfifo "$fifo"
"$bin" classify < "$fifo" > /dev/null 2>&1 &
pid=$!
exec 3> "$fifo"
mapped=0
for _ in $(seq 1 50); do
  if grep -q 'libjemalloc' "/proc/$pid/maps" 2>/dev/null; then mapped=1; break; fi
  sleep 0.1
done
exec 3>&-
wait "$pid" 2>/dev/null
rm -f "$fifo"
if [ "$mapped" -eq 1 ]; then
  echo "ok   a running ccstream has libjemalloc mapped"
else
  echo "FAIL a running ccstream does not have libjemalloc mapped"
  failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
