#!/usr/bin/env bash
# Checks formatting (clang-format) and static analysis (clang-tidy) of every project C++ file.
# Usage: scripts/lint.sh [BUILD_DIR]   (BUILD_DIR holds compile_commands.json; default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
mapfile -t files < <(git ls-files '*.cc' '*.h' | grep -v '^build' || true)
if [ "${#files[@]}" -eq 0 ]; then echo "lint: no files"; exit 0; fi

echo "lint: clang-format on ${#files[@]} files"
clang-format --dry-run --Werror "${files[@]}"

mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep '\.cc$')
echo "lint: clang-tidy on ${#sources[@]} files"
printf '%s\n' "${sources[@]}" |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$build_dir" --quiet 2>/dev/null
echo "lint: OK"
