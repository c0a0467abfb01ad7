#!/usr/bin/python3
"""make_modules_oracle.py - weights trained in PyTorch, for tests/test_module.c: the model of

    SPEC = "Conv2d(4, 3, padding=1) ReLU MaxPool2d(2) Conv2d(6, 3, bias=False) Tanh AvgPool2d(2)
            Flatten Linear(16) Sigmoid Linear(5) LogSoftmax(dim=-1)"

on samples of [2, 8, 8], built with torch.nn, trained for 20 SGD steps on random data, then
written as modules/torch_weights.npz (its state_dict, keys "0.weight", "3.weight", ...; with
numpy.savez: members stored uncompressed) and modules/torch_io.npz (an input x
[3, 2, 8, 8] and the model's output on it, "logits" [3, 5], in float64). The C test builds
the same spec, imports the weights and must reproduce the logits. Run once with Debian's
python3-torch: /usr/bin/python3 tests/data/make_modules_oracle.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modules")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(15)

net = nn.Sequential(
    nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3, bias=False), nn.Tanh(), nn.AvgPool2d(2),
    nn.Flatten(), nn.Linear(6, 16), nn.Sigmoid(), nn.Linear(16, 5), nn.LogSoftmax(dim=-1))
opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
for _ in range(20):
    x = torch.randn(8, 2, 8, 8)
    y = torch.randint(0, 5, (8,))
    loss = nn.functional.nll_loss(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()

np.savez(os.path.join(HERE, "torch_weights.npz"),
         **{k: v.detach().numpy() for k, v in net.state_dict().items()})
x = torch.randn(3, 2, 8, 8)
with torch.no_grad():
    logits = net.double()(x.double())
np.savez(os.path.join(HERE, "torch_io.npz"), x=x.double().numpy(), logits=logits.numpy())
print("keys:", list(net.state_dict().keys()))
