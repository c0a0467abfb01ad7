#!/usr/bin/python3
"""Writes tests/data/oracle.txt: outputs and gradients of every op computed by PyTorch in
float64 on random inputs, an oracle independent of gradtape's own finite differences.

Run once with Debian's python3-torch:  /usr/bin/python3 tests/data/make_oracle.py
Format, one record per case:
  case NAME OP N_ARGS ARG...
  input REQUIRES_GRAD NDIM DIM... VALUE...      (one line per input)
  upstream NDIM DIM... VALUE...                 (the gradient fed into backward)
  output NDIM DIM... VALUE...
  grad INDEX VALUE...                            (one line per input that requires grad)
  end
"""
import os
import torch
import torch.nn.functional as F

torch.manual_seed(20261122)
D = torch.float64


def normal(*shape):
    return torch.randn(*shape, dtype=D)


def positive(*shape):
    return torch.rand(*shape, dtype=D) * 1.5 + 0.5


def spread(*shape):
    n = 1
    for s in shape:
        n *= s
    values = (torch.arange(n, dtype=D) - n // 2) * 0.05 + 0.025
    return values[torch.randperm(n)].reshape(*shape)


def classes(n, k):
    return torch.randint(0, k, (n,)).to(D)


def probs(n, k):
    p = torch.rand(n, k, dtype=D)
    return p / p.sum(1, keepdim=True)


# name, op (gradtape table name), args, inputs as (tensor, requires_grad), torch function
CASES = [
    ("matmul", "matmul", [], [(normal(3, 4), 1), (normal(4, 5), 1)], lambda a, b: a @ b),
    ("matmul batched", "matmul", [], [(normal(2, 3, 4), 1), (normal(2, 4, 2), 1)],
     lambda a, b: a @ b),
    ("matmul shared", "matmul", [], [(normal(2, 3, 4), 1), (normal(4, 2), 1)],
     lambda a, b: a @ b),
    ("linear", "linear", [], [(normal(4, 6), 1), (normal(3, 6), 1), (normal(3), 1)], F.linear),
    ("add broadcast", "add", [], [(normal(4, 1, 3), 1), (normal(2, 1), 1)],
     lambda a, b: a + b),
    ("sub", "sub", [], [(normal(3), 1), (normal(2, 3), 1)], lambda a, b: a - b),
    ("mul", "mul", [], [(normal(2, 3), 1), (normal(2, 3), 1)], lambda a, b: a * b),
    ("div", "div", [], [(normal(2, 3), 1), (positive(3), 1)], lambda a, b: a / b),
    ("neg", "neg", [], [(normal(5), 1)], lambda x: -x),
    ("scale", "scale", [0.75], [(normal(2, 2), 1)], lambda x: x * 0.75),
    ("relu", "relu", [], [(spread(3, 4), 1)], F.relu),
    ("sigmoid", "sigmoid", [], [(normal(6) * 4, 1)], torch.sigmoid),
    ("tanh", "tanh", [], [(normal(6) * 2, 1)], torch.tanh),
    ("exp", "exp", [], [(normal(4), 1)], torch.exp),
    ("log", "log", [], [(positive(4), 1)], torch.log),
    ("softmax", "softmax", [], [(normal(3, 5) * 3, 1)], lambda x: F.softmax(x, -1)),
    ("log_softmax", "log_softmax", [], [(normal(2, 2, 4) * 3, 1)],
     lambda x: F.log_softmax(x, -1)),
    ("sum all", "sum", [], [(normal(3, 4), 1)], lambda x: x.sum()),
    ("sum axis 1", "sum", [1], [(normal(2, 3, 4), 1)], lambda x: x.sum(1)),
    ("mean all", "mean", [], [(normal(3, 4), 1)], lambda x: x.mean()),
    ("mean axis -1", "mean", [-1], [(normal(2, 5), 1)], lambda x: x.mean(-1)),
    ("reshape", "reshape", [4, 3], [(normal(2, 6), 1)], lambda x: x.reshape(4, 3)),
    ("flatten", "flatten", [1], [(normal(2, 3, 2, 2), 1)], lambda x: torch.flatten(x, 1)),
    ("transpose", "transpose", [], [(normal(3, 2), 1)], lambda x: x.t()),
    ("conv2d", "conv2d", [1, 0], [(normal(2, 2, 5, 5), 1), (normal(3, 2, 3, 3), 1),
                                  (normal(3), 1)],
     lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=0)),
    ("conv2d stride 2 pad 1", "conv2d", [2, 1],
     [(normal(2, 3, 7, 6), 1), (normal(4, 3, 3, 3), 1), (normal(4), 1)],
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)),
    ("conv2d no bias pad 2", "conv2d", [1, 2], [(normal(1, 1, 6, 5), 1),
                                                (normal(2, 1, 5, 5), 1)],
     lambda x, w: F.conv2d(x, w, None, stride=1, padding=2)),
    ("maxpool2d", "maxpool2d", [2, 2], [(spread(2, 3, 4, 6), 1)],
     lambda x: F.max_pool2d(x, 2, 2)),
    ("maxpool2d overlapping", "maxpool2d", [3, 1], [(spread(1, 2, 5, 5), 1)],
     lambda x: F.max_pool2d(x, 3, 1)),
    ("avgpool2d", "avgpool2d", [2, 2], [(normal(2, 2, 4, 4), 1)],
     lambda x: F.avg_pool2d(x, 2, 2)),
    ("avgpool2d overlapping", "avgpool2d", [3, 2], [(normal(1, 2, 7, 5), 1)],
     lambda x: F.avg_pool2d(x, 3, 2)),
    ("cross_entropy indices", "cross_entropy", [], [(normal(5, 4) * 3, 1), (classes(5, 4), 0)],
     lambda x, t: F.cross_entropy(x, t.long())),
    ("cross_entropy probabilities", "cross_entropy", [],
     [(normal(3, 4) * 3, 1), (probs(3, 4), 0)], lambda x, t: F.cross_entropy(x, t)),
    ("cross_entropy large logits", "cross_entropy", [],
     [(torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=D), 1),
      (torch.tensor([1.0, 0.0], dtype=D), 0)], lambda x, t: F.cross_entropy(x, t.long())),
    ("mse_loss", "mse_loss", [], [(normal(3, 4), 1), (normal(3, 4), 1)], F.mse_loss),
]


def fmt(t):
    t = t.detach().reshape(-1)
    return " ".join(repr(float(v)) for v in t)


def shape(t):
    return " ".join([str(t.dim())] + [str(s) for s in t.shape])


def main():
    out = []
    for name, op, args, inputs, fn in CASES:
        leaves = [t.clone().requires_grad_(bool(rg)) for t, rg in inputs]
        y = fn(*leaves)
        upstream = torch.randn(y.shape, dtype=D)
        y.backward(upstream)
        out.append("case %s %s %d %s" % (name.replace(" ", "_"), op, len(args),
                                          " ".join(repr(float(a)) for a in args)))
        for (t, rg) in inputs:
            out.append("input %d %s %s" % (rg, shape(t), fmt(t)))
        out.append("upstream %s %s" % (shape(upstream), fmt(upstream)))
        out.append("output %s %s" % (shape(y), fmt(y)))
        for i, leaf in enumerate(leaves):
            if leaf.requires_grad:
                out.append("grad %d %s" % (i, fmt(leaf.grad)))
        out.append("end")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle.txt")
    with open(path, "w") as f:
        f.write("# generated by make_oracle.py with torch %s; do not edit\n" % torch.__version__)
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
