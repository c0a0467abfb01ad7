#!/bin/sh
# long_lines.sh GRADTAPE - a line just under 1 MB works; a longer one is refused cleanly;
# lines of random bytes never crash the interpreter (exit status 0 or 1, never a signal).
set -u
gradtape=$1
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# x = [1, 1, ..., 1] with 340000 elements: about 1 MB, under the limit
awk 'BEGIN { printf "x = ["; for (i = 1; i < 340000; i++) printf "1, "; print "1]";
             print "sum(x)" }' >"$work/big.gt"
out=$("$gradtape" "$work/big.gt" 2>&1) || fail "a 1 MB line failed: $out"
[ "$out" = "tensor(3.4e+05, shape=[])" ] || fail "a 1 MB line gave: $out"

# a 2 MB line is refused with a message, and the next line still runs with -k
awk 'BEGIN { printf "x = \""; for (i = 0; i < 2097152; i++) printf "a"; print "\"";
             print "1 + 1" }' >"$work/huge.gt"
out=$("$gradtape" -k "$work/huge.gt" 2>&1)
status=$?
[ $status -eq 1 ] || fail "a 2 MB line: exit status $status"
expected="$work/huge.gt:1:1: line longer than 1048576 bytes: refused
2"
[ "$out" = "$expected" ] || fail "a 2 MB line gave: $out"

# random bytes, one seed: no crash
awk 'BEGIN { srand(7); for (l = 0; l < 3000; l++) { n = int(rand() * 60);
             s = ""; for (i = 0; i < n; i++) s = s sprintf("%c", 32 + int(rand() * 95));
             print s } }' >"$work/noise.gt"
"$gradtape" -k "$work/noise.gt" >/dev/null 2>&1
status=$?
[ $status -le 1 ] || fail "random lines: exit status $status"

# random lines made of the language's own tokens: no crash either
awk 'BEGIN { srand(11); split("x w ( ) [ ] , + - * / @ = 1 2.5 \"s\" sum( relu( " \
             "param( zeros( backward( grad( gradcheck( conv2d( reshape( :vars", t, " ");
             print "x = ones(2, 2)"; print "w = param(ones(2, 2))";
             for (l = 0; l < 3000; l++) { n = 1 + int(rand() * 12); s = "";
               for (i = 0; i < n; i++) s = s t[1 + int(rand() * 29)] " "; print s } }' \
    >"$work/tokens.gt"
"$gradtape" -k "$work/tokens.gt" >/dev/null 2>&1
status=$?
[ $status -le 1 ] || fail "random token lines: exit status $status"
echo "long lines and random input: ok"
