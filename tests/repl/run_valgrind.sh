#!/bin/sh
# run_valgrind.sh GRADTAPE SCRIPT.gt - run_golden.sh with gradtape under valgrind's memcheck
# (--leak-check=full --error-exitcode=1): the script must still print its golden output, and
# valgrind must report nothing, neither an invalid access nor a leak. A script that exits 1
# on purpose would hide valgrind's exit status, so its report (-q: errors only) is read too.
# tests/valgrind.supp holds suppressions for what is not gradtape's to free (none today).
# Exits 77 (skipped) when valgrind is not installed.
set -u
if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind is not installed: skipped"
  exit 77
fi
logs=$(mktemp -d) || exit 1
trap 'rm -rf "$logs"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
GT_RUN_PREFIX="valgrind -q --tool=memcheck --leak-check=full --error-exitcode=1 \
--suppressions=$here/../valgrind.supp --log-file=$logs/valgrind.%p" \
  sh "$here/run_golden.sh" "$1" "$2"
status=$?
for log in "$logs"/valgrind.*; do
  if [ -s "$log" ]; then
    echo "FAIL: valgrind reported on $(basename "$2"):"
    cat "$log"
    status=1
  fi
done
exit $status
