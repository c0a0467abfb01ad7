#!/bin/bash
# distributed.sh TRAIN MPIRUN - gradtape-train --distributed, data-parallel over MPI:
#  - 2 ranks with global batch 64 give the per-epoch train and test losses and accuracies of
#    1 process with batch 64 (LeNet-5 and the MLP, 3000 images, 2 epochs) within float
#    rounding: |difference| <= 1e-4 in a loss, <= 0.001 in an accuracy (3 of 3000 images).
#    The ranks sum the gradients of their halves in another order than one process sums the
#    whole batch, so the parameters differ in their last bits; the CSV's 6 decimals have
#    so far come out identical.
#  - 2 ranks resumed from a checkpoint go on as if never stopped;
#  - --distributed with 1 rank equals a plain run, to the last digit;
#  - a rank whose --data is bad stops the whole job at start-up, with a message naming the
#    rank, exit status 1, and no hang;
#  - a NaN loss in the middle of training ends every rank (MPI_Abort), naming the rank;
#  - a rank killed with kill -9 in the middle of training ends the job within 20 s with a
#    non-zero status and a message naming the rank.
# Skipped (77) without Fashion-MNIST or mpirun. mpirun runs as root in CI: the two
# OMPI_ALLOW_RUN_AS_ROOT variables allow it; shared memory only (no network needed).
. "$(dirname "$0")/common.sh"
mpirun=${2:-}
need_data
if [ -z "$mpirun" ] || ! command -v "$mpirun" >/dev/null; then
  echo "SKIP: no mpirun (Debian: apt-get install openmpi-bin libopenmpi-dev, then rebuild)"
  exit 77
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under AddressSanitizer (CI's second build) Open MPI's own memory, which MPI_Finalize does
# not free and which was allocated in plugins it has unloaded by then, would be reported as
# leaks that no suppression can name (one frame, "<unknown module>"): leak checking is off for
# this test's processes; every other check stays on, and the other train tests check leaks
# on the same code.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0"
mpi=("$mpirun" --oversubscribe --mca btl self,vader)
# A job that hangs (a rank waiting for a peer that is gone) is ended after this many
# seconds: a safety net, not a time any run should take (a sanitizer build on a loaded
# machine is several times slower than a plain one).
hang=900

# ranks NAME P ARGS...: like run, with P ranks under mpirun.
ranks() {
  local name=$1 p=$2 status
  shift 2
  timeout $hang "${mpi[@]}" -np "$p" "$train" --distributed --data "$data" "$@" \
    >"$name.out" 2>"$name.err"
  status=$?
  if [ $status -ne 0 ]; then
    cat "$name.out" "$name.err"
    fail "$name: mpirun -np $p gradtape-train --distributed $* exited $status"
  fi
}

# close A.csv B.csv: the per-epoch losses and accuracies agree within the tolerances.
close() {
  paste -d, "$1" "$2" | awk -F, -v what="$1 vs $2" '
    NR == 1 { next }
    { for (i = 2; i <= 5; i++) {
        d = $i - $(i + 7); d = d < 0 ? -d : d
        tol = (i == 2 || i == 4) ? 1e-4 : 0.001
        if (d > worst[i]) worst[i] = d
        if (d > tol) { printf "%s: epoch %s, column %d: %s vs %s\n", what, $1, i, $i, $(i + 7); bad = 1 }
      } rows++ }
    END { printf "%s: %d epochs, largest differences: train loss %g acc %g, test loss %g acc %g\n",
                 what, rows, worst[2], worst[3], worst[4], worst[5]
          exit bad || rows == 0 }' || fail "$1 and $2 differ by more than float rounding"
}

# the epoch lines without their timings
strip() { sed -n 's/^\(epoch .* acc [0-9.]*\)  .*images\/s.*/\1/p' "$1"; }

for model in lenet mlp; do
  args=(--model $model --limit 3000 --test-limit 1000 --epochs 2 --batch 64 --threads 1)
  run one-$model "${args[@]}" --csv one-$model.csv
  ranks two-$model 2 "${args[@]}" --csv two-$model.csv
  close one-$model.csv two-$model.csv
  grep -q "distributed over 2 ranks" two-$model.out || fail "$model: no line saying 2 ranks"
  [ "$(summaries two-$model.out)" = 2 ] || fail "$model: rank 1 printed too (or none did)"
  [ -s two-$model.err ] && { cat two-$model.err; fail "$model: messages on standard error"; }
done

# Resumed from a checkpoint (every rank loads it; rank 0 alone saves), 2 ranks go on as if
# never stopped.
args=(--model lenet --limit 3000 --test-limit 1000 --batch 64 --threads 1)
ranks first-half 2 "${args[@]}" --epochs 1 --save ck.gtc --schedule constant
ranks resumed 2 --load ck.gtc --epochs 2 --test-limit 1000 --threads 1
ranks two-constant 2 "${args[@]}" --epochs 2 --schedule constant
[ "$(strip resumed.out)" = "$(strip two-constant.out | tail -n 1)" ] ||
  fail "2 ranks resumed from a checkpoint differ from an uninterrupted run"
echo "ok: 2 ranks resume from a checkpoint"

# One rank is a plain run.
ranks single 1 --model mlp --limit 3000 --test-limit 1000 --epochs 2 --threads 1
[ "$(strip one-mlp.out)" = "$(strip single.out)" ] || fail "1 rank differs from a plain run"
[ "$(results one-mlp.out)" = "$(results single.out | sed 's/ ranks=.*//')" ] ||
  fail "1 rank's last line differs from a plain run's"
echo "ok: 1 rank equals a plain run"

# A bad --data on rank 1 alone (two app contexts): every rank stops at start-up.
args=(--distributed --limit 1000 --epochs 1)
timeout $hang "${mpi[@]}" -np 1 "$train" "${args[@]}" --data "$data" : \
  -np 1 "$train" "${args[@]}" --data "$work/nowhere" >bad.out 2>bad.err
status=$?
cat bad.err
[ $status -eq 1 ] || fail "a bad --data on rank 1: exit status $status, not 1"
grep -q "gradtape-train: rank 1 of 2: --data $work/nowhere: no such folder" bad.err ||
  fail "a bad --data on rank 1: the message does not name the rank and the folder"
echo "ok: a rank with a bad --data stops the job at start-up"

# A failure in the middle of training (a NaN loss) ends every rank, naming the one that
# saw it (MPI_Abort: the others may be waiting for it).
timeout $hang "${mpi[@]}" -np 2 "$train" --distributed --data "$data" --limit 1000 \
  --test-limit 100 --lr 1e8 >nan.out 2>nan.err
status=$?
[ $status -eq 1 ] || { cat nan.err; fail "a NaN loss: exit status $status, not 1"; }
grep -q "^gradtape-train: rank [01] of 2: epoch 1, step [0-9]*: the training loss is nan" nan.err ||
  { cat nan.err; fail "a NaN loss: no message naming the rank, the epoch and the step"; }
echo "ok: a failure in the middle of training ends the job"

# kill -9 of rank 1 in the middle of training ends the job.
"${mpi[@]}" -np 2 "$train" --distributed --data "$data" --limit 3000 --test-limit 200 \
  --epochs 100000 >killed.out 2>killed.err &
job=$!
wait_for_epoch 2 killed.out $job
victim=
for pid in $(pgrep -P $job); do
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && victim=$pid
done
[ -n "$victim" ] || { kill -9 $job; cat killed.out killed.err; fail "no rank 1 among mpirun's children"; }
start=$(date +%s)
kill -9 "$victim"
for _ in $(seq 200); do # 20 s
  kill -0 $job 2>/dev/null || break
  sleep 0.1
done
if kill -0 $job 2>/dev/null; then
  kill -9 $job
  fail "the job still runs 20 s after rank 1 was killed"
fi
wait $job
status=$?
cat killed.err
[ $status -ne 0 ] || fail "the job of a killed rank exited 0"
grep -q "rank 1 .*exited on signal 9" killed.err || fail "mpirun's message does not name rank 1"
echo "ok: killing rank 1 ended the job in $(($(date +%s) - start)) s with status $status"
