#!/usr/bin/env bash
# Regenerates the complaint classifier's committed weights (data/complaint_model.bin) and the
# reference probabilities beside them: builds the trainer, prints the nested 10-fold
# cross-validation, fits the final model on every row and writes both files. Deterministic: the
# same sources and corpus give the same bytes.
#
#   processor/domain/complaint/train.sh
#
# Environment: CCSTREAM_COMPLAINT_CSV (default ../shared/datasets/complaint_labels/
# complaints_train.csv beside the repository), CCSTREAM_COMPLAINT_BUILD_DIR (default
# build-complaint in the repository).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="${CCSTREAM_COMPLAINT_BUILD_DIR:-$root/build-complaint}"
csv="${CCSTREAM_COMPLAINT_CSV:-$root/../shared/datasets/complaint_labels/complaints_train.csv}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target ccstream_train_complaint -j2
"$build/processor/domain/complaint/ccstream_train_complaint" \
  --csv="$csv" --out_dir="$here/data" --folds=10
