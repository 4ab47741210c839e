"""Data is validated once, before any kernel runs (issue 19, items 7 and 12).

NaN/inf in a data column used to pass whenever the loss stayed finite (tanh(inf) = 1,
exp(-inf) = 0, Heaviside(nan) = 1 in NumPy), and a Python int beyond float64 raised a raw
OverflowError. Both backends, value() and value_and_grad(), the optimizers and Dask data are
checked here.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import DataError, NonFiniteError

w, b, x, y = sp.symbols("w b x y", real=True)
LOSSES = {
    "tanh": (w * sp.tanh(x) - y) ** 2,
    "exp": (w - y) ** 2 * sp.exp(-x),
    "heaviside": (w - y) ** 2 * sp.Heaviside(x),
    "logistic": sp.log(1 + sp.exp(-y * (w * x))),
}
ROWS = {"y": [1.0, -1.0, 1.0, 1.0]}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_data_is_refused_by_value_and_value_and_grad(name, bad):
    f = sc.Loss(LOSSES[name], params=[w], data=[x, y]).compile()
    data = {**ROWS, "x": [0.5, 1.0, bad, 2.0]}
    for method in (f.value, f.grad, f.value_and_grad, f.hessian):
        with pytest.raises(NonFiniteError, match=rf"data\['x'\] contains {bad} at row 2"):
            method([0.3], data)


def test_numba_backend_refuses_it_too():
    f = sc.Loss(LOSSES["heaviside"], params=[w], data=[x, y]).compile(backend="numba")
    with pytest.raises(NonFiniteError, match=r"data\['x'\] contains nan at row 1"):
        f.value_and_grad([0.3], {**ROWS, "x": [1.0, np.nan, 1.0, 1.0]})
    assert f.value([0.3], {**ROWS, "x": [1.0, 1.0, 1.0, 1.0]}) == pytest.approx(
        ((0.3 - 1) ** 2 * 3 + (0.3 + 1) ** 2) / 4)


def test_gradient_descent_refuses_nan_data_instead_of_converging():
    # the run "converged" to 2.1667 with Heaviside(nan) taken as 1
    loss = sc.Loss(LOSSES["heaviside"], params=[w], data=[x, y])
    with pytest.raises(NonFiniteError, match=r"data\['x'\] contains nan at row 0"):
        sc.gradient_descent(loss, {"x": [np.nan, 1.0], "y": [1.0, 2.0]}, x0=[0.0], epochs=5)


def test_values_beyond_float64_are_a_data_error():
    f = sc.Loss((w * x - 1) ** 2, params=[w], data=[x]).compile()
    with pytest.raises(DataError, match=r"data\['x'\] contains 10000.* at index 0, beyond"):
        f.value([1.0], {"x": [10**400, 1, 2, 3]})
    with pytest.raises(DataError, match="beyond the float64 range"):
        sc.roc_auc_score([0, 1, 1], [1, 10**400, 3])


@pytest.mark.skipif(importlib.util.find_spec("dask") is None, reason="dask not installed")
def test_dask_blocks_are_checked_before_the_kernel_runs():
    import dask.array as da

    f = sc.Loss(LOSSES["tanh"], params=[w], data=[x, y]).compile()
    xs = da.from_array(np.array([0.5, 1.0, 2.0, np.inf]), chunks=2)
    ys = da.from_array(np.array([1.0, 1.0, 1.0, 1.0]), chunks=2)
    with pytest.raises(NonFiniteError, match=r"data\['x'\] contains inf at row 1 of Dask block 1"):
        f.value([0.3], {"x": xs, "y": ys})
