#!/bin/sh
# readme_example_sync.sh README EXAMPLE - the C block of README's "A first program" is
# EXAMPLE without its first line (the file's own comment), so the example people read is
# the one the suite builds and runs.
readme=$1
example=$2
shown=$(awk '/^## A first program/ { in_section = 1 } in_section && /^```c$/ { in_block = 1; next }
             in_block && /^```$/ { exit } in_block { print }' "$readme")
built=$(tail -n +2 "$example")
if [ "$shown" != "$built" ]; then
  echo "FAIL: README's first program differs from $example (without its first line):"
  printf '%s\n' "$built" > /tmp/readme_example_built.$$
  printf '%s\n' "$shown" | diff - /tmp/readme_example_built.$$
  rm -f /tmp/readme_example_built.$$
  exit 1
fi
echo "ok: README shows $example"
