"""Standard optimization problems with known minima, shared by the solver tests.

Each :class:`Problem` carries a symcalc Loss, its data (or None), a starting point, the known
minimizer (closed form, or an independent reference solver) and, per first-order method, the
settings under which that method is expected to reach it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

import symcalc as sc


@dataclass
class Problem:
    name: str
    loss: sc.Loss
    data: dict | None
    x0: np.ndarray
    x_star: np.ndarray
    #: first-order method -> gradient_descent keyword arguments that reach x_star
    descent: dict[str, dict[str, Any]] = field(default_factory=dict)
    atol: float = 1e-5


def rosenbrock() -> Problem:
    a, b = sp.symbols("a b")
    loss = sc.Loss((1 - a) ** 2 + 100 * (b - a**2) ** 2, params=[a, b])
    return Problem("rosenbrock", loss, None, np.array([-1.2, 1.0]), np.array([1.0, 1.0]))


def beale() -> Problem:
    a, b = sp.symbols("a b")
    expr = (
        (sp.Rational(3, 2) - a + a * b) ** 2
        + (sp.Rational(9, 4) - a + a * b**2) ** 2
        + (sp.Rational(21, 8) - a + a * b**3) ** 2
    )
    return Problem("beale", sc.Loss(expr, params=[a, b]), None, np.array([1.0, 1.0]),
                   np.array([3.0, 0.5]))


def bowl() -> Problem:
    a, b, c = sp.symbols("a b c")
    loss = sc.Loss((a - 1) ** 2 + (b + 2) ** 2 + (c - 3) ** 2, params=[a, b, c])
    fast = {"learning_rate": 0.1, "epochs": 2000}
    return Problem("bowl", loss, None, np.zeros(3), np.array([1.0, -2.0, 3.0]),
                   descent={"gd": fast, "momentum": fast, "nesterov": fast,
                            "adam": {"learning_rate": 0.05, "epochs": 3000}})


def ill_conditioned() -> Problem:
    """0.5*(a^2 + 100 b^2) around (1, -1): condition number 100."""
    a, b = sp.symbols("a b")
    loss = sc.Loss(sp.Rational(1, 2) * ((a - 1) ** 2 + 100 * (b + 1) ** 2), params=[a, b])
    return Problem(
        "ill_conditioned", loss, None, np.array([5.0, 5.0]), np.array([1.0, -1.0]),
        descent={
            "gd": {"learning_rate": 0.01, "epochs": 5000},
            "momentum": {"learning_rate": 0.01, "epochs": 3000},
            "nesterov": {"learning_rate": 0.01, "epochs": 3000},
            "adam": {"learning_rate": 0.05, "epochs": 5000, "tol": 1e-7},
        },
    )


@cache
def _regression_data(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 1.5, n)
    y = 2.0 * x - 1.0 + rng.normal(0, 0.5, n)
    return x, y


def linear_regression() -> Problem:
    w, b, x, y = sp.symbols("w b x y")
    xs, ys = _regression_data()
    design = np.column_stack([xs, np.ones_like(xs)])
    x_star = np.linalg.solve(design.T @ design, design.T @ ys)  # normal equations
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    gd = {"learning_rate": 0.05, "epochs": 5000}
    return Problem(
        "linear_regression", loss, {x: xs, y: ys}, np.zeros(2), x_star,
        descent={"gd": gd, "momentum": gd, "nesterov": gd,
                 "adam": {"learning_rate": 0.05, "epochs": 6000, "tol": 1e-7}},
        atol=1e-6,
    )


@cache
def logistic_data(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, 2))
    p = 1 / (1 + np.exp(-(1.5 * X[:, 0] - 2.0 * X[:, 1] + 0.3)))
    return X, (rng.random(n) < p).astype(float)


def logistic_loss() -> tuple[sc.Loss, dict]:
    w1, w2, b, x1, x2, y = sp.symbols("w1 w2 b x1 x2 y")
    z = w1 * x1 + w2 * x2 + b
    loss = sc.Loss(sp.log(1 + sp.exp(z)) - y * z, params=[w1, w2, b], data=[x1, x2, y])
    X, Y = logistic_data()
    return loss, {x1: X[:, 0], x2: X[:, 1], y: Y}


def logistic_regression() -> Problem:
    from sklearn.linear_model import LogisticRegression  # reference library, tests only

    loss, data = logistic_loss()
    X, Y = logistic_data()
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, Y)  # unpenalized
    x_star = np.array([*ref.coef_[0], ref.intercept_[0]])
    return Problem(
        "logistic_regression", loss, data, np.zeros(3), x_star,
        descent={"gd": {"learning_rate": "auto", "epochs": 5000, "tol": 1e-9},
                 "momentum": {"learning_rate": 0.5, "epochs": 3000, "tol": 1e-9}},
        atol=1e-4,
    )


PROBLEMS = {
    p.__name__: p
    for p in (rosenbrock, beale, bowl, ill_conditioned, linear_regression, logistic_regression)
}
