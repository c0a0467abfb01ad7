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

# The summary line that ends an epoch: "epoch 3/10  train loss ...". The plain progress
# lines of a run whose output is not a terminal are indented, so they never match.
summary_line='^epoch *[0-9]*/[0-9]*  train loss'

# summaries FILE: how many epochs FILE says have ended.
summaries() {
  grep -c "$summary_line" "$1"
}

# wait_for FILE PID PATTERN WHAT: waits until FILE holds a line matching the grep
# PATTERN, written by the background process PID; fails, saying that WHAT never happened,
# when PID ends first. No clock: a slow build (sanitizers, a loaded machine) only waits
# longer, and ctest's TIMEOUT ends a run that hangs.
wait_for() {
  local file=$1 pid=$2 pattern=$3 what=$4
  until grep -q "$pattern" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -q "$pattern" "$file" 2>/dev/null && return 0 # written just before it ended
      cat "$file"
      fail "$what never happened: the run ended first"
    fi
    sleep 0.05
  done
}

# wait_for_epoch EPOCH FILE PID: waits until the run PID, whose output is FILE, has
# printed the summary line of epoch EPOCH.
wait_for_epoch() {
  wait_for "$2" "$3" "^epoch *$1/[0-9]*  train loss" "the end of epoch $1"
}

# above A B: true when the number A > B.
above() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

# be32 N: N as 4 big-endian bytes
be32() {
  printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))"
  printf "\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"
}

# small_data DIR TRAIN TEST: the first TRAIN training and TEST test images of $data as raw
# IDX files in DIR (quick to read, e.g. under valgrind, where inflating 47 MB is slow).
small_data() {
  local dir=$1 split count file
  mkdir -p "$dir"
  for split in train:$2 t10k:$3; do
    count=${split#*:}
    split=${split%:*}
    for file in images-idx3-ubyte labels-idx1-ubyte; do
      {
        if [ $file = images-idx3-ubyte ]; then
          printf '\000\000\010\003'; be32 "$count"; be32 28; be32 28
        else
          printf '\000\000\010\001'; be32 "$count"
        fi
        local source=$data/$split-$file header=16 size=$((count * 784))
        [ $file = labels-idx1-ubyte ] && header=8 size=$count
        if [ -e "$source" ]; then cat "$source"; else zcat "$source.gz"; fi |
          tail -c +$((header + 1)) | head -c $size
      } >"$dir/$split-$file"
    done
  done
}
