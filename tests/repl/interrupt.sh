#!/bin/sh
# interrupt.sh GRADTAPE - Ctrl-C (SIGINT) stops a running `while 1:` loop with a message and
# the script goes on (-k) with the names as the last completed statement left them; then
# a function recursing in a loop is stopped the same way. The signal is sent only after the
# loop has printed that it runs (no sleeping on luck). One wall-clock bound on the whole
# test, below ctest's TIMEOUT (120 s), turns a hang into a failure that shows the output.
set -u
gradtape=$1
fail() { echo "FAIL: $*"; cat "$work/out" "$work/err" 2>/dev/null; exit 1; }
work=$(mktemp -d) || exit 1
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cat >"$work/loop.gt" <<'GT'
n = 0
while 1:
    n = n + 1
    if n == 1000:
        print("looping", flush=True)
print("after the loop")
n > 1000
def spin(k):
    while True:
        k = k + 1
        if k == 10:
            print("spinning", flush=True)
spin(0)
print("after the function")
GT
limit=90
deadline=$(($(date +%s) + limit))
"$gradtape" -k "$work/loop.gt" >"$work/out" 2>"$work/err" &
pid=$!
# waits until the output holds the line $1, then sends SIGINT
interrupt_after() {
  until grep -q "^$1\$" "$work/out"; do
    kill -0 $pid 2>/dev/null || fail "gradtape ended before '$1'"
    [ "$(date +%s)" -lt "$deadline" ] || fail "no '$1' line within $limit s"
    sleep 0.1
  done
  kill -INT $pid
}
interrupt_after looping
interrupt_after spinning
while kill -0 $pid 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "gradtape still runs $limit s after it started"
  sleep 0.1
done
wait $pid
status=$?
[ $status -eq 1 ] || fail "exit status $status, not 1 (statements were interrupted)"
grep -q "^after the loop\$" "$work/out" || fail "the script did not go on after the loop"
grep -q "^True\$" "$work/out" || fail "n did not keep the value the loop gave it"
grep -q "^after the function\$" "$work/out" || fail "the script did not go on after spin()"
grep -q "loop.gt:[2-5]:[0-9]*: interrupted (Ctrl-C)$" "$work/err" || fail "no interrupt message in the loop"
grep -q "interrupted (Ctrl-C) (call chain: line 13 spin())\$" "$work/err" ||
  fail "no interrupt message with the call chain"
echo "ok: Ctrl-C stops a while 1 loop and a looping function; the session goes on"
