#!/bin/bash
# valgrind.sh TRAIN - very short runs under valgrind's memcheck report no error and no
# leak: training with a checkpoint and a CSV, LeNet, resuming, --eval, and the failure
# paths (a truncated checkpoint, a NaN loss). And the training loop allocates nothing per
# step: runs of 2 and of 10 steps per epoch make exactly as many allocations (the MLP, and
# --model cnn). The data are
# the first 1000 training and 200 test images, as raw IDX files (quick to read).
. "$(dirname "$0")/common.sh"
need_data
if ! command -v valgrind >/dev/null 2>&1; then
  echo "SKIP: valgrind is not installed"
  exit 77
fi
small_data small 1000 200
data=small
# memcheck NAME WANT ARGS...: the trainer under valgrind exits WANT, valgrind finds nothing
memcheck() {
  local name=$1 want=$2
  shift 2
  valgrind --leak-check=full --error-exitcode=99 --log-file="$name.vg" \
    --suppressions="$(dirname "$0")/../valgrind.supp" \
    "$train" --data "$data" "$@" >"$name.out" 2>"$name.err"
  local status=$?
  grep -E "ERROR SUMMARY|total heap usage" "$name.vg" | sed "s/^==[0-9]*== /$name: /"
  [ $status -ne 99 ] || { cat "$name.vg"; fail "$name: valgrind found errors or leaks"; }
  [ $status -eq "$want" ] || { cat "$name.err"; fail "$name: exit status $status, not $want"; }
  grep -q "ERROR SUMMARY: 0 errors" "$name.vg" || { cat "$name.vg"; fail "$name: errors"; }
  # anything lost is a leak (the library's worker threads are joined at exit)
  ! grep -Eq "(definitely|indirectly|possibly) lost: [1-9]" "$name.vg" ||
    { cat "$name.vg"; fail "$name: leaks"; }
}
memcheck mlp 0 --limit 200 --epochs 1 --test-limit 100 --save m.gtc --csv m.csv
memcheck lenet 0 --model lenet --limit 64 --epochs 1 --test-limit 50
memcheck resume 0 --load m.gtc --epochs 2 --test-limit 100 --save m.gtc --csv m.csv
memcheck eval 0 --eval --load m.gtc --test-limit 100
head -c 1000 m.gtc >truncated.gtc
memcheck truncated 1 --load truncated.gtc
memcheck nan 1 --limit 384 --test-limit 100 --lr 1e8
memcheck usage 2 --batch 0

allocs() { sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$1.vg"; }
memcheck steps2 0 --limit 128 --epochs 2 --test-limit 100
memcheck steps10 0 --limit 640 --epochs 2 --test-limit 100
echo "allocations: $(allocs steps2) with 2 steps an epoch, $(allocs steps10) with 10"
[ "$(allocs steps2)" = "$(allocs steps10)" ] || fail "the training loop allocates per step"
# the same for --model cnn: batch norm, dropout, normalised and augmented batches
# (one image a batch: a CNN image costs some 70 MFLOP a step, over a second under memcheck)
memcheck cnnsteps2 0 --model cnn --batch 1 --limit 2 --epochs 2 --test-limit 1
memcheck cnnsteps10 0 --model cnn --batch 1 --limit 10 --epochs 2 --test-limit 1
echo "cnn allocations: $(allocs cnnsteps2) with 2 steps an epoch, $(allocs cnnsteps10) with 10"
[ "$(allocs cnnsteps2)" = "$(allocs cnnsteps10)" ] || fail "training the cnn allocates per step"
echo "ok: valgrind is clean"
