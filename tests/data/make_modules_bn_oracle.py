#!/usr/bin/python3
"""make_modules_bn_oracle.py - weights and running statistics trained in PyTorch, for
tests/test_module.c: the model of

    SPEC = "Conv2d(4, 3, padding=1) BatchNorm2d ReLU MaxPool2d(2) Conv2d(6, 3, padding=1)
            BatchNorm2d(momentum=None) GroupNorm(3) GELU(approximate='tanh') MaxPool2d(2)
            Flatten Dropout(0.25) Linear(16) BatchNorm1d LeakyReLU(0.1) Dropout(0.5)
            Linear(8) LayerNorm(8) SiLU Linear(5)"

on samples of [2, 8, 8], built with torch.nn, trained in train mode for 20 SGD steps on
random data (so that the batch norms' running_mean, running_var and num_batches_tracked
move), then written as modules/torch_bn_weights.npz (its state_dict, buffers included,
num_batches_tracked as int64) and modules/torch_bn_io.npz (an input x [3, 2, 8, 8] and the
model's output on it in eval mode, "logits" [3, 5], in float64). The C test builds the same
spec, imports the file and must reproduce the logits in eval mode. Run once with Debian's
python3-torch: /usr/bin/python3 tests/data/make_modules_bn_oracle.py
"""
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modules")
os.makedirs(HERE, exist_ok=True)
torch.manual_seed(16)

net = nn.Sequential(
    nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6, momentum=None), nn.GroupNorm(3, 6),
    nn.GELU(approximate="tanh"), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.25), nn.Linear(24, 16), nn.BatchNorm1d(16), nn.LeakyReLU(0.1),
    nn.Dropout(0.5), nn.Linear(16, 8), nn.LayerNorm(8), nn.SiLU(), nn.Linear(8, 5))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
net.train()
for _ in range(20):
    x = torch.randn(8, 2, 8, 8) * 2 + 0.5
    y = torch.randint(0, 5, (8,))
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()

np.savez(os.path.join(HERE, "torch_bn_weights.npz"),
         **{k: v.detach().numpy() for k, v in net.state_dict().items()})
net.eval()
x = torch.randn(3, 2, 8, 8) * 2 + 0.5
with torch.no_grad():
    logits = net.double()(x.double())
np.savez(os.path.join(HERE, "torch_bn_io.npz"), x=x.double().numpy(), logits=logits.numpy())
print("keys:", list(net.state_dict().keys()))
