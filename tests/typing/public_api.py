"""Typed use of symcalc's public API, checked by ``mypy --strict`` in CI (not run by pytest).

CI runs mypy on this file against the INSTALLED wheel, from outside the source tree, so it
checks that the package's ``py.typed`` marker is honoured: ``assert_type`` fails if symcalc's
names were seen as ``Any`` (an untyped package) or with other types than documented. SymPy,
SciPy and matplotlib ship no type information and are treated as ``Any`` (pyproject.toml,
``[tool.mypy]``).
"""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

import numpy as np
import sympy as sp

import symcalc as sc
from symcalc.export import CSource, ExportedLoss

w, b, x, y = sp.symbols("w b x y")
loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
assert_type(loss, sc.Loss)
assert_type(loss.gradient(), sp.Matrix)

f = loss.compile()
assert_type(f, sc.CompiledLoss)
data = {"x": np.array([0.0, 1.0, 2.0]), "y": np.array([1.0, 3.0, 5.0])}
assert_type(f.value([0.0, 0.0], data), float)
value, grad = f.value_and_grad([0.0, 0.0], data)
assert_type(value, float)
assert_type(grad, Any)  # flat ndarray, or a dict when theta is a dict (losses with blocks)
assert_type(f.hessian([0.0, 0.0], data), np.ndarray)

res = sc.gradient_descent(loss, data, x0={w: 0.0, b: 0.0}, learning_rate=0.1, epochs=10)
assert_type(res, sc.DescentResult)
assert_type(sc.minimize(loss, data, method="newton"), sc.DescentResult)

assert_type(sc.check_convergence([1.0, 0.5, 0.25], tol=1e-3), bool)
assert_type(sc.analyze_sequence([1.0, 0.5, 0.25]), sc.SequenceReport)
assert_type(sc.limit(sp.sin(x) / x, x, 0), sc.LimitReport)
assert_type(sc.roc_auc_score([0, 1, 1], [0.1, 0.8, 0.4]), Any)  # float, or per-class array

assert_type(loss.to_c(name="ls"), CSource)
assert_type(loss.to_jax(), ExportedLoss)

model = sc.nn.Sequential([sc.nn.Dense(4, activation="tanh", input_dim=2), sc.nn.Dense(1)], seed=0)
assert_type(model, sc.nn.Sequential)


def fit_regressor(X: np.ndarray, target: np.ndarray) -> dict[str, float]:
    from symcalc.sklearn import LossRegressor

    est = LossRegressor(alpha=0.1).fit(X, target)
    assert_type(est.predict(X), np.ndarray)
    return {k: float(v) for k, v in est.params_.items()}
