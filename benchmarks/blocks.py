"""Vector and matrix losses (blocks): derivation cost against n, and the compiled kernels
against hand-written NumPy.

* **derive + compile**: ``sc.Loss(...).compile()`` of an L2 logistic loss written with
  ``sc.vector`` for n = 10 ... 10,000 features (it should not grow with n);
* **value_and_grad**: the compiled kernel against hand-written NumPy (``X @ w``,
  ``logaddexp``, ``expit``, ``r @ X``) at N = 1e6, n = 8 and at N = 569, n = 30 (breast-cancer
  sized), the fused numba backend at N = 1e6, and softmax regression (K = 10, n = 100,
  N = 1e5) against a hand-written softmax cross-entropy gradient;
* **gradient_descent per epoch** at 1,000 rows (n = 30) against a hand-written NumPy loop.

Ratios are symcalc / hand-written within one process, interleaved medians (the machine may
be shared and loaded).
"""

from __future__ import annotations

import time

import numpy as np
import sympy as sp
from scipy.special import expit
from sympy.core.cache import clear_cache

from ._util import have, interleaved_medians, table, with_one_blas_thread


def _logistic(n: int, lam: float = 0.0) -> tuple:
    import symcalc as sc

    w, x = sc.vector("w", n), sc.vector("x", n)
    b, t = sp.symbols("b t")
    z = sc.dot(w, x) + b
    expr = sc.softplus(z) - t * z + (lam / 2 * sc.norm2(w) if lam else 0)
    return sc.Loss(expr, params=[w, b], data=[x, t]), x, t


def _data(N: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, n))
    y = (rng.random(N) < expit(X @ rng.normal(size=n) * 0.5)).astype(float)
    return X, y


def _hand_logistic(X: np.ndarray, y: np.ndarray):
    N = len(y)

    def run(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = X @ w + b
        value = float(np.mean(np.logaddexp(0.0, z) - y * z))
        r = (expit(z) - y) / N
        return value, np.concatenate([r @ X, [r.sum()]])

    return run


def derive_table(quick: bool) -> str:
    rows = []
    sizes = (10, 30, 1000) if quick else (10, 30, 1000, 10_000)
    _logistic(3, 0.01)[0].compile()  # warm-up: imports and first-use caches
    base = None
    for n in sizes:
        best = float("inf")
        for _ in range(1 if quick else 3):
            clear_cache()  # cold: SymPy's cache would make every later derivation free
            start = time.perf_counter()
            loss, _, _ = _logistic(n, 0.01)
            loss.compile()
            best = min(best, time.perf_counter() - start)
        base = base or best
        rows.append([f"{n:,}", best, f"{best / base:.2f}x"])
    return table("derive + compile of an L2 logistic loss (sc.vector) against n, SymPy cache "
                 "cleared before each", ["features n", "seconds (best)", "vs n = 10"], rows)


def _ratio_row(label: str, f, P, theta, hand, repeats: int) -> list:
    t = interleaved_medians({"symcalc": lambda: f.evaluate(theta, P, order=1),
                             "hand": lambda: hand(theta)}, repeats)
    ok = np.allclose(f.evaluate(theta, P, order=1)[1:], hand(theta)[1], rtol=1e-9, atol=1e-12)
    return [label, t["hand"] * 1e3, t["symcalc"] * 1e3, f"{t['symcalc'] / t['hand']:.2f}x",
            "yes" if ok else "NO"]


def kernel_table(quick: bool, threads: str = "default BLAS threads") -> str:
    rows = []
    cases = [(20_000, 8), (569, 30)] if quick else [(1_000_000, 8), (569, 30)]
    for N, n in cases:
        loss, x, t = _logistic(n)
        X, y = _data(N, n)
        f = loss.compile()
        P = f.prepare({x: X, t: y})
        theta = np.r_[0.1 * np.ones(n), 0.2]
        rows.append(_ratio_row(f"logistic N={N:,} n={n}", f, P, theta, _hand_logistic(X, y),
                               5 if quick else 15))
        if N >= 1_000_000 and have("numba"):
            g = loss.compile(backend="numba")
            rows.append(_ratio_row(f"logistic N={N:,} n={n}, backend=numba", g, g.prepare({x: X, t: y}),
                                   theta, _hand_logistic(X, y), 15))
    rows.append(_softmax_row(quick))
    return table(f"value_and_grad against hand-written NumPy, {threads} (target <= 1.1x; softmax "
                 "<= 1.2x; numba <= 0.5x)", ["case", "hand ms", "symcalc ms", "symcalc / hand",
                                            "same"], rows)


def _softmax_row(quick: bool) -> list:
    import symcalc as sc

    K, n, N = (10, 100, 5_000) if quick else (10, 100, 100_000)
    W, bias = sc.matrix("W", K, n), sc.vector("b", K)
    x, y = sc.vector("x", n), sc.vector("y", K)
    z = W @ x + bias
    f = sc.Loss(sc.logsumexp(z) - sc.dot(y, z), params=[W, bias], data=[x, y]).compile()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, n))
    Y = np.eye(K)[rng.integers(0, K, N)]
    P = f.prepare({x: X, y: Y})
    theta = 0.05 * rng.normal(size=K * n + K)

    def hand(th: np.ndarray) -> tuple[float, np.ndarray]:
        Wm, bm = th[: K * n].reshape(K, n), th[K * n :]
        Z = X @ Wm.T + bm
        m = Z.max(axis=1, keepdims=True)
        E = np.exp(Z - m)
        s = E.sum(axis=1, keepdims=True)
        value = float(np.mean(m[:, 0] + np.log(s[:, 0]) - (Y * Z).sum(axis=1)))
        R = (E / s - Y) / N
        return value, np.concatenate([(R.T @ X).ravel(), R.sum(axis=0)])

    return _ratio_row(f"softmax K={K} n={n} N={N:,}", f, P, theta, hand, 5 if quick else 15)


def descent_table(quick: bool) -> str:
    import symcalc as sc

    N, n, epochs, lr = 1000, 30, (100 if quick else 1000), 0.5
    loss, x, t = _logistic(n)
    X, y = _data(N, n, seed=2)
    data = {x: X, t: y}

    def hand_loop() -> np.ndarray:
        A = np.column_stack([X, np.ones(N)])
        theta = np.zeros(n + 1)
        losses = []
        for _ in range(epochs):
            z = A @ theta
            losses.append(float(np.mean(np.logaddexp(0.0, z) - y * z)))
            theta = theta - lr * (A.T @ (expit(z) - y)) / N
        return theta

    def gd() -> np.ndarray:
        return sc.gradient_descent(loss, data, learning_rate=lr, epochs=epochs, tol=0.0).x

    tm = interleaved_medians({"hand": hand_loop, "gd": gd}, 5 if quick else 21)
    same = np.allclose(gd(), hand_loop(), rtol=1e-9, atol=1e-12)
    us = 1e6 / epochs
    return table("gradient_descent per epoch, block logistic n = 30, 1,000 rows (target <= 1.2x)",
                 ["hand µs/epoch", "gradient_descent µs/epoch", "gd / hand", "same x"],
                 [[tm["hand"] * us, tm["gd"] * us, f"{tm['gd'] / tm['hand']:.2f}x",
                   "yes" if same else "NO"]])


def run(quick: bool) -> str:
    # both sides again with BLAS on one thread: on a shared, loaded machine OpenBLAS's threads
    # make every call's time depend on the other processes (symcalc's row chunks call BLAS
    # once per 4,096 rows, the hand-written code once per array)
    return "\n".join([derive_table(quick), kernel_table(quick),
                      with_one_blas_thread(lambda threads: kernel_table(quick, threads)),
                      descent_table(quick)])


if __name__ == "__main__":  # pragma: no cover
    print(run(quick=False))
