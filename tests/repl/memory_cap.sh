#!/bin/sh
# memory_cap.sh GRADTAPE - a tensor of nine tenths of this machine's memory, which Linux
# would grant and then kill the session for touching, is refused like any allocation that
# fails; the session keeps what it held and goes on.
set -u
gradtape=$1
fail() { echo "FAIL: $*"; exit 1; }
kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2>/dev/null)
[ -n "$kib" ] || { echo "SKIP: no /proc/meminfo"; exit 77; }
rows=$((kib / 4 * 9 / 10)) # rows of 1024 floats (4 KiB): 0.9 x MemTotal
out=$(printf 'y = ones(2)\nx = zeros(%s, 1024)\n:vars\n' "$rows" | "$gradtape" -k 2>&1)
status=$?
echo "$out"
[ $status -eq 1 ] || fail "exit status $status, not 1 (a line failed)"
echo "$out" | grep -q "<stdin>:2:5: tensor: cannot allocate" || fail "no allocation error on line 2"
echo "$out" | grep -q "^  y  *tensor \[2\]" || fail "the session lost y"
echo "$out" | grep -q "^  x " && fail "x was made"
echo "ok: a tensor of 0.9 x the machine's memory is refused and the session goes on"
