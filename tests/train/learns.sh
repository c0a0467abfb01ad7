#!/bin/bash
# learns.sh TRAIN MODEL ARGS... - a short run on a few thousand Fashion-MNIST images: the
# training loss falls from epoch to epoch, the test accuracy passes a modest bar (0.6; ten
# classes give 0.1 by chance), and the last line is the key=value summary.
. "$(dirname "$0")/common.sh"
need_data
model=$2
shift 2
run train --model "$model" "$@"
cat train.out
grep -q "^gradtape-train: $model(" train.out || fail "no header line naming the $model"
losses=$(sed -n 's/^epoch *[0-9]*\/[0-9]*  train loss \([0-9.]*\) .*/\1/p' train.out)
[ "$(echo "$losses" | wc -l)" -ge 2 ] || fail "fewer than two epoch lines"
previous=
for loss in $losses; do
  [ -z "$previous" ] || above "$previous" "$loss" || fail "the loss rose: $previous -> $loss"
  previous=$loss
done
accuracy=$(value test_accuracy train.out)
[ -n "$accuracy" ] || fail "no test_accuracy= in the last line"
above "$accuracy" 0.6 || fail "test accuracy $accuracy is not above 0.6"
for key in test_loss train_loss train_accuracy epochs train_images_per_s seconds; do
  [ -n "$(value $key train.out)" ] || fail "no $key= in the last line"
done
above "$(value train_images_per_s train.out)" 0 || fail "train_images_per_s is not positive"
echo "ok: $model learns, test accuracy $accuracy"
