#!/bin/sh
# run_golden.sh GRADTAPE SCRIPT.gt - runs a script in a scratch directory and compares its
# stdout, stderr and exit status with SCRIPT.out. A first line "# run: -k" passes -k;
# "# run: stdin" feeds the script on standard input; a line "# env: NAME=VALUE" sets that
# variable for the run; "# needs: PATH" skips the test (exit 77) when PATH does not exist
# (a data set). "time: N ms" lines are normalised.
# With UPDATE=1 the .out file is rewritten instead. GT_RUN_PREFIX, when set, is a command
# that runs gradtape (run_valgrind.sh sets it to valgrind and its options).
set -u
gradtape=$1
script=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
expected=${script%.gt}.out
name=$(basename "$script")
need=$(sed -n 's/^# needs: //p' "$script")
if [ -n "$need" ] && [ ! -e "$need" ]; then
  echo "SKIP: $name needs $need"
  exit 77
fi
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cp "$script" "$work/$name"
mode=$(sed -n '1s/^# run: //p' "$script")
setting=$(sed -n 's/^# env: //p' "$script")
[ -n "$setting" ] && export "$setting"
cd "$work" || exit 1
prefix=${GT_RUN_PREFIX:-}
case $mode in
  -k) $prefix "$gradtape" -k "$name" >stdout 2>stderr; status=$? ;;
  stdin) $prefix "$gradtape" <"$name" >stdout 2>stderr; status=$? ;;
  *) $prefix "$gradtape" "$name" >stdout 2>stderr; status=$? ;;
esac
{
  sed 's/^time: [0-9.]* ms$/time: N ms/' stdout
  echo "--- stderr"
  grep -v "^==[0-9]*==WARNING: AddressSanitizer failed to allocate" stderr
  echo "--- exit $status"
} >actual
if [ "${UPDATE:-0}" = 1 ]; then
  cp actual "$expected"
  exit 0
fi
if ! diff -u "$expected" actual; then
  echo "FAIL: $name differs from $(basename "$expected") (UPDATE=1 rewrites it)"
  exit 1
fi
