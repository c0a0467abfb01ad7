#!/bin/bash
# resume.sh TRAIN - training resumed from a checkpoint continues where it stopped: 2 epochs
# straight and 1 epoch + save + resume for 1 more epoch end on the same key=value line
# (up to its timings). Once with the default recipe; once with a recipe of its own
# (nesterov, weight decay, lr, batch, seed), which the resumed run, given only --load and
# --epochs, must take from the checkpoint; once with Adam's state on LeNet. All with a
# constant learning rate: under the cosine schedule the rate of a step depends on the
# epochs asked for, so 1 epoch asked and then 2 is another curve than 2 at once (an
# interrupted cosine run resumed with the same --epochs continues exactly: kill_during_save).
. "$(dirname "$0")/common.sh"
need_data
check() {
  local name=$1
  shift
  run "$name-straight" "$@" --epochs 2
  run "$name-first" "$@" --epochs 1 --save "$name.gtc"
  run "$name-resumed" --load "$name.gtc" --epochs 2 --test-limit 1000 --save "$name.gtc"
  echo "$name straight: $(results "$name-straight.out")"
  echo "$name resumed:  $(results "$name-resumed.out")"
  grep -q "resuming $name.gtc after epoch 1 of 2" "$name-resumed.out" ||
    fail "$name: the resumed run does not say it resumes after epoch 1"
  grep -q '^epoch 1/' "$name-resumed.out" && fail "$name: the resumed run trained epoch 1 again"
  [ "$(results "$name-straight.out")" = "$(results "$name-resumed.out")" ] ||
    fail "$name: resumed training differs from training straight through"
  [ "$(value epochs "$name-resumed.out")" = 2 ] || fail "$name: epochs= is not 2"
}
check default --limit 2000 --test-limit 1000 --schedule constant
check recipe --limit 2000 --test-limit 1000 --lr 0.05 --momentum 0.8 --nesterov \
  --weight-decay 0.001 --batch 50 --seed 7 --schedule constant
check adam --model lenet --optimizer adam --limit 400 --test-limit 1000 --batch 32 \
  --schedule constant
# The default cosine schedule: a run asked for 2 epochs, stopped by SIGTERM in its second
# epoch (its checkpoint keeps epoch 1), then resumed with only --load, ends as 2 epochs
# straight do: the rate of each step follows the epochs asked for, which the checkpoint keeps.
cosine=(--model lenet --limit 10000 --test-limit 500 --threads 1)
run cosine-straight "${cosine[@]}" --epochs 2
"$train" --data "$data" "${cosine[@]}" --epochs 2 --save cosine.gtc >cosine-first.out 2>&1 &
pid=$!
# (On a loaded machine an epoch lasts more than 20 s, and a plain progress line, which also
# starts "epoch 1/2", comes first: the wait is for the epoch's summary line.)
for _ in $(seq 12000); do # until epoch 1 is saved (10 minutes at most, for sanitizer builds)
  grep -q '^epoch 1/2  train loss' cosine-first.out && break # not a progress line
  sleep 0.05
done
grep -q '^epoch 1/2  train loss' cosine-first.out ||
  { kill -KILL $pid; fail "cosine: epoch 1 never ended"; }
kill -TERM $pid
wait $pid
status=$?
[ $status -eq 143 ] || fail "cosine: the run stopped in epoch 2 exited $status, not 143 (did it end first?)"
grep -q "cosine.gtc keeps epoch 1" cosine-first.out ||
  fail "cosine: the stopped run does not say that its checkpoint keeps epoch 1"
run cosine-resumed --load cosine.gtc --test-limit 500
grep -q "resuming cosine.gtc after epoch 1 of 2" cosine-resumed.out ||
  fail "cosine: the resumed run does not say it resumes after epoch 1 of 2"
echo "cosine straight: $(results cosine-straight.out)"
echo "cosine resumed:  $(results cosine-resumed.out)"
[ "$(results cosine-straight.out)" = "$(results cosine-resumed.out)" ] ||
  fail "cosine: resumed training differs from training straight through"

# a finished run is not trained again
"$train" --data "$data" --load default.gtc --epochs 2 >again.out 2>again.err
status=$?
cat again.err
[ $status -eq 2 ] || fail "resuming a finished run exited $status, not 2"
grep -q "default.gtc: already trained for 2 epochs" again.err || fail "no message for it"
echo "ok: resumed runs continue exactly"
