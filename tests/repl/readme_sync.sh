#!/bin/sh
# readme_sync.sh README.md readme.gt readme.out - the session in the README is the golden
# test verbatim: its ```gradtape block is readme.gt and its ```text block is its stdout.
set -u
readme=$1
script=$2
expected=$3
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
block() {
  awk -v tag="$1" '$0 == "```" tag { on = 1; next } on && $0 == "```" { exit } on' "$readme"
}
block gradtape >"$work/script"
block text >"$work/output"
sed -n '/^--- stderr$/q;p' "$expected" >"$work/expected"
diff -u "$script" "$work/script" || { echo "FAIL: README's session differs from $script"; exit 1; }
diff -u "$work/expected" "$work/output" || { echo "FAIL: README's output differs"; exit 1; }
echo "README session matches $script"
