#!/bin/bash
# save_eval.sh TRAIN - `--eval --load` of a saved model reproduces the test loss and
# accuracy the training run reported, and says which epoch the file holds.
. "$(dirname "$0")/common.sh"
need_data
run trained --limit 2000 --test-limit 2000 --epochs 2 --save model.gtc
run eval --eval --load model.gtc --test-limit 2000
cat eval.out
for key in test_accuracy test_loss; do
  [ "$(value $key trained.out)" = "$(value $key eval.out)" ] ||
    fail "$key: $(value $key trained.out) when trained, $(value $key eval.out) on --eval"
done
[ "$(value epochs eval.out)" = 2 ] || fail "--eval does not report epoch 2"
[ "$(value test_images eval.out)" = 2000 ] || fail "--eval did not use --test-limit 2000"
grep -q '^epoch ' eval.out && fail "--eval trained"
# a LeNet too, evaluated with another --batch: evaluation does not depend on it
run lenet --model lenet --limit 300 --test-limit 500 --epochs 1 --save lenet.gtc
run lenet-eval --eval --load lenet.gtc --test-limit 500 --batch 7
[ "$(value test_accuracy lenet.out)" = "$(value test_accuracy lenet-eval.out)" ] ||
  fail "lenet: --eval gives another accuracy"
echo "ok: --eval reproduces the saved model's accuracy"
