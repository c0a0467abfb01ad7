# common.sh - sourced by the tests of gradtape-train: `. common.sh TRAIN` with TRAIN the
# executable. Gives a scratch folder $work (removed on exit), the data folder $data
# (Fashion-MNIST from Debian's dataset-fashion-mnist, or $GT_TRAIN_DATA) and helpers.
set -u
train=$1
data=${GT_TRAIN_DATA:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

fail() {
  echo "FAIL: $*"
  exit 1
}

# Exits 77 (ctest: skipped) when the data set is not installed.
need_data() {
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
           t10k-labels-idx1-ubyte; do
    if [ ! -e "$data/$f" ] && [ ! -e "$data/$f.gz" ]; then
      echo "SKIP: no $f in $data (Debian: apt-get install dataset-fashion-mnist)"
      exit 77
    fi
  done
}

# run NAME ARGS...: runs the trainer on $data, stdout to NAME.out and stderr to NAME.err;
# fails the test unless it exits 0.
run() {
  local name=$1 status
  shift
  "$train" --data "$data" "$@" >"$name.out" 2>"$name.err"
  status=$?
  if [ $status -ne 0 ]; then
    cat "$name.out" "$name.err"
    fail "$name: gradtape-train $* exited $status"
  fi
}

# value KEY FILE: KEY's value in the last line (key=value pairs) of FILE.
value() {
  tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# results FILE: the last line without the timings, which differ from run to run.
results() {
  tail -n 1 "$1" | sed 's/ train_images_per_s=[^ ]*//; s/ seconds=[^ ]*//'
}

# above A B: true when the number A > B.
above() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}
