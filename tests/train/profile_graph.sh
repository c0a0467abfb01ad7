#!/bin/bash
# profile_graph.sh TRAIN - --profile N prints a table of steps 2..N+1 by op name (every op of
# LeNet-5 forward and backward, N calls each per use, sorted by time) and training goes on
# to the usual last line; --graph FILE.dot writes the first step's graph with the
# parameters named; both are refused with --eval.
. "$(dirname "$0")/common.sh"
need_data
run lenet --model lenet --limit 320 --batch 32 --epochs 1 --test-limit 100 --profile 4 \
  --graph lenet.dot
cat lenet.out lenet.err # a failing check below then shows why (e.g. the profiler could not start)
grep -q "^profile of 4 training steps (steps 2 to 5, batch 32):" lenet.out ||
  fail "no profile header"
# LeNet-5 runs conv2d 3 times a step, forward and backward: 12 calls each in 4 steps
grep -Eq "^conv2d +12 +[0-9.]+ +12 " lenet.out || fail "conv2d is not 12 calls each way"
grep -Eq "^cross_entropy +4 +[0-9.]+ +4 " lenet.out || fail "cross_entropy is not 4 each way"
for op in max_pool2d tanh linear flatten total; do
  grep -q "^$op " lenet.out || fail "no row for $op"
done
# rows sorted by total time (column 6)
awk '/^op /{on=1; next} /^total /{on=0} on {print $6}' lenet.out | sort -rnc ||
  fail "rows are not sorted by total time"
grep -q "^test_accuracy=" <(tail -n 1 lenet.out) || fail "the last line is not the results"
grep -q 'label="c1.weight\\n\[6, 1, 5, 5\]\\nrequires grad"' lenet.dot ||
  fail "the graph does not name c1.weight"
grep -q 'label="images\\n\[32, 1, 28, 28\]\\nno grad"' lenet.dot || fail "no images leaf"
[ "$(grep -c 'label="conv2d' lenet.dot)" -eq 3 ] || fail "not 3 conv2d ops in the graph"
if command -v dot >/dev/null 2>&1; then
  dot -Tsvg lenet.dot -o lenet.svg || fail "dot cannot read the graph"
fi

"$train" --data "$data" --eval --load nothing.gtc --profile 3 >eval.out 2>eval.err &&
  fail "--profile with --eval was accepted"
grep -q -- "--profile looks at training steps" eval.err || fail "$(cat eval.err)"
echo "profile_graph: ok"
