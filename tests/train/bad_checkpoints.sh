#!/bin/bash
# bad_checkpoints.sh TRAIN - a truncated, a corrupted (one flipped byte), an empty, a
# foreign and a missing file, a checkpoint of the other model kind, activation or
# optimizer: each gets a message naming the file and the problem, and exit status 1,
# before anything is trained or evaluated.
. "$(dirname "$0")/common.sh"
need_data
run mlp --limit 200 --test-limit 100 --epochs 1 --save mlp.gtc
run lenet --model lenet --limit 64 --test-limit 100 --epochs 1 --save lenet.gtc
size=$(stat -c %s mlp.gtc)

head -c $((size / 2)) mlp.gtc >truncated.gtc
cp mlp.gtc corrupted.gtc
offset=$((size / 2))
byte=$(od -An -tu1 -j $offset -N1 mlp.gtc | tr -d ' ')
printf "\\$(printf %03o $((byte ^ 255)))" | dd of=corrupted.gtc bs=1 seek=$offset conv=notrunc 2>/dev/null
cmp -s mlp.gtc corrupted.gtc && fail "the byte was not flipped"
: >empty.gtc
echo "not a checkpoint" >foreign.gtc

# expect NAME PATTERN ARGS...: exit 1, a message with PATTERN, nothing trained
expect() {
  local name=$1 pattern=$2
  shift 2
  "$train" --data "$data" --test-limit 100 "$@" >"$name.out" 2>"$name.err"
  local status=$?
  echo "$name: exit $status: $(cat "$name.err")"
  [ $status -eq 1 ] || fail "$name: exit status $status, not 1"
  grep -qF -- "$pattern" "$name.err" || fail "$name: the message lacks \"$pattern\""
  [ "$(wc -l <"$name.err")" -eq 1 ] || fail "$name: more than one line of message"
  grep -q '^epoch \|^test loss' "$name.out" && fail "$name: trained or evaluated anyway"
  return 0
}
for mode in train eval; do
  extra=()
  [ $mode = eval ] && extra=(--eval)
  expect truncated-$mode "truncated.gtc: truncated" --load truncated.gtc "${extra[@]}"
  expect corrupted-$mode "corrupted.gtc: corrupted" --load corrupted.gtc "${extra[@]}"
  expect empty-$mode "empty.gtc: " --load empty.gtc "${extra[@]}"
  expect foreign-$mode "foreign.gtc: not a gradtape checkpoint" --load foreign.gtc "${extra[@]}"
  expect missing-$mode "missing.gtc: cannot open" --load missing.gtc "${extra[@]}"
  expect kind-$mode "mlp.gtc: holds an mlp model, but --model lenet was given" \
    --model lenet --load mlp.gtc "${extra[@]}"
  expect act-$mode "lenet.gtc: holds a model with tanh activations, but --act relu" \
    --act relu --load lenet.gtc "${extra[@]}"
done
expect optimizer "mlp.gtc: holds the state of sgd, not of adam" \
  --optimizer adam --load mlp.gtc --epochs 2
# the good files still load: the failures above changed nothing
run good --eval --load mlp.gtc --test-limit 100
echo "ok: bad checkpoints are refused before any training"
