"""Tests for symcalc.metrics: exact-plus-numeric integrals and the ROC plot.

The ROC/AUC functions are tested in test_roc.py, test_roc_multiclass.py and test_roc_ci.py.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import DataError, SymbolError, SymcalcError

matplotlib.use("Agg")


# ------------------------------------------------------------------------- integrate

x = sp.Symbol("x")
Phi = lambda v: (1 + sp.erf(v / sp.sqrt(2))) / 2  # noqa: E731
phi = lambda v: sp.exp(-v**2 / 2) / sp.sqrt(2 * sp.pi)  # noqa: E731


def test_gaussian_integral():
    r = sc.integrate(sp.exp(-x**2), (x, -sp.oo, sp.oo))
    assert r.exact == sp.sqrt(sp.pi)
    assert r.numeric == pytest.approx(np.sqrt(np.pi), rel=1e-12)
    assert r.agree and 0 <= r.error < 1e-6 and r.bounds == (-sp.oo, sp.oo)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_power_integrals(n):
    r = sc.integrate(x**n, (x, 0, 1))
    assert r.exact == sp.Rational(1, n + 1)
    assert r.numeric == pytest.approx(1 / (n + 1), rel=1e-13)
    assert r.agree and "agree" in r.reason


def test_binormal_auc_numeric_in_fpr_variable():
    u = sp.Symbol("u", real=True)
    a, b = sp.Rational(3, 2), sp.Rational(1, 2)
    r = sc.integrate(Phi(a + b * sp.sqrt(2) * sp.erfinv(2 * u - 1)), (u, 0, 1), timeout=5)
    target = float(Phi(a / sp.sqrt(1 + b**2)))
    assert r.exact is None and not r.agree
    assert r.numeric == pytest.approx(target, abs=1e-10)


@pytest.mark.parametrize("a, b", [(1, 2), (sp.Rational(3, 2), 1)])  # b = 1: Phi(d'/sqrt 2)
def test_binormal_auc_exact(a, b):
    z, s = sp.symbols("z s", real=True)
    density = sc.integrate(phi(z) * phi(s + b * z), (z, -sp.oo, sp.oo))
    assert not density.agree and "free symbols s" in density.reason
    expected_density = phi(s / sp.sqrt(1 + b**2)) / sp.sqrt(1 + b**2)
    assert sp.simplify(density.exact - expected_density) == 0
    area = sc.integrate(density.exact, (s, -sp.oo, a))
    target = Phi(a / sp.sqrt(1 + b**2))
    assert sp.simplify((area.exact - target).rewrite(sp.erf)) == 0
    assert area.agree and area.numeric == pytest.approx(float(target), abs=1e-10)


def test_integrate_reports_divergence_and_no_closed_form():
    # generous timeouts: SymPy needs ~2 s here, more on a loaded machine
    r = sc.integrate(1 / x**2, (x, 0, 1), timeout=60)
    assert r.exact == sp.oo and r.agree is None and "diverges" in r.reason
    r = sc.integrate(sp.sin(x) / sp.log(x + 2), (x, 0, 1), timeout=60)
    assert r.exact is None and "no closed form" in r.reason
    assert r.numeric == pytest.approx(0.4774159475, abs=1e-9)


def test_integrate_timeout_still_gives_numeric(monkeypatch):
    import time

    from symcalc.metrics import integrals

    def slow(*args):
        time.sleep(5)

    monkeypatch.setattr(integrals, "_sympy_integrate", slow)
    r = sc.integrate(sp.cos(x), (x, 0, sp.pi / 2), timeout=0.3)
    assert r.exact is None and "did not finish within 0.3 s" in r.reason
    assert r.numeric == pytest.approx(1.0, abs=1e-12)


def test_integrate_bad_input():
    y = sp.Symbol("y")
    with pytest.raises(SymbolError, match="upper bound b must be a number.*symbols y"):
        sc.integrate(x, (x, 0, y))
    with pytest.raises(SymcalcError, match="limits must be a tuple"):
        sc.integrate(x, (x, 0))
    with pytest.raises(SymcalcError, match="lower bound a must be a real number"):
        sc.integrate(x, (x, sp.I, 1))
    with pytest.raises(SymcalcError, match="timeout must be > 0"):
        sc.integrate(x, (x, 0, 1), timeout=0)
    with pytest.raises(SymbolError, match="integration variable must be"):
        sc.integrate(x, (3, 0, 1))
    with pytest.raises(SymcalcError, match="expr must be a SymPy expression"):
        sc.integrate([x], (x, 0, 1))


def test_integrate_accepts_strings():
    r = sc.integrate("x^2", ("x", "0", "1"))
    assert r.exact == sp.Rational(1, 3) and r.agree


# ------------------------------------------------------------------------- plot_roc


def test_plot_roc_returns_axes_with_legend():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    y = [0, 0, 0, 1, 1, 1]
    s = [0.2, 0.5, 0.6, 0.5, 0.7, 0.9]
    out = sc.plot_roc(y, s, ax=ax, label="m", ci=True)
    assert out is ax
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("m (AUC = 0.833, 95% CI 0.456-1.000")
    assert texts[1] == "chance (AUC = 0.5)"
    fpr, tpr, _ = sc.roc_curve(y, s)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), fpr)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), tpr)
    plt.close(fig)
    ax2 = sc.plot_roc(["b", "a", "b"], [0.9, 0.1, 0.2])
    assert "AUC = 1.000" in ax2.get_legend().get_texts()[0].get_text()
    plt.close(ax2.figure)


def test_plot_roc_multiclass_draws_one_curve_per_class():
    import matplotlib.pyplot as plt

    y = np.array([0, 0, 1, 1, 2, 2, 2])
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.3, 0.6, 0.1], [0.5, 0.3, 0.2],
                  [0.2, 0.2, 0.6], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8]])
    ax = sc.plot_roc(y, p, label="m")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:3] == ["m: class 0 (AUC = 0.900)", "m: class 1 (AUC = 0.800)",
                         "m: class 2 (AUC = 1.000)"]
    fpr, tpr, _ = sc.roc_curve(y == 1, p[:, 1])
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), fpr)
    plt.close(ax.figure)
    with pytest.raises(DataError, match="cannot plot the ROC curve of ROC: y_true needs"):
        sc.plot_roc([1, 1, 1], [0.2, 0.3, 0.4])
