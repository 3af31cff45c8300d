#!/usr/bin/env python3
"""A 30-d code in PyTorch for a fixed wall-time budget, beside pipelines/fashion-30d.yaml (npm run bench -- --quality).

The issue's PyTorch baseline: MLP 784-512-256-30 with relu hidden layers, a linear code, the mirror decoder with a
sigmoid output, PyTorch's default init, Adam lr 1e-3, batch 256, a fresh shuffle every epoch, loss 0.5*MSE on
pixels /255, seed 0. It trains whole epochs while the next one is expected to end within --seconds of the
process's start (reading the CSVs counts), measures the test loss after each, saves the model, and prints one JSON
object with the test loss of the last epoch that ended by the mark.

usage: python3 bench/quality_reference.py TRAIN.csv TEST.csv [--seconds 180] [--threads 2] [--out model.pt]
Needs python3 with torch and numpy (Debian: apt-get install python3-torch libopenblas0-pthread).
"""
import argparse
import json
import resource
import time

import numpy as np
import torch
from torch import nn


def read_csv(path):
    # A label column, then pixels 0-255; the first line is a header.
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return torch.from_numpy(data[:, 1:] / 255.0)


def autoencoder(sizes):
    layers = []
    pairs = list(zip(sizes, sizes[1:]))
    for i, (a, b) in enumerate(pairs):
        layers.append(nn.Linear(a, b))
        if i < len(pairs) - 1:
            layers.append(nn.ReLU())
    rev = sizes[::-1]
    pairs = list(zip(rev, rev[1:]))
    for i, (a, b) in enumerate(pairs):
        layers.append(nn.Linear(a, b))
        layers.append(nn.ReLU() if i < len(pairs) - 1 else nn.Sigmoid())
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--seconds", type=float, default=180.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--out", default=None)
    args = p.parse_args()

    start = time.perf_counter()
    elapsed = lambda: time.perf_counter() - start
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    x_train = read_csv(args.train)
    x_test = read_csv(args.test)
    read_s = elapsed()

    model = autoencoder([784, 512, 256, 30])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss_fn(y, x):
        return 0.5 * torch.mean((y - x) ** 2)

    n = x_train.shape[0]
    epochs = []
    longest = 0.0
    # Another epoch only when it is expected to end (with its test loss) by the mark.
    while elapsed() + longest <= args.seconds:
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for i in range(0, n, args.batch):
            xb = x_train[perm[i:i + args.batch]]
            opt.zero_grad()
            loss = loss_fn(model(xb), xb)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        with torch.no_grad():
            test_loss = loss_fn(model(x_test), x_test).item()
        dt = time.perf_counter() - t0
        longest = max(longest, dt)
        epochs.append({"epoch": len(epochs) + 1, "train_loss": total / n, "test_loss": test_loss, "seconds": round(dt, 3), "at_s": round(elapsed(), 2)})

    at_mark = [e for e in epochs if e["at_s"] <= args.seconds]
    if args.out:
        torch.save(model.state_dict(), args.out)
    print(json.dumps({
        "tool": "pytorch",
        "torch": torch.__version__,
        "threads": args.threads,
        "seconds_budget": args.seconds,
        "epochs_by_mark": len(at_mark),
        "test_loss": at_mark[-1]["test_loss"] if at_mark else None,
        "read_s": round(read_s, 2),
        "wall_s": round(elapsed(), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
