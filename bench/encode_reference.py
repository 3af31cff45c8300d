#!/usr/bin/env python3
"""What `aeflow encode` does, in pandas + PyTorch, for side-by-side figures with aeflow.

Reads the CSV with pandas (a `label` column, if there is one, then pixels /255), runs the rows through the saved
encoder rebuilt as a torch.nn.Sequential of nn.Linear + activations holding the tfjs weights, in batches, and
writes `label,z1..zK` with pandas' to_csv (its default float format). Prints one JSON object: rows, rows/s over
the whole job (reading the CSV to the written file), per-phase seconds, peak RSS.

usage: python3 bench/encode_reference.py INPUT.csv --model RUN/model --out codes.csv [--threads 2] [--batch 1000]
Needs python3 with torch, numpy and pandas (Debian: apt-get install python3-torch python3-pandas).
"""
import argparse
import json
import os
import resource
import time

STARTED = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from tfjs_dense import load_dense  # noqa: E402  (bench/ is on sys.path: it holds this script)

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "linear": nn.Identity}


def torch_encoder(folder):
    """The tfjs Dense layers as nn.Linear + activation pairs."""
    layers = []
    for kernel, bias, activation in load_dense(folder):
        inputs, units = kernel.shape
        linear = nn.Linear(inputs, units, bias=bias is not None)
        with torch.no_grad():
            # tfjs kernels are [inputs, units]; nn.Linear keeps its weight as [units, inputs] and computes x W^T + b.
            linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
            if bias is not None:
                linear.bias.copy_(torch.from_numpy(bias.copy()))
        layers += [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers).eval()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("--model", required=True, help="a run's model folder (encoder/ inside) or the encoder's folder")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=1000)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    phases = {}
    wall_start = time.perf_counter()
    df = pd.read_csv(args.input)
    # The label column is carried over to the codes, as aeflow does; without one, only the codes are written.
    labels = df.pop("label") if "label" in df.columns else None
    # torch.tensor copies into row-major memory (pandas hands back a column-major array): contiguous batches.
    x = torch.tensor(df.to_numpy(np.float32)).div_(255)
    del df
    phases["read"] = round(time.perf_counter() - wall_start, 3)

    t0 = time.perf_counter()
    folder = os.path.join(args.model, "encoder")
    encoder = torch_encoder(folder if os.path.exists(os.path.join(folder, "model.json")) else args.model)
    # Batches as aeflow encodes them (--batch 1000); inference_mode skips autograd's bookkeeping.
    with torch.inference_mode():
        codes = torch.cat([encoder(x[i:i + args.batch]) for i in range(0, len(x), args.batch)]).numpy()
    phases["encode"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    out = pd.DataFrame(codes, columns=[f"z{i + 1}" for i in range(codes.shape[1])])
    if labels is not None:
        out.insert(0, "label", labels.to_numpy())
    out.to_csv(args.out, index=False)
    phases["write"] = round(time.perf_counter() - t0, 3)

    wall_s = time.perf_counter() - wall_start
    print(json.dumps({
        "tool": "pytorch+pandas",
        "torch": torch.__version__,
        "pandas": pd.__version__,
        "threads": args.threads,
        "batch": args.batch,
        "rows": len(codes),
        "code_size": codes.shape[1],
        "rows_per_s": round(len(codes) / wall_s),
        "phases_s": phases,
        "import_s": round(wall_start - STARTED, 2),
        "wall_s": round(wall_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
