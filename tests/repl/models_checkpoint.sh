#!/bin/sh
# models_checkpoint.sh GRADTAPE TRAIN - the REPL and gradtape-train read each other's model
# checkpoints: a model gradtape-train saved gives, through load_model() and m(x), the test
# accuracy gradtape-train reported; a model save_model() wrote gives, under
# gradtape-train --eval --load, the accuracy the REPL computes. Skipped (77) without
# Fashion-MNIST.
set -u
gradtape=$1
train=$2
data=${GT_TRAIN_DATA:-/usr/share/datasets/fashion-mnist}
[ -e "$data/t10k-images-idx3-ubyte.gz" ] || [ -e "$data/t10k-images-idx3-ubyte" ] || {
  echo "SKIP: no Fashion-MNIST in $data"
  exit 77
}
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() {
  echo "FAIL: $*"
  exit 1
}
value() { tail -n 1 "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# gradtape-train -> load_model
"$train" --data "$data" --limit 300 --test-limit 500 --epochs 1 \
  --model "Conv2d(4, 5) ReLU MaxPool2d(2) Flatten Linear(10)" --save trained.gtc \
  >trained.out 2>&1 || { cat trained.out; fail "gradtape-train exited $?"; }
cat >load.gt <<GT
m = load_model("trained.gtc")
d = fashion_mnist("test", limit=500, path="$data")
print(f"{item(mean(eq(argmax(m(d[0]), dim=1), d[1]))):.4f}")
GT
"$gradtape" load.gt >load.out 2>&1 || { cat load.out; fail "load_model failed"; }
[ "$(cat load.out)" = "$(value test_accuracy trained.out)" ] ||
  fail "load_model: accuracy $(cat load.out), gradtape-train said $(value test_accuracy trained.out)"

# save_model -> gradtape-train --eval --load
cat >save.gt <<GT
seed(3)
m = mlp(784, 32, 10)
save_model(m, "repl.gtc")
d = fashion_mnist("test", limit=500, path="$data")
print(f"{item(mean(eq(argmax(m(d[0]), dim=1), d[1]))):.4f}")
GT
"$gradtape" save.gt >save.out 2>&1 || { cat save.out; fail "save_model failed"; }
"$train" --data "$data" --eval --load repl.gtc --test-limit 500 >eval.out 2>&1 ||
  { cat eval.out; fail "gradtape-train --eval --load of save_model's file exited $?"; }
[ "$(cat save.out)" = "$(value test_accuracy eval.out)" ] ||
  fail "save_model: accuracy $(cat save.out) in the REPL, $(value test_accuracy eval.out) in gradtape-train"
echo "ok: load_model and save_model agree with gradtape-train ($(cat load.out), $(cat save.out))"
