#!/bin/bash
# spec.sh TRAIN - `--model SPEC`: a bad spec is a usage error naming the column and the token;
# --summary prints a row per layer; a spec model trains, saves, resumes with --load (its spec
# from the file) to the numbers of an uninterrupted run, and evaluates with --eval.
. "$(dirname "$0")/common.sh"
spec="Conv2d(4, 5, padding=2) ReLU MaxPool2d(2) Flatten Linear(32) ReLU Linear(10)"
"$train" --model "Conv2d(4, x)" >bad.out 2>bad.err && fail "a bad spec was accepted"
[ $? -eq 2 ] || fail "a bad spec is not a usage error (exit 2)"
grep -q "column 11: 'x': expected a number, True or False for kernel_size" bad.err ||
  fail "the message does not name the column and token: $(cat bad.err)"
"$train" --model "Flatten Linear(10)" --act tanh >act.out 2>act.err && fail "--act with a spec"
grep -q "a spec names its own activations" act.err || fail "--act: $(cat act.err)"
need_data
run summary --model "$spec" --summary --limit 640 --test-limit 200 --epochs 1 --threads 1
grep -q "^0 .*Conv2d(1, 4, kernel_size=(5, 5).*\[N, 4, 28, 28\] .* 104 .* 78400$" summary.out ||
  fail "no summary row for the convolution: $(head -5 summary.out)"
grep -q "total: 25554 parameters" summary.out || fail "the summary's total: $(cat summary.out)"
"$train" --data "$data" --model "Flatten Linear(7)" --limit 64 --epochs 1 >few.out 2>few.err &&
  fail "a model with 7 outputs trained on 10 classes"
grep -q "gives samples of \[7\], but --data .* has 10 classes: end it with Linear(10)" few.err ||
  fail "too few outputs: $(cat few.err)"
# two epochs at once, or one, saved, and one more from the file (given only --load: the
# spec comes from it): the same numbers (a constant rate, as resume.sh explains)
common=(--limit 640 --test-limit 200 --threads 1 --schedule constant)
run whole --model "$spec" "${common[@]}" --epochs 2
run first --model "$spec" "${common[@]}" --epochs 1 --save spec.gtc
run second --load spec.gtc --epochs 2 --test-limit 200 --threads 1
grep -q "resuming spec.gtc after epoch 1 of 2" second.out || fail "did not resume: $(cat second.out)"
[ "$(results whole.out)" = "$(results second.out)" ] ||
  fail "resumed: $(results second.out), straight: $(results whole.out)"
"$train" --data "$data" --load spec.gtc --model "Flatten Linear(10)" --epochs 2 >other.out \
  2>other.err && fail "--load with another --model"
grep -q "holds the model \"$spec\", but --model \"Flatten Linear(10)\" was given" other.err ||
  fail "another spec: $(cat other.err)"
run eval --eval --load spec.gtc --test-limit 200
[ "$(value test_accuracy first.out)" = "$(value test_accuracy eval.out)" ] ||
  fail "--eval: $(value test_accuracy eval.out), trained: $(value test_accuracy first.out)"
"$train" --model "$spec" --warmup-epochs 2 --epochs 2 >warm.out 2>warm.err &&
  fail "--warmup-epochs as long as the run"
grep -q -- "--warmup-epochs 2 must be less than --epochs 2" warm.err || fail "$(cat warm.err)"
run clipped --model "$spec" "${common[@]}" --epochs 2 --warmup-epochs 1 --clip-grad-norm 0.5 \
  --save clipped.gtc
grep -q "warmup=1 clip=0.5" clipped.out || fail "the recipe line: $(sed -n 2p clipped.out)"
run clipped-eval --eval --load clipped.gtc --test-limit 200
grep -q "warmup=1 clip=0.5" clipped-eval.out ||
  grep -q "test_accuracy=$(value test_accuracy clipped.out)" clipped-eval.out ||
  fail "the clipped run's checkpoint: $(cat clipped-eval.out)"
# --model cnn: its recipe by default (batch norm, dropout, normalised inputs, no
# augmentation); resumed, the same numbers as straight through (its running statistics are
# in the file, and each epoch's dropout masks, shifts and flips come from seeds of their own)
run cnn-default --model cnn --limit 64 --test-limit 10 --threads 1 --epochs 1
grep -q "sgd lr=0.05 cosine momentum=0.9 nesterov normalize weight_decay=0.0005" \
  cnn-default.out || fail "--model cnn's recipe: $(head -3 cnn-default.out)"
# shifts and flips on (off by default) so that resuming also replays each epoch's
cnn=(--model cnn --limit 192 --test-limit 100 --threads 1 --schedule constant --hflip on
     --crop-padding 2)
run cnn-whole "${cnn[@]}" --epochs 2
grep -q "nesterov normalize crop_padding=2 hflip weight_decay=0.0005" cnn-whole.out ||
  fail "--model cnn --hflip on: $(head -3 cnn-whole.out)"
run cnn-first "${cnn[@]}" --epochs 1 --save cnn.gtc
run cnn-second --load cnn.gtc --epochs 2 --test-limit 100 --threads 1
[ "$(results cnn-whole.out)" = "$(results cnn-second.out)" ] ||
  fail "cnn resumed: $(results cnn-second.out), straight: $(results cnn-whole.out)"
run cnn-eval --eval --load cnn.gtc --test-limit 100
[ "$(value test_accuracy cnn-first.out)" = "$(value test_accuracy cnn-eval.out)" ] ||
  fail "cnn --eval: $(value test_accuracy cnn-eval.out), trained: $(value test_accuracy cnn-first.out)"
echo "ok: spec models train, summarise, resume and evaluate"
