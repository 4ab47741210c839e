"""One training epoch of a softmax classifier 784 -> 128 -> 10 (ReLU, softmax, categorical
cross-entropy, SGD, batch 128) on synthetic MNIST-sized data.

symcalc.nn (ReLU and its derivative compiled from SymPy; softmax + cross-entropy fused on the
logits, the gradient ``p - y`` derived by SymPy) against a hand-written NumPy backpropagation
of the same network in the same process, and PyTorch eager (float64, CPU, one thread) when
torch is installed. Each epoch includes the shuffle and the per-batch loss value. Ratios are
time / hand-written NumPy time (lower is better).
"""

from __future__ import annotations

import numpy as np

from ._util import table, torch_sgd_epoch, training_rows, with_one_blas_thread

SIZES = (784, 128, 10)
BATCH = 128
LR = 0.1


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten Gaussian classes in 784 dimensions (pixel-like values in [0, 1])."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, SIZES[-1], size=n)
    centers = rng.random((SIZES[-1], SIZES[0]))
    X = np.clip(centers[labels] + 0.3 * rng.normal(size=(n, SIZES[0])), 0.0, 1.0)
    return X, np.eye(SIZES[-1])[labels]


def _init() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        out += [rng.uniform(-limit, limit, size=(fan_in, fan_out)), np.zeros(fan_out)]
    return out


def numpy_epoch(
    weights: list[np.ndarray], X: np.ndarray, Y: np.ndarray, rng: np.random.Generator
) -> float:
    """Hand-written backprop with the usual stable softmax cross-entropy."""
    W1, b1, W2, b2 = weights
    order = rng.permutation(len(X))
    Xs, Ys = X.take(order, axis=0), Y.take(order, axis=0)
    total = 0.0
    for s in range(0, len(X), BATCH):
        xb, yb = Xs[s : s + BATCH], Ys[s : s + BATCH]
        h = xb @ W1 + b1
        a = np.maximum(h, 0.0)
        z = a @ W2 + b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        sums = e.sum(axis=1, keepdims=True)
        total += float(np.sum(yb * (np.log(sums) - z)))
        d2 = (e / sums - yb) / len(xb)
        d1 = (d2 @ W2.T) * (h > 0)
        W2 -= LR * (a.T @ d2)
        b2 -= LR * d2.sum(axis=0)
        W1 -= LR * (xb.T @ d1)
        b1 -= LR * d1.sum(axis=0)
    return total / len(X)


def _symcalc_model():
    from symcalc import nn

    model = nn.Sequential([nn.Input(shape=(SIZES[0],)), nn.Dense(SIZES[1], "relu"),
                           nn.Dense(SIZES[2], "softmax")], seed=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", learning_rate=LR)
    model.set_weights(_init())
    return model


def _torch_epoch_fn(X: np.ndarray, Y: np.ndarray):  # pragma: no cover - optional peer
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
                              torch.nn.Linear(SIZES[1], SIZES[2])).double()
    return torch_sgd_epoch(net, torch.nn.CrossEntropyLoss(), torch.from_numpy(X),
                           torch.from_numpy(Y.argmax(axis=1)), batch=BATCH, lr=LR)


def run(quick: bool) -> str:
    return with_one_blas_thread(lambda threads: _run(quick, threads))


def _run(quick: bool, threads: str) -> str:
    n = 1024 if quick else 16384
    repeats = 3 if quick else 5
    X, Y = _data(n)
    model = _symcalc_model()
    w = _init()
    rng = np.random.default_rng(2)
    rows = training_rows(
        lambda: numpy_epoch(w, X, Y, rng),
        lambda: model.fit(X, Y, epochs=1, batch_size=BATCH, seed=2, verbose=0),
        [("PyTorch eager (float64, 1 thread)", "torch", lambda: _torch_epoch_fn(X, Y))],
        repeats,
    )
    return table(
        f"Softmax classifier 784-128-10 (ReLU, categorical cross-entropy, SGD), one epoch, "
        f"N={n}, batch {BATCH}, {threads}",
        ("implementation", "ms / epoch", "ratio vs NumPy"),
        rows,
    )
