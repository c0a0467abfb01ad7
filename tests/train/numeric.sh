#!/bin/bash
# numeric.sh TRAIN - a loss that becomes NaN or infinite stops training with a message and
# exit status 1, instead of training on garbage; with --detect-anomaly the message names
# the op that made the first non-finite value. The MLP's loss turns to NaN within a few
# steps at lr 1e8 (at 1e6 its ReLUs die and the loss stays finite).
. "$(dirname "$0")/common.sh"
need_data
"$train" --data "$data" --limit 1000 --test-limit 100 --lr 1e8 >nan.out 2>nan.err
status=$?
cat nan.err
[ $status -eq 1 ] || fail "a NaN loss exited $status, not 1"
grep -q "the training loss is nan" nan.err || fail "no message about the NaN loss"
grep -q '^epoch \|^test_accuracy' nan.out && fail "an epoch finished on a NaN loss"

"$train" --data "$data" --limit 1000 --test-limit 100 --lr 1e8 --detect-anomaly \
  >anomaly.out 2>anomaly.err
status=$?
cat anomaly.err
[ $status -eq 1 ] || fail "--detect-anomaly exited $status, not 1"
grep -q "anomaly: linear produced a non-finite" anomaly.err || fail "the op is not named"
grep -q "detect-anomaly" anomaly.out || fail "the header does not show anomaly mode"

# a sane run in anomaly mode is not disturbed by it
run sane --limit 300 --test-limit 100 --epochs 1 --detect-anomaly
run plain --limit 300 --test-limit 100 --epochs 1
[ "$(results sane.out)" = "$(results plain.out)" ] || fail "anomaly mode changed the numbers"
echo "ok: non-finite losses stop training"
