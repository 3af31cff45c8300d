#!/usr/bin/env python3
"""What `aeflow evaluate` does, in scikit-learn + numpy, for side-by-side figures with aeflow.

On the full splits held in memory: the saved model's codes and per-row reconstruction errors (0.5*mean((x^ - x)^2),
numpy matmuls with the tfjs weights), PCA with K components fitted on the training rows (exact SVD, as aeflow's
eigendecomposition is exact), the anomaly threshold (numpy.percentile of the training errors) and the test rows above
it, and two probes on raw pixels, PCA codes and the model's codes: StandardScaler + LogisticRegression (lbfgs, C=1)
and 5-nearest-neighbours, fitted on the training rows, accuracy on the test rows. Pixels are scaled /255.
Prints one JSON object: the figures, per-phase seconds, wall time from reading the CSVs, peak RSS.

usage: python3 bench/sklearn_eval.py TRAIN.csv TEST.csv --model RUN/model [--components K] [--percentile 99]
       [--threads 2] [--max-iter 1000] [--svd-solver full]
Needs python3 with numpy, pandas, scikit-learn (Debian: apt-get install python3-sklearn python3-pandas).
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

STARTED = time.perf_counter()


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("--model", required=True, help="a run's model folder (encoder/ and decoder/ inside)")
    p.add_argument("--components", type=int, help="PCA components (default: the model's code size)")
    p.add_argument("--percentile", type=float, default=99)
    p.add_argument("--threads", type=int, default=2)
    # On Fashion-MNIST, raw pixels and the model's codes are still short of lbfgs's tolerance after 1000 iterations
    # (on raw pixels, max_iter=5000 had not finished after 15 minutes): the JSON says whether each probe converged.
    p.add_argument("--max-iter", type=int, default=1000, help="lbfgs iterations at most for the logistic probes")
    p.add_argument("--svd-solver", default="full", help="PCA's svd_solver ('auto' picks randomized here)")
    return p.parse_args()


ARGS = parse_args()
# OpenBLAS and OpenMP size their thread pools when they load, so this has to happen before numpy is imported.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from scipy.special import expit  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from tfjs_dense import load_dense  # noqa: E402  (bench/ is on sys.path: it holds this script)

try:  # belt and braces: also caps pools that ignore the variables (threadpoolctl comes with scikit-learn)
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(ARGS.threads)
except ImportError:
    threadpool_info = None

ACTIVATIONS = {
    "sigmoid": expit,  # no overflow warnings for large negative inputs, unlike 1 / (1 + exp(-x))
    "relu": lambda v: np.maximum(v, 0),
    "tanh": np.tanh,
    "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
    "linear": lambda v: v,
}


def forward(layers, x):
    for kernel, bias, activation in layers:
        x = x @ kernel
        if bias is not None:
            x += bias
        x = ACTIVATIONS[activation](x)
    return x


def read_csv(path):
    # A label column, then pixels 0-255; float32 as aeflow (and the tfjs weights) use, which halves the memory.
    df = pd.read_csv(path)
    x = df.drop(columns="label").to_numpy(np.float32) / np.float32(255)
    # pandas hands back a column-major array (it stores columns); scikit-learn 1.2's fast k-NN path (ArgKmin) takes
    # only row-major arrays and silently falls back to one ~2x slower here, so the rows are made contiguous.
    return np.ascontiguousarray(x), df["label"].to_numpy()


def half_mse(a, b):
    return 0.5 * np.mean((a - b) ** 2, axis=1)


def main():
    phases = {}
    clock = [time.perf_counter()]
    wall_start = clock[0]

    def lap(name):
        now = time.perf_counter()
        phases[name] = round(now - clock[0], 3)
        clock[0] = now

    x_train, y_train = read_csv(ARGS.train)
    x_test, y_test = read_csv(ARGS.test)
    lap("read")

    encoder = load_dense(os.path.join(ARGS.model, "encoder"))
    decoder = load_dense(os.path.join(ARGS.model, "decoder"))
    z_train, z_test = forward(encoder, x_train), forward(encoder, x_test)
    # The autoencoder is the encoder then the decoder: the codes above are reused rather than computed again.
    err_train = half_mse(forward(decoder, z_train), x_train)
    err_test = half_mse(forward(decoder, z_test), x_test)
    threshold = float(np.percentile(err_train, ARGS.percentile))
    lap("encode")

    k = ARGS.components or z_train.shape[1]
    pca = PCA(n_components=k, svd_solver=ARGS.svd_solver)
    p_train = np.ascontiguousarray(pca.fit_transform(x_train))  # column-major out of the SVD: as above
    p_test = pca.transform(x_test)
    pca_loss = float(half_mse(pca.inverse_transform(p_test), x_test).mean(dtype=np.float64))
    lap("pca")

    features = {"raw": (x_train, x_test), "pca": (p_train, p_test), "model": (z_train, z_test)}
    probes = {}
    for name, (train, test) in features.items():
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=ARGS.max_iter))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            clf.fit(train, y_train)
        probes[name] = {
            "logistic": clf.score(test, y_test),
            "logistic_iterations": int(clf[-1].n_iter_.max()),
            "logistic_converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
        }
        lap(f"logistic_{name}")
    for name, (train, test) in features.items():
        knn = KNeighborsClassifier(n_neighbors=5, n_jobs=ARGS.threads).fit(train, y_train)
        probes[name]["knn"] = knn.score(test, y_test)
        probes[name]["knn_algorithm"] = knn._fit_method  # what algorithm='auto' chose
        lap(f"knn_{name}")

    model_loss = float(err_test.mean(dtype=np.float64))
    print(json.dumps({
        "tool": "scikit-learn",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "threads": ARGS.threads,
        "thread_pools": [{k: i[k] for k in ("internal_api", "num_threads")} for i in threadpool_info()]
        if threadpool_info else None,
        "train_rows": len(x_train),
        "test_rows": len(x_test),
        "code_size": int(z_train.shape[1]),
        "pca_components": k,
        "pca_svd_solver": ARGS.svd_solver,
        "model_test_loss": model_loss,
        "pca_test_loss": pca_loss,
        "model_vs_pca": model_loss / pca_loss,
        "anomaly": {"percentile": ARGS.percentile, "threshold": threshold,
                    "flagged": int((err_test > threshold).sum())},
        "probes": probes,
        "phases_s": phases,
        "import_s": round(wall_start - STARTED, 2),
        "wall_s": round(time.perf_counter() - wall_start, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    sys.exit(main())
