#!/bin/bash
# chargpt.sh CHARGPT - a tiny run of examples/chargpt on Debian's fortunes (a few dozen steps
# of a 1-block model): the validation loss falls from the first evaluation to the last, the
# last line holds the promised key=value pairs, a sample is printed, and a bad option is
# refused with a message. Exits 77 (skipped) without /usr/share/games/fortunes.
set -u
chargpt=$1
data=/usr/share/games/fortunes
fail() { echo "FAIL: $*"; exit 1; }
if [ ! -d "$data" ]; then
  echo "skipped: no $data (apt-get install fortunes)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$chargpt" --layers 1 --heads 2 --dim 32 --context 16 --batch 8 --steps 120 --lr 3e-3 \
           --eval-every 20 --eval-batches 4 --sample 40 --threads 1 > "$dir/out" 2> "$dir/err"
status=$?
cat "$dir/out" "$dir/err"
[ $status -eq 0 ] || fail "chargpt exited with $status"
losses=$(sed -n 's/^step *[0-9]*\/[0-9]*  train loss [0-9.]*  val loss \([0-9.]*\) .*/\1/p' "$dir/out")
[ "$(echo "$losses" | wc -l)" -eq 6 ] || fail "not 6 evaluation lines (every 20 of 120 steps)"
first=$(echo "$losses" | head -1) last=$(echo "$losses" | tail -1)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.3) }' ||
  fail "the validation loss did not fall by 0.3: $first -> $last"
grep -q '^sample:$' "$dir/out" || fail "no sample"
tail -1 "$dir/out" | grep -q "^val_loss=$last " || fail "the last line's val_loss is not $last"
for key in val_loss train_loss tokens_per_s seconds; do
  value=$(tail -1 "$dir/out" | tr ' ' '\n' | sed -n "s/^$key=//p")
  awk -v v="$value" 'BEGIN { exit !(v + 0 > 0) }' || fail "no positive $key= in the last line"
done
"$chargpt" --dim 30 --heads 4 > "$dir/bad" 2>&1
status=$?
[ $status -eq 2 ] || fail "--dim 30 --heads 4 exited with $status, not 2"
grep -q -- "--dim (30) must be a multiple of --heads (4)" "$dir/bad" || fail "no message: $(cat "$dir/bad")"
"$chargpt" --data "$dir/none" > "$dir/bad" 2>&1
[ $? -eq 77 ] || fail "a missing --data folder did not exit 77"
echo "ok: chargpt learns ($first -> $last)"
