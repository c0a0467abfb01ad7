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

# The conv layers (after the model above, so that its draws stay as they were): PyTorch's
# own initial weights of two models and their outputs, modules/torch_conv.npz. The C test
# (conv_layers_read_pytorchs_weights) builds the specs
#     "Conv2d(4, 3, padding='same', dilation=2, groups=2) ReLU ConvTranspose2d(3, 3,
#      stride=2, padding=1, output_padding=1) Tanh Flatten Linear(5)"   on [2, 6, 6]
#     "Conv1d(4, 3, stride=2, padding=1) Tanh Flatten Linear(3)"        on [2, 9]
# and must reproduce both outputs from these weights (keys "a.0.weight", ..., "b.0.weight",
# ...; inputs "a.x", "b.x", outputs "a.y", "b.y").
torch.manual_seed(16)
a = nn.Sequential(
    nn.Conv2d(2, 4, 3, padding="same", dilation=2, groups=2), nn.ReLU(),
    nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
    nn.Flatten(), nn.Linear(3 * 12 * 12, 5)).double()
b = nn.Sequential(nn.Conv1d(2, 4, 3, stride=2, padding=1), nn.Tanh(), nn.Flatten(),
                  nn.Linear(4 * 5, 3)).double()
arrays = {}
for name, net, shape in (("a", a, (3, 2, 6, 6)), ("b", b, (3, 2, 9))):
    x = torch.randn(shape, dtype=torch.float64)
    with torch.no_grad():
        arrays[name + ".y"] = net(x).numpy()
    arrays[name + ".x"] = x.numpy()
    for k, v in net.state_dict().items():
        arrays[name + "." + k] = v.detach().numpy()
np.savez(os.path.join(HERE, "torch_conv.npz"), **arrays)
print("conv keys:", sorted(arrays))
