#!/bin/bash
# determinism.sh TRAIN - the same seed and thread count give the same numbers, run after
# run; another seed gives other numbers. Output that is not a terminal gets plain lines:
# no carriage return and no escape sequence.
. "$(dirname "$0")/common.sh"
need_data
for model in mlp lenet; do
  limit=1000
  [ $model = lenet ] && limit=300
  args=(--model $model --limit $limit --test-limit 500 --epochs 2 --threads 1)
  run first "${args[@]}"
  run second "${args[@]}"
  run other "${args[@]}" --seed 2
  echo "$model, twice:  $(results first.out)"
  echo "$model, seed 2: $(results other.out)"
  [ "$(results first.out)" = "$(results second.out)" ] || fail "$model: two runs differ"
  [ "$(results first.out)" != "$(results other.out)" ] || fail "$model: seed 2 changed nothing"
  # the per-epoch lines agree too, up to their timings
  strip() { sed -n 's/^\(epoch .* acc [0-9.]*\)  .*images\/s.*/\1/p' "$1"; }
  [ "$(strip first.out)" = "$(strip second.out)" ] || fail "$model: the epoch lines differ"
  if grep -q $'[\r\033]' first.out first.err; then
    fail "$model: carriage returns or escape sequences in output that is not a terminal"
  fi
done
echo "ok: deterministic"
