#!/usr/bin/env python3
"""chargpt.py - the PyTorch twin of chargpt.c: the same model, initialisation scheme, corpus,
batches (the same splitmix64 stream picks the windows), validation windows, AdamW with
PyTorch's defaults and cosine decay, sampling, and the same last line of key=value pairs.

    python3 examples/chargpt.py [--layers 4] [--heads 4] [--dim 128] [--context 64]
        [--batch 32] [--steps 2000] [--lr 1e-3] [--seed 1] [--threads 0] [--eval-every 500]
        [--eval-batches 16] [--sample 300] [--data /usr/share/games/fortunes]

Exits 77 when the corpus is absent."""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MASK64 = (1 << 64) - 1


def splitmix64(state):
    """(next state, value): chargpt.c's splitmix64."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


def read_corpus(folder):
    """The regular files without an extension directly in folder, in sorted name order."""
    names = sorted(n for n in os.listdir(folder)
                   if '.' not in n and not os.path.islink(os.path.join(folder, n))
                   and os.path.isfile(os.path.join(folder, n)))
    return b''.join(open(os.path.join(folder, n), 'rb').read() for n in names)


class CausalSelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(dim, 3 * dim)
        self.c_proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q = q.view(b, t, self.heads, d // self.heads).transpose(1, 2)  # [B, H, t, hd]
        k = k.view(b, t, self.heads, d // self.heads).permute(0, 2, 3, 1)  # [B, H, hd, t]
        v = v.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        att = (q @ k) * (1.0 / math.sqrt(d // self.heads))
        future = torch.ones(t, t, dtype=torch.bool).triu(1)
        att = F.softmax(att.masked_fill(future, float('-inf')), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.c_fc = nn.Linear(dim, 4 * dim)
        self.c_proj = nn.Linear(4 * dim, dim)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim)
        self.attn = CausalSelfAttention(dim, heads)
        self.ln_2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class CharGPT(nn.Module):
    def __init__(self, vocab, context, dim, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(context, dim)
        self.h = nn.Sequential(*[Block(dim, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe.weight[:t]
        return self.lm_head(self.ln_f(self.h(x)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    for name, default in [('layers', 4), ('heads', 4), ('dim', 128), ('context', 64),
                          ('batch', 32), ('steps', 2000), ('seed', 1), ('threads', 0),
                          ('eval-every', 500), ('eval-batches', 16), ('sample', 300)]:
        p.add_argument('--' + name, type=int, default=default)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--data', default='/usr/share/games/fortunes')
    o = p.parse_args()
    start = time.perf_counter()
    if not os.path.isdir(o.data):
        print(f'chargpt.py: no corpus at {o.data} (apt-get install fortunes)', file=sys.stderr)
        sys.exit(77)
    if o.threads:
        torch.set_num_threads(o.threads)
    torch.manual_seed(o.seed)
    text = read_corpus(o.data)
    vocab = sorted(set(text))
    token_of = {b: i for i, b in enumerate(vocab)}
    data = torch.tensor([token_of[b] for b in text], dtype=torch.long)
    n_train = len(text) - len(text) // 10
    T, B = o.context, o.batch

    model = CharGPT(len(vocab), T, o.dim, o.heads, o.layers)
    opt = torch.optim.AdamW(model.parameters(), lr=o.lr)  # PyTorch's defaults otherwise
    n_params = sum(p.numel() for p in model.parameters())
    print(f'chargpt.py: {o.layers} layers, {o.heads} heads, dim {o.dim}, context {T}: '
          f'{n_params} parameters')
    print(f'  data {o.data}: {len(text)} bytes, vocabulary {len(vocab)}, {n_train} train, '
          f'{len(text) - n_train} validation')
    print(f'  adamw lr={o.lr:g} cosine batch={B} steps={o.steps} seed={o.seed} '
          f'threads={torch.get_num_threads()}', flush=True)

    offsets = torch.arange(T)

    def batch_at(starts):
        rows = torch.tensor(starts).unsqueeze(1) + offsets
        return data[rows], data[rows + 1]

    windows = o.eval_batches * B
    span = len(text) - n_train - T - 1
    val_starts = [n_train + (w * span // (windows - 1) if windows > 1 else 0)
                  for w in range(windows)]

    def validation_loss():
        total = 0.0
        with torch.no_grad():
            for k in range(o.eval_batches):
                x, y = batch_at(val_starts[k * B:(k + 1) * B])
                total += F.cross_entropy(model(x).view(-1, len(vocab)), y.view(-1)).item()
        return total / o.eval_batches

    rng = o.seed
    train_seconds, interval_loss, interval_steps = 0.0, 0.0, 0
    train_loss = val_loss = float('nan')
    for step in range(o.steps):
        t0 = time.perf_counter()
        for g in opt.param_groups:  # from lr down to 0 along half a cosine
            g['lr'] = o.lr * 0.5 * (1 + math.cos(math.pi * step / o.steps))
        starts = []
        for _ in range(B):
            rng, r = splitmix64(rng)
            starts.append(r % (n_train - T))
        x, y = batch_at(starts)
        loss = F.cross_entropy(model(x).view(-1, len(vocab)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        interval_loss += loss.item()
        interval_steps += 1
        train_seconds += time.perf_counter() - t0
        if (step + 1) % o.eval_every == 0 or step + 1 == o.steps:
            train_loss = interval_loss / interval_steps
            val_loss = validation_loss()
            tps = (step + 1) * B * T / train_seconds
            print(f'step {step + 1:5d}/{o.steps}  train loss {train_loss:.4f}  val loss '
                  f'{val_loss:.4f}  lr {opt.param_groups[0]["lr"]:.2e}  {tps:.0f} tok/s  '
                  f'{time.perf_counter() - start:.1f} s', flush=True)
            interval_loss, interval_steps = 0.0, 0

    if o.sample > 0:
        print('sample:')
        tokens = [token_of.get(ord('\n'), 0)]
        out = bytearray()
        with torch.no_grad():
            for _ in range(o.sample):
                logits = model(torch.tensor([tokens[-T:]]))[0, -1]
                probs = F.softmax(logits, dim=-1).tolist()
                rng, r = splitmix64(rng)
                u, total, nxt = (r >> 11) * 2.0 ** -53, 0.0, len(vocab) - 1
                for k, pk in enumerate(probs):
                    total += pk
                    if total > u:
                        nxt = k
                        break
                tokens.append(nxt)
                out.append(vocab[nxt])
        sys.stdout.buffer.write(bytes(out) + b'\n')
        sys.stdout.flush()
    print(f'val_loss={val_loss:.4f} train_loss={train_loss:.4f} '
          f'tokens_per_s={o.steps * B * T / train_seconds:.0f} '
          f'seconds={time.perf_counter() - start:.3f} steps={o.steps} parameters={n_params} '
          f'threads={torch.get_num_threads()}')


if __name__ == '__main__':
    main()
