#!/usr/bin/env python3
"""The reference configuration in PyTorch, for side-by-side figures with aeflow.

MLP 784-256-128-100 / 100-128-256-784, sigmoid after every layer, PyTorch's default nn.Linear init, Adam lr 0.01,
batch 256, a fresh shuffle every epoch, loss 0.5*MSE on pixels /255, seed 0. Prints one JSON object:
test loss, samples/s over the training loops, wall time including reading the CSVs.

usage: python3 bench/reference.py TRAIN.csv TEST.csv [--epochs 10] [--threads 2]
Needs python3 with torch and numpy (Debian: apt-get install python3-torch).
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    args = p.parse_args()

    wall_start = time.perf_counter()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    x_train = read_csv(args.train)
    x_test = read_csv(args.test)
    read_s = time.perf_counter() - wall_start

    sizes = [784, 256, 128, 100]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.Sigmoid()]
    rev = sizes[::-1]
    for a, b in zip(rev, rev[1:]):
        layers += [nn.Linear(a, b), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def loss_fn(y, x):
        return 0.5 * torch.mean((y - x) ** 2)

    n = x_train.shape[0]
    train_s = 0.0
    epochs = []
    for epoch in range(1, args.epochs + 1):
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
        dt = time.perf_counter() - t0
        train_s += dt
        with torch.no_grad():
            test_loss = loss_fn(model(x_test), x_test).item()
        epochs.append({"epoch": epoch, "train_loss": total / n, "test_loss": test_loss, "seconds": round(dt, 3)})

    print(json.dumps({
        "tool": "pytorch",
        "torch": torch.__version__,
        "threads": args.threads,
        "rows": n,
        "test_loss": epochs[-1]["test_loss"],
        "train_loss": epochs[-1]["train_loss"],
        "samples_per_s": round(n * args.epochs / train_s),
        "read_s": round(read_s, 2),
        "wall_s": round(time.perf_counter() - wall_start, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "epochs": epochs,
    }))


if __name__ == "__main__":
    main()
