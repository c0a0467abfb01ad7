#!/bin/bash
# chargpt_valgrind.sh CHARGPT - examples/chargpt under memcheck: no error, no leak, and the same
# number of allocations for 2 and 6 training steps (a step allocates nothing: the tape's
# arena is reused). Exits 77 (skipped) without valgrind or /usr/share/games/fortunes.
set -u
chargpt=$1
fail() { echo "FAIL: $*"; exit 1; }
command -v valgrind > /dev/null || { echo "skipped: no valgrind"; exit 77; }
[ -d /usr/share/games/fortunes ] || { echo "skipped: no /usr/share/games/fortunes"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for steps in 2 6; do
  valgrind --leak-check=full --error-exitcode=99 --log-file="$dir/vg$steps" "$chargpt" \
    --steps $steps --eval-every 100 --layers 1 --dim 16 --heads 2 --context 8 --batch 2 \
    --eval-batches 1 --sample 3 --threads 1 > "$dir/out$steps" 2>&1
  status=$?
  [ $status -eq 0 ] || { cat "$dir/vg$steps" "$dir/out$steps"; fail "$steps steps: exit $status"; }
  grep -q "All heap blocks were freed" "$dir/vg$steps" || { cat "$dir/vg$steps"; fail "a leak"; }
done
allocs() { sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$1"; }
[ "$(allocs "$dir/vg2")" = "$(allocs "$dir/vg6")" ] ||
  fail "allocations grow with the steps: $(allocs "$dir/vg2") for 2, $(allocs "$dir/vg6") for 6"
echo "ok: no error, no leak, $(allocs "$dir/vg2") allocations for 2 and for 6 steps"
