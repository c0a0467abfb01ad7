# experiments.py - PyTorch's numbers for tests/repl/experiments.gt (run it with torch 1.13:
# /usr/bin/python3 tests/repl/experiments.py); they are written in the script's comments.
import torch


def run(make, steps=3):
    w = torch.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=torch.float64, requires_grad=True)
    opt = make([w])
    for _ in range(steps):
        opt.zero_grad()
        (w * w * w).sum().backward()
        opt.step()
    return [round(v, 4) for v in w.detach().flatten().tolist()]


print("adam", run(lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.8, 0.99), eps=1e-6,
                                               weight_decay=0.1)))
print("adamw", run(lambda p: torch.optim.AdamW(p, lr=0.1)))
print("sgd", run(lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, dampening=0.1,
                                             weight_decay=0.01)))
w = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 4, eta_min=0.01)
lrs = []
for _ in range(12):
    opt.step()
    s.step()
    lrs.append(round(opt.param_groups[0]["lr"], 6))
print("cosine", lrs)
opt = torch.optim.SGD([w], lr=1.0)
s = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
lrs = []
for _ in range(5):
    opt.step()
    s.step()
    lrs.append(opt.param_groups[0]["lr"])
print("step_lr", lrs)
opt = torch.optim.SGD([w], lr=0.1)
warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=3)
cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 6)
lrs = [round(opt.param_groups[0]["lr"], 6)]
for _ in range(8):
    opt.step()
    warm.step()
    cos.step()
    lrs.append(round(opt.param_groups[0]["lr"], 6))
print("linear_lr + cosine", lrs)
