"""One training epoch of an MLP 16 -> 64 -> 64 -> 1 (tanh, MSE, SGD, batch 256).

symcalc.nn (activation derivatives compiled from SymPy) against a hand-written NumPy
backpropagation of the same network in the same process, PyTorch eager (float64, CPU) when
torch is installed, and JAX (float64, the whole epoch one ``jit``-compiled ``lax.scan`` over
the batches) when jax is installed. Each epoch includes the shuffle and the per-batch loss
value, as a training loop reports it. Ratios are time / hand-written NumPy time (lower is
better).
"""

from __future__ import annotations

import numpy as np

from ._util import table, torch_sgd_epoch, training_rows, with_one_blas_thread

SIZES = (16, 64, 64, 1)
BATCH = 256
LR = 0.01


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, SIZES[0]))
    y = np.sin(X[:, :3].sum(axis=1, keepdims=True))
    return X, y


def _init() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        out += [rng.uniform(-limit, limit, size=(fan_in, fan_out)), np.zeros(fan_out)]
    return out


def numpy_epoch(
    weights: list[np.ndarray], X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> float:
    """Hand-written backprop: the reference a NumPy programmer would write."""
    W1, b1, W2, b2, W3, b3 = weights
    order = rng.permutation(len(X))
    Xs, ys = X.take(order, axis=0), y.take(order, axis=0)
    total = 0.0
    for s in range(0, len(X), BATCH):
        xb, yb = Xs[s : s + BATCH], ys[s : s + BATCH]
        a1 = np.tanh(xb @ W1 + b1)
        a2 = np.tanh(a1 @ W2 + b2)
        out = a2 @ W3 + b3
        err = out - yb
        total += float(np.mean(err * err)) * len(xb)
        d3 = (2.0 / err.size) * err
        d2 = (d3 @ W3.T) * (1.0 - a2 * a2)
        d1 = (d2 @ W2.T) * (1.0 - a1 * a1)
        W3 -= LR * (a2.T @ d3)
        b3 -= LR * d3.sum(axis=0)
        W2 -= LR * (a1.T @ d2)
        b2 -= LR * d2.sum(axis=0)
        W1 -= LR * (xb.T @ d1)
        b1 -= LR * d1.sum(axis=0)
    return total / len(X)


def _symcalc_model():
    from symcalc import nn

    model = nn.Sequential([nn.Dense(SIZES[1], "tanh", input_dim=SIZES[0]),
                           nn.Dense(SIZES[2], "tanh"), nn.Dense(SIZES[3])], seed=0)
    model.compile(optimizer="sgd", loss="mse", learning_rate=LR)
    model.set_weights(_init())
    return model


def _torch_epoch_fn(X: np.ndarray, y: np.ndarray):  # pragma: no cover - optional peer
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(16, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64),
                              torch.nn.Tanh(), torch.nn.Linear(64, 1)).double()
    return torch_sgd_epoch(net, torch.nn.MSELoss(), torch.from_numpy(X), torch.from_numpy(y),
                           batch=BATCH, lr=LR)


def _jax_epoch_fn(X: np.ndarray, y: np.ndarray):  # pragma: no cover - optional peer
    """One epoch as one compiled program: ``lax.scan`` of SGD steps over the batches."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(params, xb, yb):
        W1, b1, W2, b2, W3, b3 = params
        out = jnp.tanh(jnp.tanh(xb @ W1 + b1) @ W2 + b2) @ W3 + b3
        return jnp.mean((out - yb) ** 2)

    def step(params, batch):
        value, grads = jax.value_and_grad(loss)(params, *batch)
        return [p - LR * g for p, g in zip(params, grads)], value

    @jax.jit
    def epoch(params, Xs, ys):
        params, values = jax.lax.scan(step, params, (Xs, ys))
        return params, values.mean()

    state = {"params": [jnp.asarray(w) for w in _init()]}
    rng = np.random.default_rng(2)
    steps = len(X) // BATCH
    Xd, yd = jnp.asarray(X), jnp.asarray(y)

    def run() -> None:
        order = jnp.asarray(rng.permutation(len(X))[: steps * BATCH])
        Xs = Xd[order].reshape(steps, BATCH, -1)
        ys = yd[order].reshape(steps, BATCH, -1)
        state["params"], value = epoch(state["params"], Xs, ys)
        float(value)

    return run


def run(quick: bool) -> str:
    return with_one_blas_thread(lambda threads: _run(quick, threads))


def _run(quick: bool, threads: str) -> str:
    n = 4096 if quick else 65536
    repeats = 3 if quick else 7
    X, y = _data(n)
    model = _symcalc_model()
    w = _init()
    rng = np.random.default_rng(2)
    rows = training_rows(
        lambda: numpy_epoch(w, X, y, rng),
        lambda: model.fit(X, y, epochs=1, batch_size=BATCH, seed=2, verbose=0),
        [("PyTorch eager (float64, 1 thread)", "torch", lambda: _torch_epoch_fn(X, y)),
         ("JAX jit + lax.scan (float64)", "jax", lambda: _jax_epoch_fn(X, y))],
        repeats,
    )
    rows.append(("numba backend, whole training step fused", "not possible yet", "-"))
    return table(
        f"MLP 16-64-64-1 (tanh, MSE, SGD), one epoch, N={n}, batch {BATCH}, {threads}",
        ("implementation", "ms / epoch", "ratio vs NumPy"),
        rows,
    )
