"""Block losses with independent reference implementations (NumPy, and JAX when installed).

Each problem is a small real-data-shaped case: the symcalc loss, data, a theta and a NumPy
function of the flat theta computing the same total (mean) loss written by hand. The tests
compare symcalc's compiled gradient with central finite differences of the hand-written
function and with ``jax.grad`` of a JAX transcription (the same formula in ``jnp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import sympy as sp

import symcalc as sc

RNG = np.random.default_rng(7)
N, n, K, H = 40, 4, 3, 3


@dataclass
class Problem:
    name: str
    loss: Any
    data: dict
    theta: np.ndarray
    ref: Callable[[Any, Any], Any]  # ref(theta, xp) -> mean loss, xp = numpy or jax.numpy


def _unpack(theta: Any, shapes: list[tuple[int, ...]]) -> list[Any]:
    out, k = [], 0
    for s in shapes:
        size = int(np.prod(s)) if s else 1
        part = theta[k : k + size]
        out.append(part.reshape(s) if s else part[0])
        k += size
    return out


def _softplus(xp: Any, u: Any) -> Any:
    return xp.logaddexp(0.0, u)


def _lse(xp: Any, Z: Any) -> Any:
    m = Z.max(axis=1, keepdims=True)
    return (m + xp.log(xp.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]


def problems() -> list[Problem]:
    w, v, x = sc.vector("w", n), sc.vector("v", n), sc.vector("x", n)
    W, Wt = sc.matrix("W", K, n), sc.matrix("Wt", n, K)
    bv, c, yv = sc.vector("bv", K), sc.vector("c", H), sc.vector("yv", K)
    a = sc.vector("a", H)
    V = sc.matrix("V", H, n)
    b, t, y, s, d = sp.symbols("b t y s d")
    X = RNG.normal(size=(N, n))
    T = (RNG.random(N) < 0.5).astype(float)
    Yr = X @ RNG.normal(size=n) + 0.3 * RNG.normal(size=N)
    Yk = np.eye(K)[RNG.integers(0, K, N)]
    Ycount = RNG.poisson(1.5, size=N).astype(float)
    Yout = RNG.normal(size=(N, K))
    Sw = RNG.random(N) + 0.5
    z = sc.dot(w, x) + b
    th_wb = np.r_[0.3 * RNG.normal(size=n), 0.1]
    out: list[Problem] = []

    def add(name: str, expr: Any, params: list, data_syms: dict, theta: np.ndarray,
            ref: Callable) -> None:
        loss = sc.Loss(expr, params=params, data=list(data_syms))
        out.append(Problem(name, loss, data_syms, theta, ref))

    shapes_wb = [(n,), ()]

    def lin(xp: Any, th: Any) -> Any:
        w_, b_ = _unpack(th, shapes_wb)
        return X @ w_ + b_

    add("least_squares", (z - y) ** 2, [w, b], {x: X, y: Yr}, th_wb,
        lambda th, xp: xp.mean((lin(xp, th) - Yr) ** 2))
    add("logistic", sc.softplus(z) - t * z, [w, b], {x: X, t: T}, th_wb,
        lambda th, xp: xp.mean(_softplus(xp, lin(xp, th)) - T * lin(xp, th)))
    add("logistic_l2", sc.softplus(z) - t * z + 0.005 * sc.norm2(w), [w, b], {x: X, t: T}, th_wb,
        lambda th, xp: xp.mean(_softplus(xp, lin(xp, th)) - T * lin(xp, th))
        + 0.005 * xp.sum(th[:n] ** 2))
    add("logistic_sigmoid_ce",
        -t * sp.log(sc.sigmoid(z)) - (1 - t) * sp.log(1 - sc.sigmoid(z)), [w, b], {x: X, t: T},
        th_wb,
        lambda th, xp: xp.mean(_softplus(xp, -lin(xp, th)) * T + _softplus(xp, lin(xp, th)) * (1 - T)))
    add("poisson", sp.exp(z) - y * z, [w, b], {x: X, y: Ycount}, th_wb,
        lambda th, xp: xp.mean(xp.exp(lin(xp, th)) - Ycount * lin(xp, th)))
    add("pseudo_huber", sp.sqrt(1 + (z - y) ** 2) - 1, [w, b], {x: X, y: Yr}, th_wb,
        lambda th, xp: xp.mean(xp.sqrt(1 + (lin(xp, th) - Yr) ** 2) - 1))
    add("log_cosh", sp.log(sp.cosh(z - y)), [w, b], {x: X, y: Yr}, th_wb,
        lambda th, xp: xp.mean(xp.log(xp.cosh(lin(xp, th) - Yr))))
    add("weighted_squares", s * (z - y) ** 2, [w, b], {x: X, y: Yr, s: Sw}, th_wb,
        lambda th, xp: xp.mean(Sw * (lin(xp, th) - Yr) ** 2))
    add("smooth_hinge_squared", sc.softplus(1 - (2 * t - 1) * z) ** 2, [w, b], {x: X, t: T}, th_wb,
        lambda th, xp: xp.mean(_softplus(xp, 1 - (2 * T - 1) * lin(xp, th)) ** 2))
    add("smooth_l1_penalty",
        (z - y) ** 2 + 0.1 * sc.sum(sc.elementwise(lambda u: sp.sqrt(u**2 + sp.Rational(1, 100)), w)),
        [w, b], {x: X, y: Yr}, th_wb,
        lambda th, xp: xp.mean((lin(xp, th) - Yr) ** 2) + 0.1 * xp.sum(xp.sqrt(th[:n] ** 2 + 0.01)))
    add("sum_penalty", (z - y) ** 2 + 0.1 * sc.sum(w) ** 2, [w, b], {x: X, y: Yr}, th_wb,
        lambda th, xp: xp.mean((lin(xp, th) - Yr) ** 2) + 0.1 * xp.sum(th[:n]) ** 2)
    th_wv = np.r_[0.3 * RNG.normal(size=n), 0.3 * RNG.normal(size=n)]
    add("param_dot_and_distance",
        (sc.dot(w, x) - y) ** 2 + sc.dot(w, v) ** 2 + sc.norm2(w - v), [w, v], {x: X, y: Yr}, th_wv,
        lambda th, xp: xp.mean((X @ th[:n] - Yr) ** 2) + (th[:n] @ th[n:]) ** 2
        + xp.sum((th[:n] - th[n:]) ** 2))
    add("param_scaled_map", (2 * sc.dot(w, x) + b * sc.dot(w, x) - y) ** 2, [w, b], {x: X, y: Yr},
        th_wb, lambda th, xp: xp.mean(((2 + th[n]) * (X @ th[:n]) - Yr) ** 2))
    add("normalized_margin", sc.softplus(-(2 * t - 1) * sc.dot(w, x) / sp.sqrt(1 + sc.norm2(w))),
        [w], {x: X, t: T}, 0.5 * RNG.normal(size=n),
        lambda th, xp: xp.mean(_softplus(xp, -(2 * T - 1) * (X @ th) / xp.sqrt(1 + th @ th))))
    th_gauss = np.r_[th_wb, -0.2]
    add("gaussian_nll", sp.exp(-d) * (z - y) ** 2 / 2 + d / 2, [w, b, d], {x: X, y: Yr}, th_gauss,
        lambda th, xp: xp.mean(xp.exp(-th[n + 1]) * (lin(xp, th[: n + 1]) - Yr) ** 2 / 2) + th[n + 1] / 2)

    # ------------------------------------------------------------------ K-row maps
    zk = W @ x + bv
    shapes_Wb = [(K, n), (K,)]
    th_Wb = 0.4 * RNG.normal(size=K * n + K)

    def logits(xp: Any, th: Any) -> Any:
        W_, b_ = _unpack(th, shapes_Wb)
        return X @ W_.T + b_

    add("softmax_ce", sc.logsumexp(zk) - sc.dot(yv, zk), [W, bv], {x: X, yv: Yk}, th_Wb,
        lambda th, xp: xp.mean(_lse(xp, logits(xp, th)) - (Yk * logits(xp, th)).sum(axis=1)))
    add("softmax_ce_l2", sc.logsumexp(zk) - sc.dot(yv, zk) + 0.01 * sc.norm2(W), [W, bv],
        {x: X, yv: Yk}, th_Wb,
        lambda th, xp: xp.mean(_lse(xp, logits(xp, th)) - (Yk * logits(xp, th)).sum(axis=1))
        + 0.01 * xp.sum(th[: K * n] ** 2))
    add("log_softmax_entries", -sc.dot(yv, sc.log(sc.softmax(zk))), [W, bv], {x: X, yv: Yk}, th_Wb,
        lambda th, xp: xp.mean(_lse(xp, logits(xp, th)) - (Yk * logits(xp, th)).sum(axis=1)))
    add("log_sum_exp_written_out", sc.log(sc.sum(sc.exp(zk))) - sc.dot(yv, zk), [W, bv],
        {x: X, yv: Yk}, th_Wb,
        lambda th, xp: xp.mean(xp.log(xp.exp(logits(xp, th)).sum(axis=1)) - (Yk * logits(xp, th)).sum(axis=1)))
    add("multi_output_ridge", sc.norm2(W @ x + bv - yv) + 0.1 * sc.norm2(W), [W, bv], {x: X, yv: Yout},
        th_Wb, lambda th, xp: xp.mean(((logits(xp, th) - Yout) ** 2).sum(axis=1))
        + 0.1 * xp.sum(th[: K * n] ** 2))
    add("sigmoid_multilabel", sc.norm2(sc.sigmoid(W @ x) - yv), [W], {x: X, yv: Yk},
        th_Wb[: K * n], lambda th, xp: xp.mean(
            ((1 / (1 + xp.exp(-(X @ th.reshape(K, n).T))) - Yk) ** 2).sum(axis=1)))
    add("transposed_map", sc.norm2(Wt.T @ x - yv), [Wt], {x: X, yv: Yout}, th_Wb[: K * n],
        lambda th, xp: xp.mean(((X @ th.reshape(n, K) - Yout) ** 2).sum(axis=1)))

    # ------------------------------------------------------------------ two layers
    shapes_2 = [(H, n), (H,), (H,), ()]
    th_2 = 0.5 * RNG.normal(size=H * n + 2 * H + 1)

    def hidden(xp: Any, th: Any, act: Callable) -> Any:
        V_, c_, a_, d_ = _unpack(th, shapes_2)
        return act(X @ V_.T + c_) @ a_ + d_

    add("two_layer_tanh", (sc.dot(a, sc.tanh(V @ x + c)) + d - y) ** 2, [V, c, a, d], {x: X, y: Yr},
        th_2, lambda th, xp: xp.mean((hidden(xp, th, xp.tanh) - Yr) ** 2))
    add("two_layer_softplus_logistic",
        sc.softplus(sc.dot(a, sc.softplus(V @ x + c)) + d) - t * (sc.dot(a, sc.softplus(V @ x + c)) + d),
        [V, c, a, d], {x: X, t: T}, th_2,
        lambda th, xp: xp.mean(_softplus(xp, hidden(xp, th, lambda u: _softplus(xp, u)))
                               - T * hidden(xp, th, lambda u: _softplus(xp, u))))
    return out
