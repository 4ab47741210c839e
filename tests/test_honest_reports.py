"""Results that say what was reached: scipy tolerances, divergence hints, the stopping rule."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import SymcalcError

w, b, x, y = sp.symbols("w b x y")


def _logistic():
    rng = np.random.default_rng(0)
    X = rng.normal(size=300)
    Yb = (rng.random(300) < 1 / (1 + np.exp(-(1.5 * X - 0.5)))).astype(float)
    loss = sc.Loss(sp.log(1 + sp.exp(w * x + b)) - y * (w * x + b), params=[w, b], data=[x, y])
    return loss, {"x": X, "y": Yb}


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "CG", "trust-exact", "trust-ncg",
                                    "dogleg", "TNC", "SLSQP", "Nelder-Mead", "Powell"])
def test_scipy_methods_converge_to_symcalc_tolerance(method):
    # Before: converged=True 1e-5 to 8e-4 from the optimum (scipy's default gtol/ftol).
    loss, data = _logistic()
    ref = sc.minimize(loss, data, x0=[0.0, 0.0], method="newton", tol=1e-12).x
    res = sc.minimize(loss, data, x0=[0.0, 0.0], method=method)
    assert res.converged, res.message
    assert res.grad_norm <= 1e-8 and "is at most tol=1e-08" in res.message
    np.testing.assert_allclose(res.x, ref, atol=2e-7, rtol=0)


def test_scipy_success_with_a_large_gradient_is_not_converged():
    loss, data = _logistic()
    # the user's own loose scipy option wins, but the verdict follows symcalc's tol
    res = sc.minimize(loss, data, x0=[0.0, 0.0], method="BFGS", gtol=1e-3)
    assert "Optimization terminated successfully" in res.message
    assert res.grad_norm > 1e-8 and not res.converged
    assert "Not converged: the gradient norm" in res.message


def test_divergence_message_suggests_the_exact_stable_bound():
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    data = {"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 3.0, 5.0, 7.0]}
    # Hessian [[2*mean(x^2), 2*mean(x)], [2*mean(x), 2]] = [[7, 3], [3, 2]]
    lam = (9 + np.sqrt(25 + 36)) / 2
    res = sc.gradient_descent(loss, data, learning_rate=0.5, epochs=2000)
    assert res.status == "diverged"
    assert f"below the stability bound {2 / lam:.6g} = 2/L" in res.message
    assert "exact, as the Hessian is constant" in res.message
    below = sc.gradient_descent(loss, data, learning_rate=0.99 * 2 / lam, epochs=20000)
    assert below.status != "diverged"
    mom = sc.gradient_descent(loss, data, learning_rate=0.5, epochs=2000, method="momentum")
    assert f"{2 * 1.9 / lam:.6g} = 2(1+momentum)/L" in mom.message


def test_check_convergence_accepts_tolerance_keyword():
    values = [1.0, 0.5, 0.25, 0.2500001, 0.25000015]
    assert sc.check_convergence(values, tolerance=1e-6)
    assert not sc.check_convergence(values, tolerance=1e-8)
    assert sc.check_convergence(values, 1e-6) == sc.check_convergence(values, tolerance=1e-6)
    # window: how many consecutive small steps are needed
    assert sc.check_convergence([0.0, 1.0, 1.0], tolerance=1e-6, window=1)
    assert not sc.check_convergence([0.0, 1.0, 1.0], tolerance=1e-6, window=2)
    with pytest.raises(SymcalcError, match="give the tolerance once"):
        sc.check_convergence(values, 1e-3, tolerance=1e-6)
