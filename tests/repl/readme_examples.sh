#!/bin/sh
# readme_examples.sh GRADTAPE README.md - every ```python block of the REPL's README runs
# without an error (each line there is an example a reader may type).
set -u
gradtape=$1
readme=$2
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
awk '$0 == "```python" { on = 1; next } on && $0 == "```" { on = 0 } on' "$readme" >"$work/examples.gt"
[ -s "$work/examples.gt" ] || { echo "FAIL: no python blocks in $readme"; exit 1; }
cd "$work" || exit 1
if ! "$gradtape" examples.gt >stdout 2>stderr || [ -s stderr ]; then
  cat stderr
  echo "FAIL: an example of the README does not run"
  exit 1
fi
echo "the README's $(wc -l <examples.gt) example lines run"
