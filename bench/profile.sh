#!/usr/bin/env bash
# bench/profile.sh - where a training step spends its time, per op family, with perf.
#
#     bash bench/profile.sh [--model lenet|mlp] [--batches "1 64"] [--seconds 5] [--build DIR]
#
# Builds gradtape-bench in build-profile/ (Release, plus -g and
# -fno-inline-functions-called-once so that im2col and col2im keep their own frames; the
# hot loops are compiled as in Release), then for each batch size runs only the training
# step cell under `perf record --call-graph dwarf` and sorts the samples into families by
# walking each call stack from the leaf up to the first frame it recognises:
#   GEMM (split by the op that called it), im2col/col2im, each op's own loops (conv2d's bias,
#   pooling, activations with libm's tanh, loss, linear's bias), the optimizer, zero-grad,
#   tape and dispatch (recording nodes, the arena, checks, the backward walk), the harness.
# --build DIR profiles an existing build instead (in a plain Release build col2im is inlined
# into conv2d's backward and counts there). Needs perf (Debian: linux-perf) and root or
# kernel.perf_event_paranoid <= 1. Samples count this process's CPU time, so other users of
# the machine shift the shares little; short runs are noisy all the same: run it twice.
set -euo pipefail
cd "$(dirname "$0")/.."

model=lenet
batches="1 64"
seconds=5
build=
while [ $# -gt 0 ]; do
    case "$1" in
    --model) model=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "profile.sh: unknown argument '$1' (--help lists them)" >&2; exit 2 ;;
    esac
done
if ! command -v perf >/dev/null; then
    echo "profile.sh: perf not found (Debian: apt-get install linux-perf)" >&2
    exit 2
fi

if [ -z "$build" ]; then
    build=build-profile
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DGT_BUILD_TESTS=OFF \
        "-DCMAKE_C_FLAGS=-g -fno-inline-functions-called-once" >/dev/null
    cmake --build "$build" --target gradtape_bench -j2 >/dev/null
fi
bench=$build/bench/gradtape-bench
[ -x "$bench" ] || { echo "profile.sh: $bench is not built" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for batch in $batches; do
    perf record -q -F 999 --call-graph dwarf,16384 -o "$tmp/perf.data" -- \
        "$bench" --model "$model" --batches "$batch" --cells train --inference-batch 0 \
        --budget "$seconds" --peak-gflops 1 >"$tmp/bench.txt" 2>"$tmp/perf.err" ||
        { cat "$tmp/perf.err" >&2; exit 1; }
    step=$(awk -v m="$model" '$1 == m && $2 == "train_step" {
        printf "%s us median over %s steps", $4, $6 }' "$tmp/bench.txt")
    echo "== $model training step, batch $batch ($step)"
    # symbol -> source file of the library or the bench (needs -g; else names decide)
    nm -l --defined-only "$bench" |
        awk 'NF >= 4 { f = $4; sub(/:[0-9]+$/, "", f); print $3, f }' >"$tmp/files"
    perf script -i "$tmp/perf.data" -F ip,sym 2>/dev/null |
        awk -v files="$tmp/files" -f bench/profile_families.awk
    echo
done
