"""Tests for symcalc.metrics: ROC/AUC against scikit-learn, DeLong/bootstrap CIs, integrals."""

from __future__ import annotations

import importlib.util

import matplotlib
import numpy as np
import pytest
import sympy as sp
from sklearn import metrics as skm

import symcalc as sc
from symcalc.errors import (
    DataError,
    MissingDependencyError,
    NonFiniteError,
    ShapeError,
    SymbolError,
    SymcalcError,
)

matplotlib.use("Agg")

SEEDS = range(60)


def _random_case(seed: int, *, weighted: bool = False, ties: bool = False):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 400))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    if ties:
        score = rng.integers(0, int(rng.integers(2, 12)), n).astype(float)
    else:
        score = rng.normal(size=n) + y * rng.uniform(0, 2)
    w = None
    if weighted:
        w = rng.uniform(0, 3, n)
        w[rng.random(n) < 0.1] = 0.0
        w[:2] = 1.0
    return y, score, w


# --------------------------------------------------------------------------- roc_curve


def test_roc_curve_small_example_and_inf_first_threshold():
    fpr, tpr, thr = sc.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert thr[0] == np.inf and thr[1:].tolist() == [0.8, 0.4, 0.35, 0.1]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("drop", [True, False])
def test_roc_curve_matches_sklearn_exactly(seed, drop):
    y, s, _ = _random_case(seed, ties=seed % 2 == 0)
    ours = sc.roc_curve(y, s, drop_intermediate=drop)
    ref = skm.roc_curve(y, s, drop_intermediate=drop)
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_curve_weighted_matches_sklearn(seed):
    y, s, w = _random_case(seed, weighted=True, ties=seed % 2 == 0)
    ours = sc.roc_curve(y, s, sample_weight=w)
    ref = skm.roc_curve(y, s, sample_weight=w)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_roc_curve_string_labels_with_pos_label():
    rng = np.random.default_rng(3)
    y = rng.choice(np.array(["ham", "spam"]), 200)
    s = rng.normal(size=200) + (y == "ham")
    for pos in ("ham", "spam"):
        for a, b in zip(sc.roc_curve(y, s, pos_label=pos), skm.roc_curve(y, s, pos_label=pos)):
            np.testing.assert_array_equal(a, b)


def test_roc_curve_minus_one_one_labels_and_booleans():
    y = np.array([-1, 1, -1, 1, 1])
    s = np.array([0.2, 0.9, 0.4, 0.4, 0.7])
    for a, b in zip(sc.roc_curve(y, s), skm.roc_curve(y, s)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(sc.roc_curve(y == 1, s), skm.roc_curve(y == 1, s)):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------- roc_auc_score


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("max_fpr", [None, 0.05, 0.3, 0.77, 1.0])
def test_roc_auc_score_matches_sklearn(seed, max_fpr):
    y, s, w = _random_case(seed, weighted=seed % 3 == 0, ties=seed % 2 == 0)
    ours = sc.roc_auc_score(y, s, sample_weight=w, max_fpr=max_fpr)
    ref = skm.roc_auc_score(y, s, sample_weight=w, max_fpr=max_fpr)
    assert abs(ours - ref) <= 1e-12


def test_roc_auc_score_string_labels_larger_is_positive_like_sklearn():
    rng = np.random.default_rng(7)
    y = rng.choice(np.array(["neg", "pos"]), 300)
    s = rng.normal(size=300) + (y == "pos")
    assert abs(sc.roc_auc_score(y, s) - skm.roc_auc_score(y, s)) <= 1e-12
    flipped = sc.roc_auc_score(y, s, pos_label="neg")
    assert abs(flipped - (1 - skm.roc_auc_score(y, s))) <= 1e-12


def test_roc_auc_score_hand_values():
    assert sc.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert sc.roc_auc_score([0, 1], [1.0, 1.0]) == 0.5  # a full tie counts one half
    assert sc.roc_auc_score([0, 1, 0, 1], [0, 1, 0, 1]) == 1.0


@pytest.mark.parametrize("seed", range(10))
def test_auc_invariant_under_monotone_transform(seed):
    y, s, w = _random_case(seed, weighted=True, ties=True)
    base = sc.roc_auc_score(y, s, sample_weight=w)
    for f in (lambda v: 3 * v - 7, np.exp, lambda v: np.arctan(v) ** 3, lambda v: v**3 + v):
        assert sc.roc_auc_score(y, f(s), sample_weight=w) == pytest.approx(base, abs=1e-13)
    assert sc.roc_auc_score(y, -s, sample_weight=w) == pytest.approx(1 - base, abs=1e-13)


def test_integer_weights_equal_repeated_samples():
    y = np.array([0, 1, 0, 1, 1, 0])
    s = np.array([0.3, 0.3, 0.1, 0.8, 0.5, 0.6])
    w = np.array([2, 1, 3, 1, 2, 1])
    repeated = sc.roc_auc_score(np.repeat(y, w), np.repeat(s, w))
    assert sc.roc_auc_score(y, s, sample_weight=w) == pytest.approx(repeated, abs=1e-15)


# --------------------------------------------------------------------------------- auc


def test_auc_trapezoid_increasing_and_decreasing():
    assert sc.auc([0, 0.5, 1], [0, 0.75, 1]) == 0.625
    assert sc.auc([1, 0.5, 0], [1, 0.75, 0]) == 0.625
    x = np.linspace(0, 2, 201)
    assert sc.auc(x, x**2) == pytest.approx(8 / 3, rel=1e-4)
    fpr, tpr, _ = sc.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert sc.auc(fpr, tpr) == skm.auc(fpr, tpr) == 0.75


def test_auc_bad_input():
    with pytest.raises(DataError, match="monotonic.*rises at index 0.*falls at index 1"):
        sc.auc([0, 1, 0.5], [0, 1, 1])
    with pytest.raises(DataError, match="at least 2 points; got 1"):
        sc.auc([0], [1])
    with pytest.raises(ShapeError, match="x and y.*x: 3, y: 2"):
        sc.auc([0, 1, 2], [0, 1])
    with pytest.raises(NonFiniteError, match="y contains nan at index 1"):
        sc.auc([0, 1, 2], [0, np.nan, 1])


# ------------------------------------------------------------------------ bad ROC input


@pytest.mark.parametrize("fn", [sc.roc_curve, sc.roc_auc_score, sc.roc_auc_ci])
def test_bad_labels(fn):
    with pytest.raises(DataError, match=r"only one class \(1\)"):
        fn([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="binary labels.*3 distinct values"):
        fn([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(NonFiniteError, match="y_true contains nan at index 1"):
        fn([0, np.nan, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="pos_label=5 is not one of the labels"):
        fn([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], pos_label=5)
    with pytest.raises(DataError, match="mixes label types"):
        fn(np.array([0, "a", 1], dtype=object), [0.1, 0.2, 0.3])


@pytest.mark.parametrize("fn", [sc.roc_curve, sc.roc_auc_score, sc.roc_auc_ci])
def test_bad_scores_and_lengths(fn):
    with pytest.raises(NonFiniteError, match="y_score contains nan at index 2"):
        fn([0, 1, 0, 1], [0.1, 0.2, np.nan, 0.4])
    with pytest.raises(NonFiniteError, match="y_score contains inf at index 0"):
        fn([0, 1, 0, 1], [np.inf, 0.2, 0.3, 0.4])
    with pytest.raises(ShapeError, match="same length; got y_true: 4, y_score: 3"):
        fn([0, 1, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="y_score must contain numbers only"):
        fn([0, 1, 0, 1], ["a", "b", "c", "d"])
    with pytest.raises(ShapeError, match="y_true must be a 1-D array"):
        fn([[0, 1], [0, 1]], [0.1, 0.2])
    with pytest.raises(DataError, match="y_true is empty"):
        fn([], [])


def test_roc_curve_needs_pos_label_for_other_labels():
    with pytest.raises(DataError, match=r"labels \['a', 'b'\].*pass pos_label="):
        sc.roc_curve(["a", "b", "a"], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="pass pos_label="):
        sc.roc_curve([1, 2, 1], [0.1, 0.2, 0.3])


@pytest.mark.parametrize("fn", [sc.roc_curve, sc.roc_auc_score])
def test_bad_weights(fn):
    y, s = [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]
    with pytest.raises(DataError, match="sample_weight must be >= 0; got -1 at index 2"):
        fn(y, s, sample_weight=[1, 1, -1, 1])
    with pytest.raises(NonFiniteError, match="sample_weight contains nan"):
        fn(y, s, sample_weight=[1, np.nan, 1, 1])
    with pytest.raises(ShapeError, match="y_true, y_score and sample_weight.*sample_weight: 3"):
        fn(y, s, sample_weight=[1, 1, 1])
    with pytest.raises(DataError, match="every positive sample has sample_weight 0"):
        fn(y, s, sample_weight=[1, 0, 1, 0])


def test_bad_max_fpr():
    for bad in (0, -0.1, 1.5):
        with pytest.raises(SymcalcError, match=r"max_fpr must be in \(0, 1\]"):
            sc.roc_auc_score([0, 1], [0.2, 0.4], max_fpr=bad)
    with pytest.raises(SymcalcError, match="max_fpr must be a real number"):
        sc.roc_auc_score([0, 1], [0.2, 0.4], max_fpr="half")


# ----------------------------------------------------------------------- roc_auc_ci


def test_delong_hand_worked_example():
    # positives 0.5, 0.7, 0.9; negatives 0.2, 0.5, 0.6 (one tie). Structural components:
    # V10 = [0.5, 1, 1] (mean 5/6, sample variance 1/12), V01 = [1, 5/6, 2/3] (variance 1/36);
    # DeLong variance = (1/12)/3 + (1/36)/3 = 1/27.
    r = sc.roc_auc_ci([0, 0, 0, 1, 1, 1], [0.2, 0.5, 0.6, 0.5, 0.7, 0.9])
    assert r.auc == pytest.approx(5 / 6, abs=1e-15)
    assert r.variance == pytest.approx(1 / 27, abs=1e-15)
    half = 1.959963984540054 * np.sqrt(1 / 27)
    assert r.ci == pytest.approx((5 / 6 - half, 1.0), abs=1e-12)  # clipped at 1
    assert (r.method, r.level, r.n_positive, r.n_negative) == ("delong", 0.95, 3, 3)
    assert isinstance(r.ci[0], float) and "variance" in repr(r)


@pytest.mark.parametrize("seed", range(5))
def test_delong_matches_quadratic_reference(seed):
    y, s, _ = _random_case(seed, ties=True)
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    expected = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    r = sc.roc_auc_ci(y, s)
    assert r.auc == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert r.variance == pytest.approx(expected, rel=1e-12)


def test_bootstrap_agrees_with_delong_and_is_seeded():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 1500)
    s = np.round(rng.normal(size=1500) + 0.8 * y, 1)  # ties
    d = sc.roc_auc_ci(y, s, 0.9)
    b = sc.roc_auc_ci(y, s, 0.9, method="bootstrap", n_bootstraps=1500, seed=3)
    assert b.auc == d.auc
    assert b.variance == pytest.approx(d.variance, rel=0.15)
    assert b.ci == pytest.approx(d.ci, abs=0.01)
    again = sc.roc_auc_ci(y, s, 0.9, method="bootstrap", n_bootstraps=1500, seed=3)
    assert again.ci == b.ci and b.n_bootstraps == 1500 and b.method == "bootstrap"


def test_bootstrap_resample_auc_is_the_weighted_auc():
    # the batched per-value computation must equal roc_auc_score on the same resample
    from symcalc.metrics.ci import _bootstrap_aucs

    y, s, _ = _random_case(5, ties=True)
    pos, neg = s[y == 1], s[y == 0]
    got = _bootstrap_aucs(pos, neg, 3, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    ip, ineg = rng.integers(0, pos.size, (3, pos.size)), rng.integers(0, neg.size, (3, neg.size))
    for k in range(3):
        ys = np.r_[np.ones(pos.size), np.zeros(neg.size)]
        ref = skm.roc_auc_score(ys, np.r_[pos[ip[k]], neg[ineg[k]]])
        assert got[k] == pytest.approx(ref, abs=1e-12)


def test_roc_auc_ci_bad_options():
    y, s = [0, 1, 0, 1], [0.1, 0.4, 0.35, 0.8]
    with pytest.raises(SymcalcError, match=r"level must be in \(0, 1\)"):
        sc.roc_auc_ci(y, s, 95)
    with pytest.raises(SymcalcError, match="method must be one of 'delong', 'bootstrap'"):
        sc.roc_auc_ci(y, s, method="exact")
    with pytest.raises(SymcalcError, match="n_bootstraps must be >= 2"):
        sc.roc_auc_ci(y, s, method="bootstrap", n_bootstraps=1)
    with pytest.raises(SymcalcError, match="seed must be an int"):
        sc.roc_auc_ci(y, s, method="bootstrap", seed=1.5)
    with pytest.raises(DataError, match="at least 2 positive and 2 negative.*1 positive"):
        sc.roc_auc_ci([0, 0, 1], [0.1, 0.2, 0.3])


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
