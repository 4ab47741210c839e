"""The stable rewrites of issue "checks you can trust": each case overflowed or raised a false
'undefined' error before. Expected values are hand-derived or 60-digit mpmath."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.cli import main
from symcalc.errors import NonFiniteError
from symcalc.testing import check_grad

w, b, x, y, a, u = sp.symbols("w b x y a u")


def test_log_cosh_at_a_residual_of_800():
    # log(cosh(r)) = |r| - log 2 + log1p(exp(-2|r|)); d/dw = x tanh(r)
    f = sc.Loss(sp.log(sp.cosh(w * x - y)), params=[w], data=[x, y]).compile()
    value, grad = f.value_and_grad([0.5], {"x": [2.0], "y": [-799.0]})
    assert value == pytest.approx(800 - math.log(2), rel=1e-15)
    assert grad == pytest.approx([2.0], rel=1e-15)


def test_log_of_a_sum_of_exponentials_at_x_1000():
    f = sc.Loss(sp.log(sp.exp(a * x) + sp.exp(b * x)), params=[a, b], data=[x]).compile()
    value, grad = f.value_and_grad([1.0, 0.5], {"x": [1000.0, -1000.0]})
    # row 1: 1000 + log1p(e^-500); row 2: -500 + log1p(e^-500)
    assert value == pytest.approx(250.0, rel=1e-15)
    assert grad == pytest.approx([500.0, -500.0], rel=1e-15)


def test_naive_softmax_cross_entropy_and_its_gradient():
    logits = [a * x, b * x, w * x]
    ce = -sp.log(sp.exp(logits[0]) / sum(sp.exp(z) for z in logits))
    f = sc.Loss(ce, params=[a, b, w], data=[x]).compile()
    value, grad = f.value_and_grad([1.0, 2.0, 3.0], {"x": [500.0]})
    assert value == pytest.approx(1000.0, rel=1e-15)  # logsumexp(500, 1000, 1500) - 500
    assert grad == pytest.approx([-500.0, 0.0, 500.0], abs=1e-9)


@pytest.mark.parametrize("u0, want", [(1e-17, -39.143946580898), (3e-16, -35.742749199237),
                                      (50.0, -1.9287498479639178e-22)])
def test_log_one_minus_exp(u0, want):
    # was -inf at 1e-17 and -35.638 at 3e-16 (log1p(-exp(-u)) near 0)
    f = sc.Loss(sp.log(1 - sp.exp(-u)), params=[u]).compile()
    value, grad = f.value_and_grad([u0])
    assert value == pytest.approx(want, rel=1e-12)
    assert grad[0] == pytest.approx(float(1 / mpmath.expm1(mpmath.mpf(u0))), rel=1e-12)


def test_log_erfc_does_not_overflow():
    f = sc.Loss(sp.log(sp.erfc(w * x)), params=[w], data=[x]).compile()
    value, grad = f.value_and_grad([1.0], {"x": [30.0]})
    with mpmath.workdps(60):
        exact = mpmath.log(mpmath.erfc(30))
        slope = -2 * 30 * mpmath.exp(-900) / (mpmath.sqrt(mpmath.pi) * mpmath.erfc(30))
    assert value == pytest.approx(float(exact), rel=1e-14)
    assert grad[0] == pytest.approx(float(slope), rel=1e-12)


def test_x_log_x_is_zero_at_zero():
    f = sc.Loss(w * x * sp.log(w * x), params=[w], data=[x]).compile()
    assert f.value([0.5], {"x": [0.0, 1.0]}) == pytest.approx(0.5 * math.log(0.5) / 2)


@pytest.mark.parametrize("expr", [
    sp.Max(0, 1 - y * (w * x + b)) ** 2,                          # squared hinge
    sp.Piecewise((0.5 * (w * x + b - y) ** 2, sp.Abs(w * x + b - y) <= 1),
                 (sp.Abs(w * x + b - y) - 0.5, True)),             # Huber
    sp.Abs(w * x + b - y), sp.Max(w * x, b) + sp.Min(w, x) ** 2,
    sp.Max(0.3 * (y - w * x - b), -0.7 * (y - w * x - b)),        # pinball
    (w * x + b) / (1 + sp.Abs(w * x + b)) - y,                    # softsign
    sp.sign(w * x - y) * (w * x - y) + sp.Heaviside(x) * b**2,
])
def test_kinked_losses_have_hessians_away_from_the_kinks(expr):
    # symbols without assumptions; DiracDelta terms are zero away from the kinks
    f = sc.Loss(expr, params=[w, b], data=[x, y]).compile()
    data = {"x": [0.3, 1.7, -0.9], "y": [1.0, -1.0, 1.0]}
    P = f.prepare(data)
    theta = np.array([0.37, -0.21])
    chk = check_grad(lambda t: f.evaluate(t, P, order=0)[0],
                     lambda t: f.evaluate(t, P, order=1)[1:], theta,
                     hess=lambda t: f._unpack_hessian(f.evaluate(t, P, order=2))[2])
    assert chk.ok, str(chk)
    res = sc.minimize(sc.Loss(expr, params=[w, b], data=[x, y]), data, [0.37, -0.21],
                      method="newton", maxiter=5)
    assert np.isfinite(res.x).all()


def test_cli_fit_with_abs_needs_no_real_declaration(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n" + "".join(f"{v},{2 * v + 1}\n" for v in np.linspace(-1, 1, 9)))
    code = main(["fit", "abs(w*x + b - y)", "--params", "w,b", "--data", str(path),
                 "--lr", "0.01", "--epochs", "50"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "declare them real" not in captured.err


def test_nan_that_symcalc_caused_is_blamed_on_symcalc():
    # exp(w x)/(y exp(w x) + 1) = 1/(y + exp(-w x)) is 0.5 at x = 800, y = 2, but the
    # compiled form overflows to inf/inf
    f = sc.Loss(sp.exp(w * x) / (sp.exp(w * x) * y + 1), params=[w], data=[x, y]).compile()
    with pytest.raises(NonFiniteError, match=r"exact value at row 1 is 0\.5.*could not "
                       r"evaluate it stably.*exp\(w\*x\).*overflows"):
        f.value([1.0], {"x": [1.0, 800.0], "y": [1.0, 2.0]})
    g = sc.Loss(sp.log(w * x), params=[w], data=[x]).compile()
    with pytest.raises(NonFiniteError, match="the loss is undefined there"):
        g.value([1.0], {"x": [1.0, -2.0]})
