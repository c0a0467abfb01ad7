#!/bin/bash
# csv_plot.sh TRAIN - --csv writes a header and one row per epoch, whose numbers are those
# of the epoch lines; a resumed run keeps the rows of the epochs before it. --plot writes a
# PNG through gnuplot (skipped when gnuplot is not installed); without gnuplot on the PATH
# --plot is refused before training, with a message saying how to install it.
. "$(dirname "$0")/common.sh"
need_data
run first --limit 1000 --test-limit 500 --epochs 2 --csv log.csv --save m.gtc
cat log.csv
[ "$(head -n 1 log.csv)" = \
  "epoch,train_loss,train_accuracy,test_loss,test_accuracy,images_per_s,seconds" ] ||
  fail "the CSV header is wrong"
[ "$(wc -l <log.csv)" -eq 3 ] || fail "not a header and 2 rows"
[ "$(sed -n '3p' log.csv | cut -d, -f1)" = 2 ] || fail "row 2 is not epoch 2"
# the last row's test accuracy is the last line's
csv_accuracy=$(sed -n '3p' log.csv | cut -d, -f5)
awk -v a="$csv_accuracy" -v b="$(value test_accuracy first.out)" \
  'BEGIN { d = a - b; exit !(d < 0.00005 && d > -0.00005) }' ||
  fail "CSV test accuracy $csv_accuracy is not the last line's"
# resumed: rows 1 and 2 kept, row 3 added
run resumed --load m.gtc --epochs 3 --test-limit 500 --csv log.csv
[ "$(wc -l <log.csv)" -eq 4 ] || fail "the resumed run did not keep rows 1-2 and add row 3"
[ "$(cut -d, -f1 log.csv | tr '\n' ' ')" = "epoch 1 2 3 " ] || fail "rows are not epochs 1 2 3"
ls log.csv.tmp.* >/dev/null 2>&1 && fail "a temporary CSV file was left behind"

# without gnuplot on the PATH: refused before training
PATH=$work/empty-path "$train" --data "$data" --limit 100 --plot curves.png >nognu.out 2>nognu.err
status=$?
cat nognu.err
[ $status -eq 1 ] || fail "--plot without gnuplot exited $status, not 1"
grep -q "gnuplot is not installed" nognu.err || fail "no message about gnuplot"
grep -q '^epoch ' nognu.out && fail "trained although the plot cannot be drawn"

if ! command -v gnuplot >/dev/null 2>&1; then
  echo "SKIP: gnuplot is not installed (Debian: gnuplot-nox); the CSV checks passed"
  exit 77
fi
run plot --limit 1000 --test-limit 500 --epochs 2 --plot "curves 'one'.png"
file "curves 'one'.png"
file "curves 'one'.png" | grep -q "PNG image data" || fail "--plot did not write a PNG"
ls ./*.tmp.* >/dev/null 2>&1 && fail "a temporary plot file was left behind"
echo "ok: CSV rows and PNG plot"
