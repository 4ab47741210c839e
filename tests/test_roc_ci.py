"""AUC confidence intervals (binary and multiclass one-vs-rest) and DeLong's comparison of
two correlated AUCs, against hand-derived values and independent O(n^2) implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

import symcalc as sc
from symcalc.errors import DataError, ShapeError, SymcalcError
from symcalc.metrics._bootstrap import bootstrap_ovr_aucs


def _case(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:4] = [0, 1, 0, 1]
    a = np.round(rng.normal(size=n) + y, 1)  # ties
    b = np.round(0.6 * a + rng.normal(size=n) + 0.4 * y, 1)  # correlated with a
    return y, a, b


def _placements(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """The O(m n) Mann-Whitney kernel: 1 if pos_i > neg_j, 1/2 if tied, 0 otherwise."""
    return (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])


def _delong_reference(y, scores):
    """DeLong, DeLong & Clarke-Pearson (1988), written out with the full kernel matrix."""
    pos, neg = y == 1, y == 0
    psi = [_placements(s[pos], s[neg]) for s in scores]
    v10 = np.array([p.mean(axis=1) for p in psi])
    v01 = np.array([p.mean(axis=0) for p in psi])
    cov = np.cov(v10) / pos.sum() + np.cov(v01) / neg.sum()
    return np.array([p.mean() for p in psi]), np.atleast_2d(cov)


# ------------------------------------------------------------------------ binary intervals


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


@pytest.mark.parametrize("seed", range(4))
def test_delong_variance_matches_quadratic_reference(seed):
    y, a, _ = _case(seed)
    aucs, cov = _delong_reference(y, [a])
    r = sc.roc_auc_ci(y, a)
    assert r.auc == skm.roc_auc_score(y, a)  # the same number, not only close
    assert r.auc == pytest.approx(aucs[0], abs=1e-12)
    assert r.variance == pytest.approx(cov[0, 0], rel=1e-12)


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


def test_bootstrap_resample_auc_is_the_auc_of_the_resample():
    # the per-value count computation must equal roc_auc_score on the same resample
    y, s, _ = _case(5, n=120)
    strata = [np.flatnonzero(y == 0), np.flatnonzero(y == 1)]
    got = bootstrap_ovr_aucs([s], strata, 3, np.random.default_rng(9))[:, 0]
    rng = np.random.default_rng(9)  # one batch: each stratum's picks for all resamples
    picks = [st[rng.integers(0, st.size, (3, st.size))] for st in strata]
    for k in range(3):
        rows = np.concatenate([pick[k] for pick in picks])
        assert got[k] == pytest.approx(skm.roc_auc_score(y[rows], s[rows]), abs=1e-12)


def test_roc_auc_ci_bad_options():
    y, s = [0, 1, 0, 1], [0.1, 0.4, 0.35, 0.8]
    with pytest.raises(SymcalcError, match=r"level must be in \(0, 1\)"):
        sc.roc_auc_ci(y, s, 95)
    with pytest.raises(SymcalcError, match="method must be one of 'delong', 'bootstrap'"):
        sc.roc_auc_ci(y, s, method="exact")
    with pytest.raises(SymcalcError, match="n_bootstraps must be >= 2"):
        sc.roc_auc_ci(y, s, method="bootstrap", n_bootstraps=1)
    with pytest.raises(SymcalcError, match=r"n_bootstraps must be <= 1,000,000; got "
                                           r"1,000,000,000"):
        sc.roc_auc_ci(y, s, method="bootstrap", n_bootstraps=10**9)
    with pytest.raises(SymcalcError, match="seed must be an int"):
        sc.roc_auc_ci(y, s, method="bootstrap", seed=1.5)
    with pytest.raises(DataError, match="at least 2 positive and 2 negative.*1 positive"):
        sc.roc_auc_ci([0, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="at least 2 positive.*3 positive and 0 negative"):
        sc.roc_auc_ci([0, 0, 0], [0.1, 0.2, 0.3])  # one class: the larger label is positive
    with pytest.raises(ShapeError, match="same length; got y_true: 4, y_score: 3"):
        sc.roc_auc_ci(y, s[:3])


# -------------------------------------------------------------------- multiclass intervals


def _multiclass(seed: int, n: int = 240, k: int = 3):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    logits = rng.normal(size=(n, k)) + 1.2 * (y[:, None] == np.arange(k))
    return y, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def test_multiclass_ci_per_class_delong_and_macro_bootstrap():
    y, p = _multiclass(0)
    r = sc.roc_auc_ci(y, p, n_bootstraps=400, seed=1)
    assert r.auc == skm.roc_auc_score(y, p, multi_class="ovr")  # bit for bit
    assert r.classes == [0, 1, 2] and r.method == "bootstrap" and r.class_method == "delong"
    for c in range(3):
        binary = sc.roc_auc_ci(y == c, p[:, c])
        assert r.class_auc[c] == binary.auc and tuple(r.class_ci[c]) == binary.ci
        assert r.per_class[c].variance == binary.variance
    low, high = r.ci
    assert low < r.auc < high and high - low < 0.2
    # the macro average's spread is smaller than one class's: averaging cancels noise
    assert r.std_error < max(res.std_error for res in r.per_class.values())
    again = sc.roc_auc_ci(y, p, n_bootstraps=400, seed=1)
    assert again.ci == r.ci


def test_multiclass_bootstrap_resample_is_the_macro_auc_of_the_resample():
    y, p = _multiclass(2, n=90)
    strata = [np.flatnonzero(y == c) for c in range(3)]
    cols = [p[:, c].copy() for c in range(3)]
    got = bootstrap_ovr_aucs(cols, strata, 2, np.random.default_rng(4))
    rng = np.random.default_rng(4)
    picks = [st[rng.integers(0, st.size, (2, st.size))] for st in strata]
    for k in range(2):
        rows = np.concatenate([pick[k] for pick in picks])
        ref = skm.roc_auc_score(y[rows], p[rows], multi_class="ovr", average=None)
        assert got[k] == pytest.approx(ref, abs=1e-12)


def test_multiclass_ci_by_bootstrap_per_class_and_string_labels():
    y, p = _multiclass(3)
    names = np.array(["cat", "dog", "emu"])[y]
    r = sc.roc_auc_ci(names, p, method="bootstrap", n_bootstraps=300, seed=0)
    assert r.classes == ["cat", "dog", "emu"] and r.class_method == "bootstrap"
    assert r.per_class["dog"].n_bootstraps == 300
    assert all(lo < a < hi for a, (lo, hi) in zip(r.class_auc, r.class_ci))


def test_multiclass_ci_errors():
    y, p = _multiclass(0, n=9)
    with pytest.raises(SymcalcError, match="multi_class must be one of 'ovr'; got 'ovo'"):
        sc.roc_auc_ci(y, p, multi_class="ovo")
    with pytest.raises(DataError, match="at least 2 positive and 2 negative samples of every "
                                        "class \\(class 2\\); got 1 positive"):
        sc.roc_auc_ci([0, 0, 0, 1, 1, 1, 2], p[:7])
    with pytest.raises(DataError, match="should sum up to 1.0"):
        sc.roc_auc_ci(y, p * 2)


# -------------------------------------------------------------------------- comparison


def test_compare_hand_worked_example():
    # a separates perfectly (every component 1, variance 0). For b the positives 0.5, 0.1,
    # 0.7 against the negatives 0.3, 0.2, 0.6 give V10 = [2/3, 0, 1] (variance 7/27) and
    # V01 = [2/3, 2/3, 1/3] (variance 1/27): var(b) = 7/81 + 1/81 = 8/81, cov(a, b) = 0.
    # difference 1 - 5/9 = 4/9, std error sqrt(8)/9, z = 4/sqrt(8) = sqrt(2).
    y = [0, 0, 0, 1, 1, 1]
    r = sc.roc_auc_compare(y, [0.1, 0.4, 0.35, 0.8, 0.7, 0.9], [0.3, 0.2, 0.6, 0.5, 0.1, 0.7])
    assert (r.auc_a, r.auc_b) == (1.0, pytest.approx(5 / 9, abs=1e-15))
    assert r.difference == pytest.approx(4 / 9, abs=1e-15)
    assert r.variance == pytest.approx(8 / 81, abs=1e-15)
    assert r.z == pytest.approx(np.sqrt(2), abs=1e-14)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(np.sqrt(2)), abs=1e-14)  # 0.1573
    half = stats.norm.ppf(0.975) * np.sqrt(8) / 9
    assert r.ci == pytest.approx((4 / 9 - half, min(1.0, 4 / 9 + half)), abs=1e-14)
    assert np.isnan(r.correlation) and r.method == "delong" and "p_value" in repr(r)


@pytest.mark.parametrize("seed", range(6))
def test_compare_matches_quadratic_delong(seed):
    y, a, b = _case(seed)
    aucs, cov = _delong_reference(y, [a, b])
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (aucs[0] - aucs[1]) / np.sqrt(var)
    r = sc.roc_auc_compare(y, a, b, level=0.9)
    assert (r.auc_a, r.auc_b) == (skm.roc_auc_score(y, a), skm.roc_auc_score(y, b))
    assert r.variance == pytest.approx(var, rel=1e-10)
    assert r.z == pytest.approx(z, rel=1e-9)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-8)
    assert r.correlation == pytest.approx(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), rel=1e-9)
    half = stats.norm.ppf(0.95) * np.sqrt(var)
    assert r.ci == pytest.approx((r.difference - half, r.difference + half), rel=1e-9)
    swapped = sc.roc_auc_compare(y, b, a, level=0.9)
    assert swapped.z == pytest.approx(-r.z, rel=1e-12) and swapped.p_value == r.p_value


def test_compare_alternatives_and_identical_scores():
    y, a, b = _case(7)
    two = sc.roc_auc_compare(y, a, b)
    greater = sc.roc_auc_compare(y, a, b, alternative="greater")
    less = sc.roc_auc_compare(y, a, b, alternative="less")
    assert greater.p_value + less.p_value == pytest.approx(1.0, abs=1e-14)
    assert min(greater.p_value, less.p_value) == pytest.approx(two.p_value / 2, rel=1e-12)
    same = sc.roc_auc_compare(y, a, a.copy())
    assert (same.difference, same.z, same.p_value, same.variance) == (0.0, 0.0, 1.0, 0.0)


def test_compare_bad_input():
    y, a, b = _case(0, n=20)
    with pytest.raises(ShapeError, match="y_true, score_a and score_b.*score_b: 19"):
        sc.roc_auc_compare(y, a, b[:-1])
    with pytest.raises(DataError, match="at least 2 positive and 2 negative.*1 positive"):
        sc.roc_auc_compare([0, 0, 1], [1, 2, 3], [3, 2, 1])
    with pytest.raises(SymcalcError, match="alternative must be one of 'two-sided'"):
        sc.roc_auc_compare(y, a, b, alternative="bigger")
    with pytest.raises(SymcalcError, match=r"level must be in \(0, 1\)"):
        sc.roc_auc_compare(y, a, b, level=1.0)
    with pytest.raises(DataError, match="score_b must contain numbers only"):
        sc.roc_auc_compare(y, a, ["x"] * 20)
