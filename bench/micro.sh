#!/usr/bin/env bash
# Builds and runs every micro-benchmark (bench/<area>_bench.cc → <build>/bench/<area>_bench),
# keeps each one's Google Benchmark JSON and prints one Markdown table of the results.
#
# Usage: bench/micro.sh [--quick] [--build-dir DIR] [--out DIR] [--min-time S]
#                       [--filter REGEX] [--no-build] [-- ARGS...]
#   --quick          --benchmark_min_time=0.05 (the whole run takes about two minutes)
#   --build-dir DIR  the build directory (default: build); configured Release if it is new
#   --out DIR        where the JSON and console logs go (default: bench/results/micro-<UTC time>)
#   --min-time S     --benchmark_min_time for every benchmark (overrides --quick)
#   --filter REGEX   --benchmark_filter for every executable (a leading '-' excludes)
#   --no-build       do not build; fail if an executable is missing (used by the ctest)
#   -- ARGS...       more arguments for every executable
# Exits non-zero if a build fails, an executable is missing, exits non-zero or reports an error
# for one of its benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
out_dir=""
min_time=""
filter=""
build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) [ -n "$min_time" ] || min_time=0.05 ;;
    --build-dir) build_dir="$2"; shift ;;
    --out) out_dir="$2"; shift ;;
    --min-time) min_time="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    --no-build) build=0 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "micro.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
out_dir="${out_dir:-bench/results/micro-$(date -u +%Y%m%dT%H%M%SZ)}"

# The executables, one per bench/<area>_bench.cc.
mapfile -t names < <(for f in bench/*_bench.cc; do basename "$f" .cc; done)
if [ "${#names[@]}" -eq 0 ]; then echo "micro.sh: no bench/*_bench.cc" >&2; exit 1; fi

if [ "$build" -eq 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$build_dir" --target "${names[@]}"
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
if [ "$build_type" != "Release" ]; then
  echo "micro.sh: warning: $build_dir is a '${build_type:-unknown}' build, not Release;" \
    "figures are not comparable" >&2
fi

mkdir -p "$out_dir"
args=(--benchmark_out_format=json)
[ -z "$min_time" ] || args+=("--benchmark_min_time=$min_time")
[ -z "$filter" ] || args+=("--benchmark_filter=$filter")
args+=("${extra[@]}")

failed=()
start=$(date +%s)
for name in "${names[@]}"; do
  exe="$build_dir/bench/$name"
  if [ ! -x "$exe" ]; then
    echo "micro.sh: $exe is missing" >&2
    failed+=("$name (missing)")
    continue
  fi
  t0=$(date +%s)
  if "$exe" "${args[@]}" "--benchmark_out=$out_dir/$name.json" >"$out_dir/$name.log" 2>&1; then
    echo "micro.sh: $name done in $(($(date +%s) - t0)) s" >&2
  else
    rc=$?
    echo "micro.sh: $name FAILED (exit $rc); last lines of $out_dir/$name.log:" >&2
    tail -n 5 "$out_dir/$name.log" >&2 || true
    failed+=("$name (exit $rc)")
  fi
done

# JSON → Markdown; also fails on a benchmark that reported an error (SkipWithError).
if ! python3 - "$out_dir" "${names[@]}" <<'EOF'; then
import json, os, sys

out_dir, names = sys.argv[1], sys.argv[2:]
to_ns = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def fmt_time(ns):
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def fmt_rate(v):
    if v is None:
        return ""
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:.2f} {unit}/s"
    return f"{v:.1f} /s"


errors = []
print("| benchmark | time per op | CPU per op | items/s |")
print("|---|---|---|---|")
for name in names:
    path = os.path.join(out_dir, name + ".json")
    if not os.path.exists(path):
        continue
    try:
        with open(path) as f:
            data = json.load(f)
    except ValueError as e:
        errors.append(f"{name}: unreadable JSON ({e})")
        continue
    for b in data.get("benchmarks", []):
        label = f"{name} {b['name']}"
        if b.get("error_occurred"):
            errors.append(f"{label}: {b.get('error_message', 'error')}")
            print(f"| {label} | error: {b.get('error_message', '')} | | |")
            continue
        scale = to_ns[b.get("time_unit", "ns")]
        print(f"| {label} | {fmt_time(b['real_time'] * scale)} | "
              f"{fmt_time(b['cpu_time'] * scale)} | {fmt_rate(b.get('items_per_second'))} |")
for e in errors:
    print(f"micro.sh: benchmark error: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
  failed+=("benchmark errors")
fi

echo "micro.sh: $(($(date +%s) - start)) s; JSON and logs in $out_dir" >&2
if [ "${#failed[@]}" -gt 0 ]; then
  echo "micro.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
