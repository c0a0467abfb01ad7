#!/bin/bash
# bad_options.sh TRAIN - every bad command line gets one line naming the option and the
# value, and exit status 2 (a missing data folder, found at run time: 1); --help exits 0.
# None of them crashes or trains.
. "$(dirname "$0")/common.sh"
# expect STATUS PATTERN ARGS...
expect() {
  local want=$1 pattern=$2
  shift 2
  "$train" "$@" >out 2>err
  local status=$?
  printf '%-45s exit %d: %s\n' "$*" $status "$(cat err)"
  [ $status -eq "$want" ] || fail "$*: exit status $status, not $want"
  grep -qF -- "$pattern" err || fail "$*: the message lacks \"$pattern\""
  [ "$(wc -l <err)" -eq 1 ] || fail "$*: not one line of message"
  [ -s out ] && fail "$*: printed on standard output"
  return 0
}
expect 2 "unknown option --foo" --foo
expect 2 "unknown option --epoch" --epoch 3
expect 2 "--batch needs a value" --batch
expect 2 "--batch 0: must be an integer from 1" --batch 0
expect 2 "--batch 12x: not an integer" --batch 12x
expect 2 "--epochs 0: must be an integer" --epochs=0
expect 2 "--epochs three: not an integer" --epochs three
expect 2 "--lr -1: must be a finite number > 0" --lr -1
expect 2 "--lr 0: must be a finite number > 0" --lr 0
expect 2 "--lr inf: must be a finite number > 0" --lr inf
expect 2 "--lr fast: not a number" --lr fast
expect 2 "--momentum 1: must be a number from 0 up to" --momentum 1
expect 2 "--momentum -0.5: must be" --momentum -0.5
expect 2 "--weight-decay -1: must be a finite number >= 0" --weight-decay -1
expect 2 "--model foo: choose mlp or lenet" --model foo
expect 2 "--act gelu: choose relu, sigmoid or tanh" --act gelu
expect 2 "--optimizer rmsprop: choose sgd or adam" --optimizer rmsprop
expect 2 "--threads -1: must be an integer from 0" --threads -1
expect 2 "--seed -1: not an integer" --seed -1
expect 2 "--seed 18446744073709551616: must be at most 2^64-1" --seed 18446744073709551616
expect 2 "--limit 0: must be an integer from 1" --limit 0
expect 2 "--test-limit -5: must be an integer from 1" --test-limit -5
expect 2 "--plot curves.svg: the plot is a PNG image" --plot curves.svg
expect 2 "--save \"\": needs a file name" --save ""
expect 2 "--nesterov takes no value" --nesterov=yes
expect 2 "unexpected argument \"lenet\"" lenet
expect 2 "--eval evaluates a saved model: give it with --load" --eval
expect 2 "--lr is for training" --eval --load x.gtc --lr 0.1
expect 2 "--save writes per-epoch results" --eval --load x.gtc --save y.gtc
expect 2 "--distributed is for training" --eval --load x.gtc --distributed
expect 2 "--hflip is for training" --eval --load x.gtc --hflip on
expect 2 "--hflip maybe: choose on or off" --hflip maybe
expect 2 "--crop-padding 65: must be an integer" --crop-padding 65
expect 2 "--normalize yes: choose on or off" --normalize yes
expect 2 "--momentum 0.5 is for --optimizer sgd" --optimizer adam --momentum 0.5
expect 2 "--nesterov is for --optimizer sgd" --optimizer adam --nesterov
expect 2 "--nesterov needs a momentum > 0" --nesterov --momentum 0
expect 1 "--data $work/nothing: no such folder" --data "$work/nothing"
mkdir empty
expect 1 "--data empty: " --data empty
expect 1 "--save $work/no/such/folder/m.gtc: the folder $work/no/such/folder does not exist" \
  --save "$work/no/such/folder/m.gtc"
"$train" --help >help.out 2>help.err || fail "--help exited $?"
[ -s help.err ] && fail "--help wrote to standard error"
for option in model act data epochs batch lr momentum nesterov weight-decay optimizer \
              threads seed limit test-limit save load eval csv plot detect-anomaly distributed \
              help; do
  grep -q -- "--$option" help.out || fail "--help does not list --$option"
done
grep -q "default 64" help.out || fail "--help does not state the batch default"
echo "ok: bad options are refused"
