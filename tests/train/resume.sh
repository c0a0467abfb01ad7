#!/bin/bash
# resume.sh TRAIN - training resumed from a checkpoint continues where it stopped: 2 epochs
# straight and 1 epoch + save + resume for 1 more epoch end on the same key=value line
# (up to its timings). Once with the default recipe; once with a recipe of its own
# (nesterov, weight decay, lr, batch, seed), which the resumed run, given only --load and
# --epochs, must take from the checkpoint; once with Adam's state on LeNet.
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
check default --limit 2000 --test-limit 1000
check recipe --limit 2000 --test-limit 1000 --lr 0.05 --momentum 0.8 --nesterov \
  --weight-decay 0.001 --batch 50 --seed 7
check adam --model lenet --optimizer adam --limit 400 --test-limit 1000 --batch 32
# a finished run is not trained again
"$train" --data "$data" --load default.gtc --epochs 2 >again.out 2>again.err
status=$?
cat again.err
[ $status -eq 2 ] || fail "resuming a finished run exited $status, not 2"
grep -q "default.gtc: already trained for 2 epochs" again.err || fail "no message for it"
echo "ok: resumed runs continue exactly"
