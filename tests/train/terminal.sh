#!/bin/bash
# terminal.sh TRAIN - on a terminal (a pseudo-terminal from script(1)) each epoch has a
# live progress bar, redrawn in place (carriage return, erase line) with images/s, the
# running loss and an ETA, no wider than the terminal (80 columns when it says nothing);
# the bar is erased before the epoch's summary line, which it never overwrites.
. "$(dirname "$0")/common.sh"
need_data
if ! command -v script >/dev/null 2>&1; then
  echo "SKIP: script(1) is not installed (Debian: bsdutils)"
  exit 77
fi
command="'$train' --data '$data' --limit 6000 --test-limit 500 --epochs 2"
script -q -e -c "$command" /dev/null </dev/null >raw 2>&1
status=$?
[ $status -eq 0 ] || { cat raw; fail "the run on a terminal exited $status"; }
redraws=$(grep -o $'\r\033\\[K' raw | wc -l)
echo "bar redrawn $redraws times"
[ "$redraws" -ge 4 ] || fail "the bar was drawn $redraws times, expected at least 4"
grep -q 'epoch 1/2 \[=*>* *\]' raw || fail "no bar '[===>   ]' for epoch 1"
grep -q 'img/s  ETA [0-9]*:[0-9][0-9]' raw || fail "no images/s and ETA in the bar"
grep -q 'loss [0-9]\.[0-9]\{4\}' raw || fail "no running loss in the bar"
# every drawing of the bar (split at carriage returns) fits in 80 columns
widest=$(tr '\r' '\n' <raw | sed $'s/\033\\[K//g' | grep 'ETA' |
  awk '{ if (length > w) w = length } END { print w }')
echo "widest bar: $widest columns"
[ "$widest" -le 80 ] || fail "a bar is $widest columns wide"
# the summary lines each follow an erased bar, and the last line is the key=value line
summaries=$(grep -c $'\033\\[Kepoch [12]/2  train loss' raw)
[ "$summaries" -eq 2 ] || fail "$summaries summary lines replace an erased bar, expected 2"
tr -d '\r' <raw | tail -n 1 | grep -q '^test_accuracy=' || fail "the last line is not key=value"
echo "ok: a progress bar on a terminal"
