#!/bin/bash
# kill_during_save.sh TRAIN - SIGKILL at any moment, a save included, never costs the
# checkpoint: a run on 64 images saves after every epoch (tens of saves a second); it is
# killed 10 times, each time resumed from its own checkpoint: at increasing delays, and
# every other time as soon as a save's temporary file appears (in the middle of a save). After
# every kill the checkpoint must load and evaluate to the numbers the CSV recorded for
# its epoch, never an older epoch than before the kill. At the end a resumed run removes
# the temporary files that killed saves left, and an uninterrupted run of as many epochs
# reproduces every row the killed-and-resumed runs wrote.
. "$(dirname "$0")/common.sh"
need_data
# a constant learning rate: the last run asks for fewer epochs than the killed ones, and a
# cosine schedule follows the epochs asked for (resume.sh checks a cosine run resumed)
args=(--data "$data" --limit 64 --test-limit 100 --csv log.csv --schedule constant)
"$train" "${args[@]}" --epochs 100000 --save ck.gtc >start.out 2>start.err &
pid=$!
# the first checkpoint (renamed into place whole, so its name appearing is the signal),
# however long a slow build takes to get there
until [ -f ck.gtc ] || ! kill -0 $pid 2>/dev/null; do
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
[ -f ck.gtc ] || { cat start.err; fail "the run ended without a checkpoint"; }

# evaluate NAME: the checkpoint's epoch and test numbers, "EPOCH LOSS ACCURACY"
evaluate() {
  "$train" --data "$data" --eval --load ck.gtc --test-limit 100 >"$1.out" 2>"$1.err" ||
    { cat "$1.err"; fail "$1: the checkpoint does not load"; }
  echo "$(value epochs "$1.out") $(value test_loss "$1.out") $(value test_accuracy "$1.out")"
}
# csv_row EPOCH: "EPOCH LOSS ACCURACY" as the CSV recorded them
csv_row() {
  awk -F, -v e="$1" '$1 == e { printf "%d %s %.4f\n", $1, $4, $5 }' log.csv
}

before=$(evaluate before-1)
temps_seen=0
for i in 1 2 3 4 5 6 7 8 9 10; do
  delay=$(awk -v i=$i 'BEGIN { printf "%.2f s", 0.25 + 0.17 * i }')
  "$train" "${args[@]}" --load ck.gtc --save ck.gtc >"run-$i.out" 2>"run-$i.err" &
  pid=$!
  if [ $((i % 2)) -eq 1 ]; then
    sleep "${delay% s}"
  else # wait for the next save to begin, for up to 20 s
    deadline=$((SECONDS + 20))
    sleep 0.3
    while ! compgen -G "ck.gtc.tmp.$pid" >/dev/null && [ $SECONDS -lt $deadline ]; do :; done
    delay="a save began"
  fi
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
  after=$(evaluate after-$i)
  set -- $before
  epoch_before=$1
  set -- $after
  epoch_after=$1
  temps=$(ls ck.gtc.tmp.* 2>/dev/null | wc -l)
  [ "$temps" -gt 0 ] && temps_seen=$((temps_seen + 1))
  echo "kill $i ($delay): epoch $epoch_before -> $epoch_after, temporary files: $temps"
  [ "$epoch_after" -ge "$epoch_before" ] || fail "kill $i: the checkpoint went back in time"
  [ "$after" = "$(csv_row "$epoch_after")" ] ||
    fail "kill $i: the checkpoint evaluates to '$after', the CSV says '$(csv_row "$epoch_after")'"
  if [ "$epoch_after" -eq "$epoch_before" ] && [ "$after" != "$before" ]; then
    fail "kill $i: the checkpoint changed but its epoch did not"
  fi
  before=$after
done
echo "$temps_seen of 10 kills left a temporary file: they interrupted a save"
# a resumed run cleans up what killed saves left and trains on
set -- $before
epochs=$(($1 + 1))
run last --limit 64 --test-limit 100 --csv log.csv --load ck.gtc --schedule constant \
  --save ck.gtc --epochs $epochs
ls ck.gtc.tmp.* log.csv.tmp.* >/dev/null 2>&1 && fail "temporary files are left"
[ "$(value epochs last.out)" = $epochs ] || fail "the last run did not reach epoch $epochs"
# the whole history equals an uninterrupted run's
[ "$(cut -d, -f1 log.csv | tail -n +2 | tr '\n' ' ')" = "$(seq -s ' ' 1 $epochs) " ] ||
  fail "the CSV does not hold epochs 1..$epochs once each"
run straight --limit 64 --test-limit 100 --epochs $epochs --csv straight.csv --schedule constant
[ "$(cut -d, -f1-5 log.csv)" = "$(cut -d, -f1-5 straight.csv)" ] ||
  fail "the killed and resumed runs' rows differ from an uninterrupted run's"
echo "ok: $epochs epochs over 10 kills, every checkpoint whole"
