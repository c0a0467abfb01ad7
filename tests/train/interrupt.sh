#!/bin/bash
# interrupt.sh TRAIN - SIGINT (Ctrl-C) or SIGTERM stops training after the step in
# progress, with a message saying which epoch the checkpoint keeps and how to resume, and
# exit status 128 + the signal; the checkpoint loads, and resuming from it finishes the run.
. "$(dirname "$0")/common.sh"
need_data
for signal in INT TERM; do
  rm -f ck.gtc
  "$train" --data "$data" --limit 2000 --test-limit 200 --epochs 1000 --save ck.gtc \
    >$signal.out 2>$signal.err &
  pid=$!
  wait_for_epoch 2 $signal.out $pid # the signal comes during epoch 2's save or after it
  kill -$signal $pid
  wait $pid
  status=$?
  cat $signal.err
  want=$((128 + $(kill -l $signal)))
  [ $status -eq $want ] || fail "SIG$signal: exit status $status, not $want"
  epoch=$(summaries $signal.out)
  grep -q "in epoch $((epoch + 1)): training stopped; ck.gtc keeps epoch $epoch: resume with --load ck.gtc" \
    $signal.err || fail "SIG$signal: the message does not name the epoch and the checkpoint"
  run eval-$signal --eval --load ck.gtc --test-limit 200
  [ "$(value epochs eval-$signal.out)" = "$epoch" ] || fail "SIG$signal: the checkpoint is not epoch $epoch"
  ls ck.gtc.tmp.* >/dev/null 2>&1 && fail "SIG$signal: a temporary file was left"
done
run resumed --load ck.gtc --epochs $((epoch + 1)) --test-limit 200
echo "ok: interrupted runs stop cleanly and resume"
