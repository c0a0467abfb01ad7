#!/usr/bin/python3
"""Writes tests/data/oracle.txt: for every valid case of gradtape's op table, the output and
the gradients that PyTorch computes in float64 on random inputs: an oracle independent of
gradtape's own finite differences. The cases come from the table itself
(`gradtape-ops --cases`), and each op runs under its PyTorch name with its keywords, so a
name or an argument that differs from PyTorch's shows up here.

Run with Debian's python3-torch after building:
    /usr/bin/python3 tests/data/make_oracle.py [build/tools/gradtape-ops]
Format, one record per case:
  case OP
  text CASE TEXT                                 (the case as written in the table)
  input REQUIRES_GRAD NDIM DIM... VALUE...       (one line per input; "input none" if absent)
  upstream NDIM DIM... VALUE...                  (the gradient fed into backward)
  output NDIM DIM... VALUE...
  grad INDEX VALUE...                            (one line per input that requires grad)
  end
"""
import os
import subprocess
import sys
import zlib

import torch
import torch.nn.functional as F

torch.manual_seed(20261206)
D = torch.float64


def draw(shape, domain, first):
    n = 1
    for s in shape:
        n *= s
    if domain == "normal":
        return torch.randn(shape, dtype=D)
    if domain == "positive":
        return torch.rand(shape, dtype=D) * 1.5 + 0.5
    if domain == "spread":
        values = (torch.arange(n, dtype=D) - n // 2) * 0.05 + 0.025
        return values[torch.randperm(n)].reshape(shape)
    if domain == "classes":
        classes = first.shape[1] if first.dim() >= 2 else first.shape[0]
        return torch.randint(0, classes, shape).to(D)
    if domain == "mask":  # as many ones as zeros (give or take one), shuffled
        return (torch.arange(n) % 2).to(D)[torch.randperm(n)].reshape(shape)
    if domain.startswith("index"):  # "index5": whole numbers 0..4
        return torch.randint(0, int(domain[5:]), shape).to(D)
    if domain == "probs":
        p = torch.rand(shape, dtype=D)
        return p / p.sum(-1, keepdim=True)
    raise ValueError("no domain " + domain)


def reduce(fn):
    def run(x, dim=None, keepdim=False):
        if dim is None:
            dim = tuple(range(x.dim()))
            if not dim:
                return fn(x)
        return fn(x, dim, keepdim=keepdim)
    return run


def transpose(x, dim0=None, dim1=None):
    return x.t() if dim0 is None else torch.transpose(x, dim0, dim1)


def ones_if_bias(x, weight, bias):
    """torch 1.13's group_norm backward fails without a weight but with a bias: a weight of
    ones (no gradient) is the same map."""
    if weight is None and bias is not None:
        return torch.ones(x.shape[1], dtype=x.dtype)
    return weight
def squeeze(x, dim=None):
    if dim is None:
        return torch.squeeze(x)
    for d in sorted([dim] if isinstance(dim, int) else
                    [d % max(x.dim(), 1) for d in dim], reverse=True):
        x = torch.squeeze(x, d)  # torch 1.13 takes one dim at a time
    return x


# gradtape's ops whose PyTorch form is not torch.nn.functional.NAME or torch.NAME with the
# same arguments.
SPECIAL = {
    "scale": lambda x, factor=1.0: x * factor,
    "sum": reduce(torch.sum),
    "mean": reduce(torch.mean),
    "transpose": transpose,
    "reshape": lambda x, shape: torch.reshape(x, shape),
    "softmax": lambda x, dim=-1: F.softmax(x, dim),
    "log_softmax": lambda x, dim=-1: F.log_softmax(x, dim),
    "sigmoid": torch.sigmoid,
    "squeeze": squeeze,
    "pad": lambda x, pad, mode="constant", value=None: F.pad(x, pad, mode, value or 0.0),
    "index_select": lambda x, index, dim: torch.index_select(x, dim, index),
    "gather": lambda x, index, dim: torch.gather(x, dim, index),
    "index_add": lambda x, index, source, dim, alpha=1: torch.index_add(
        x, dim, index, source, alpha=alpha),
    "scatter_add": lambda x, index, src, dim: torch.scatter_add(x, dim, index, src),
    "cat": lambda *tensors, dim=0: torch.cat(tensors, dim),
    "stack": lambda *tensors, dim=0: torch.stack(tensors, dim),
    "expand": lambda x, size: x.expand(size),
    "tanh": torch.tanh,
    "amax": reduce(torch.amax),
    "amin": reduce(torch.amin),
    "logsumexp": lambda x, dim=None, keepdim=False: torch.logsumexp(
        x, tuple(range(x.dim())) or 0 if dim is None else dim, keepdim),
    "var": lambda x, dim=None, unbiased=True, keepdim=False, correction=1: torch.var(
        x, dim=dim, correction=correction if unbiased else 0, keepdim=keepdim),
    "std": lambda x, dim=None, unbiased=True, keepdim=False, correction=1: torch.std(
        x, dim=dim, correction=correction if unbiased else 0, keepdim=keepdim),
    "argmax": lambda x, dim=None, keepdim=False: torch.argmax(x.to(D), dim, keepdim),  # masks
    # gradtape's max over every element (dim None) may keep dims, as amax does
    "max": lambda x, dim=None, keepdim=False: (
        torch.amax(x, (), keepdim) if dim is None else torch.max(x, dim, keepdim).values),
    # torch 1.13's hardsigmoid backward scales by 1/6 rounded to float (1.2e-8 off in float64)
    "hardsigmoid": lambda x: F.relu6(x + 3) / 6,
    # an attribute sits between the tensor inputs: the inputs go by keyword
    # (and gradtape also takes an int for normalized_shape, as nn.LayerNorm does)
    "layer_norm": lambda x, weight=None, bias=None, normalized_shape=None, **kw: F.layer_norm(
        x, [normalized_shape] if isinstance(normalized_shape, int) else normalized_shape,
        weight=weight, bias=bias, **kw),
    "binary_cross_entropy_with_logits": lambda x, t, weight=None, pos_weight=None, **kw:
        F.binary_cross_entropy_with_logits(x, t, weight=weight, pos_weight=pos_weight, **kw),
    "conv2d_weight": lambda x, g, weight_size=None, **kw: torch.nn.grad.conv2d_weight(
        x, weight_size, g, **kw),
    "group_norm": lambda x, weight=None, bias=None, **kw: F.group_norm(
        x, weight=ones_if_bias(x, weight, bias), bias=bias, **kw),
}


def torch_op(name):
    if name in SPECIAL:
        return SPECIAL[name]
    return getattr(F, name, None) or getattr(torch, name)


def case_attrs(attrs):
    """A case's attribute text ("dim=1, keepdim=True") as keyword arguments."""
    return eval("dict(%s)" % attrs) if attrs.strip() else {}


def case_inputs(specs, dtype=D):
    """A case's inputs from their specs ("SHAPE:DOMAIN:GRAD" or "_", as gradtape-ops
    --cases prints them): [(values in float64 or None, grad, domain)], and the leaves the
    PyTorch function takes (index tensors as long, masks as bool, the rest in dtype and
    requiring a gradient as the spec says). bench/compare_pytorch.py --ops uses it too."""
    inputs = []
    for spec in specs:
        if spec == "_":
            inputs.append((None, 0, None))
            continue
        shape_text, domain, grad = spec.split(":")
        shape = [] if shape_text == "()" else [int(s) for s in shape_text.split("x")]
        first = inputs[0][0] if inputs else None
        inputs.append((draw(shape, domain, first), int(grad), domain))
    leaves = []
    for t, grad, domain in inputs:
        if t is None:
            leaves.append(None)
        elif domain == "classes" or domain.startswith("index"):
            leaves.append(t.long())
        elif domain == "mask":
            leaves.append(t.bool())
        else:
            leaves.append(t.to(dtype, copy=True).requires_grad_(bool(grad)))
    return inputs, leaves


def fmt(t):
    return " ".join(repr(float(v)) for v in t.detach().reshape(-1))


def shape_of(t):
    return " ".join([str(t.dim())] + [str(s) for s in t.shape])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "..", "build", "tools", "gradtape-ops")
    lines = subprocess.run([tool, "--cases"], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    out = []
    for line in lines:
        fields = line.split("\t")
        op, text, attrs, specs = fields[0], fields[1], fields[2], fields[3:]
        kwargs = case_attrs(attrs)
        # each case's own seed: a case added to the table changes no other case's inputs
        torch.manual_seed(zlib.crc32(("%s|%s" % (op, text)).encode()))
        inputs, leaves = case_inputs(specs)
        y = torch_op(op)(*leaves, **kwargs)
        upstream = torch.randn(y.shape, dtype=D)
        if y.requires_grad:  # ops without a gradient (comparisons) have no backward
            y.backward(upstream)
        out.append("case %s" % op)
        out.append("text %s" % text)
        for t, grad, _ in inputs:
            out.append("input none" if t is None else
                       "input %d %s %s" % (grad, shape_of(t), fmt(t)))
        out.append("upstream %s %s" % (shape_of(upstream), fmt(upstream)))
        out.append("output %s %s" % (shape_of(y), fmt(y)))
        for i, leaf in enumerate(leaves):
            if leaf is not None and leaf.grad is not None:
                out.append("grad %d %s" % (i, fmt(leaf.grad)))
        out.append("end")
    with open(os.path.join(here, "oracle.txt"), "w") as f:
        f.write("# generated by make_oracle.py with torch %s; do not edit\n" % torch.__version__)
        f.write("\n".join(out) + "\n")
    print("oracle.txt: %d cases" % len(lines))


if __name__ == "__main__":
    main()
