#!/bin/sh
# plot_png.sh GRADTAPE - plot(..., file="NAME.png") draws a PNG through gnuplot: without
# gnuplot on the PATH a clear error and no file; with it a PNG (checked by its signature)
# that replaces an older file whole, no temporary file left beside it. Exit 77 (skipped)
# when gnuplot is not installed, after the check without it.
set -u
gradtape=$1
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

cat >curve.gt <<'GT'
losses = []
for i in range(100):
    losses.append(1 / (i + 1))
plot(losses, file="loss.png", title="loss")
plot([0, 1, 2], [3, 1, 2], file="xy.png")
GT

# without gnuplot: a clear error, no file
PATH=/nonexistent "$gradtape" curve.gt >nognu.out 2>nognu.err && fail "no gnuplot: the script passed"
grep -q "plot: gnuplot is not installed" nognu.err || fail "no gnuplot: $(cat nognu.err)"
[ ! -e loss.png ] || fail "no gnuplot: loss.png was written"

if ! command -v gnuplot >/dev/null 2>&1; then
  echo "gnuplot (Debian: gnuplot-nox) is not installed: drawing not checked"
  exit 77
fi
echo "an old file" >loss.png
"$gradtape" curve.gt >out 2>err || fail "plot: $(cat err)"
for f in loss.png xy.png; do
  [ "$(head -c 8 $f | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$f is not a PNG"
done
ls loss.png.tmp* xy.png.tmp* >/dev/null 2>&1 && fail "a temporary file was left behind"
# a folder that does not exist: an error naming the file, nothing else changes
echo 'plot([1, 2], file="nosuch/loss.png")' >bad.gt
"$gradtape" bad.gt >bad.out 2>bad.err && fail "a missing folder: the script passed"
grep -q "nosuch/loss.png" bad.err || fail "a missing folder: $(cat bad.err)"
echo "plot PNGs drawn"
