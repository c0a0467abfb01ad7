#!/bin/sh
# graph_render.sh GRADTAPE - :graph NAME FILE.png / FILE.svg draw the graph with Graphviz's
# dot when it is installed (checked by the files' contents), and without dot on PATH say so
# and write nothing; :profile show prints a row for every op of the step.
set -u
gradtape=$1
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

cat >step.gt <<'GT'
w = param(randn(3, 4))
x = rand(2, 3)
:profile on
loss = mean(relu(x @ w) * 2)
GRAPH
backward(loss)
:profile off
:profile show
GT

# without dot: a clear error, no file; the profile is printed before it
sed 's/^GRAPH$/:graph loss nodot.png/' step.gt >nodot.gt
PATH=/nonexistent "$gradtape" nodot.gt >nodot.out 2>nodot.err && fail "no dot: the script passed"
grep -q "needs Graphviz's dot" nodot.err || fail "no dot: $(cat nodot.err)"
[ ! -e nodot.png ] || fail "no dot: nodot.png was written"

# :profile show, where nothing fails
sed 's/^GRAPH$//' step.gt >profile.gt
"$gradtape" profile.gt >profile.out 2>profile.err || fail "profile: $(cat profile.err)"
for op in matmul relu mul mean total; do
  grep -q "^$op " profile.out || fail ":profile show has no row $op: $(cat profile.out)"
done
grep -Eq "^relu +1 +[0-9.]+ +1 " profile.out || fail ":profile show: relu ran once each way"

if ! command -v dot >/dev/null 2>&1; then
  echo "dot (Debian: graphviz) is not installed: drawing not checked"
  exit 0
fi
sed 's/^GRAPH$/:graph loss graph.png\n:graph loss graph.svg/' step.gt >draw.gt
"$gradtape" draw.gt >draw.out 2>draw.err || fail "drawing: $(cat draw.err)"
[ "$(head -c 8 graph.png | od -An -c | tr -d ' ')" = "211PNG\r\n032\n" ] ||
  fail "graph.png is not a PNG"
grep -q "<svg" graph.svg || fail "graph.svg is not an SVG"
grep -q "matmul" graph.svg || fail "graph.svg does not show matmul"
echo "graph_render: ok"
