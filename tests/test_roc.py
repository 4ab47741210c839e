"""Binary ROC curve and AUC: bit-for-bit scikit-learn, warnings, errors, exact ranking."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning as SklearnUndefined

import symcalc as sc
from symcalc.errors import (
    DataError,
    LabelTypeError,
    NonFiniteError,
    ShapeError,
    SymcalcError,
    UndefinedMetricWarning,
)

N_RANDOM = 3000


def _labels(rng: np.random.Generator, y01: np.ndarray):
    """The same binary labels as ints, +-1, booleans, strings or {3, 4} with a pos_label."""
    kind = int(rng.integers(0, 5))
    if kind == 0:
        return y01, None
    if kind == 1:
        return np.where(y01 == 1, 1, -1), None
    if kind == 2:
        return y01.astype(bool), None
    if kind == 3:
        return np.array(["neg", "pos"])[y01], str(rng.choice(["neg", "pos"]))
    return y01 + 3, int(rng.choice([3, 4]))


def _scores(rng: np.random.Generator, y01: np.ndarray) -> np.ndarray:
    n, kind = y01.size, int(rng.integers(0, 4))
    if kind == 0:
        return rng.normal(size=n) + y01  # no ties
    if kind == 1:
        return rng.integers(0, int(rng.integers(2, 10)), n).astype(float)  # many ties
    if kind == 2:
        return np.round(rng.normal(size=n), 1)
    return rng.integers(-5, 5, n)  # integer dtype


def _weights(rng: np.random.Generator, n: int):
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return None
    if kind == 1:
        return rng.integers(0, 5, n)  # int weights, zeros included
    if kind == 2:
        w = rng.uniform(0, 2, n)
        w[rng.random(n) < 0.1] = 0.0
        return w
    return np.round(rng.uniform(0, 0.1, n), 2) * 1.0000000000000002  # sums that round


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    y01 = rng.integers(0, 2, n)
    y, pos_label = _labels(rng, y01)
    max_fpr = [None, None, 0.1, 0.5, 0.9, 1.0][int(rng.integers(0, 6))]
    return y, _scores(rng, y01), _weights(rng, n), pos_label, max_fpr


def _call(fn, *args, **kwargs):
    """(result or exception class, sorted warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(*args, **kwargs)
        except ValueError as exc:
            out = type(exc)
    return out, sorted(str(w.message).split(";")[0] for w in caught)


def _same(ours, ref) -> bool:
    if isinstance(ref, tuple):
        return all(a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
                   for a, b in zip(ours, ref))
    if isinstance(ref, float) and np.isnan(ref):
        return isinstance(ours, float) and np.isnan(ours)
    return ours == ref  # exact: no tolerance


@pytest.mark.slow
def test_random_binary_cases_identical_to_sklearn_bit_for_bit():
    mismatches = []
    for seed in range(N_RANDOM):
        y, s, w, pos_label, max_fpr = random_case(seed)
        kw = {"sample_weight": w, "pos_label": pos_label, "drop_intermediate": seed % 2 == 0}
        ours, ref = _call(sc.roc_curve, y, s, **kw), _call(skm.roc_curve, y, s, **kw)
        if not (_same(ours[0], ref[0]) and ours[1] == ref[1]):
            mismatches.append(("roc_curve", seed))
        y_bin = y if pos_label is None else y == pos_label
        ours = _call(sc.roc_auc_score, y_bin, s, sample_weight=w, max_fpr=max_fpr)
        ref = _call(skm.roc_auc_score, y_bin, s, sample_weight=w, max_fpr=max_fpr)
        if ref[0] is ValueError:  # sklearn's partial AUC fails on the nan curve of a class
            assert np.isnan(ours[0]) and ours[1] == ref[1], seed  # weighted out; we say nan
        elif not (_same(ours[0], ref[0]) and ours[1] == ref[1]):
            mismatches.append(("roc_auc_score", seed))
    assert mismatches == []


def test_issue_example_weighted_sums_in_sklearns_order():
    y = [1, 0, 1, 1, 0, 1, 1]
    s = [0, 3, 3, 1, 3, 2, 0]
    w = [0.04000000000000001, 0.08000000000000002, 0.03, 0.09000000000000001,
         0.09000000000000001, 0.03, 0.05]
    fpr, tpr, thr = sc.roc_curve(y, s, sample_weight=w)
    assert thr.tolist() == [np.inf, 3, 2, 0]  # the point at 1 is collinear and dropped
    for ours, ref in zip((fpr, tpr, thr), skm.roc_curve(y, s, sample_weight=w)):
        assert np.array_equal(ours, ref)
    assert sc.roc_auc_score(y, s, sample_weight=w) == skm.roc_auc_score(y, s, sample_weight=w)


def test_hand_values_and_ulp_exact_example():
    fpr, tpr, thr = sc.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert thr.tolist() == [np.inf, 0.8, 0.4, 0.35, 0.1]
    assert sc.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert sc.roc_auc_score([0, 1], [1.0, 1.0]) == 0.5  # a full tie counts one half
    # 5 of 6 pairs ordered, the tie halved: (5 + 0.5) / 6 without rounding in the last bit
    assert sc.roc_auc_score([0, 0, 1, 1, 1], [1, 2, 2, 3, 4]) == skm.roc_auc_score(
        [0, 0, 1, 1, 1], [1, 2, 2, 3, 4])


@pytest.mark.parametrize("seed", range(5))
def test_auc_invariant_under_monotone_transform(seed):
    y, s, w, _, _ = random_case(seed)
    y = np.asarray(y == y.max())
    base = sc.roc_auc_score(y, s, sample_weight=w)
    for f in (lambda v: 3 * v - 7, np.exp, lambda v: np.arctan(v) ** 3):
        assert sc.roc_auc_score(y, f(s), sample_weight=w) == pytest.approx(base, abs=1e-13)
    assert sc.roc_auc_score(y, -s, sample_weight=w) == pytest.approx(1 - base, abs=1e-13)


def test_integer_weights_equal_repeated_samples():
    y = np.array([0, 1, 0, 1, 1, 0])
    s = np.array([0.3, 0.3, 0.1, 0.8, 0.5, 0.6])
    w = np.array([2, 1, 3, 1, 2, 1])
    repeated = sc.roc_auc_score(np.repeat(y, w), np.repeat(s, w))
    assert sc.roc_auc_score(y, s, sample_weight=w) == pytest.approx(repeated, abs=1e-15)


# ----------------------------------------------------------------- exact ranking, overflow


def test_int64_scores_above_2_53_are_ranked_exactly():
    big = 2**60  # float64 spacing there is 256: every score below collapses to one value
    y = [1, 1, 1, 0, 0, 0]
    s = np.array([big + 3, big + 5, big + 8, big + 1, big + 2, big + 6], dtype=np.int64)
    # positives 3, 5, 8 against negatives 1, 2, 6: 2 + 2 + 3 = 7 of 9 pairs
    assert sc.roc_auc_score(y, s) == pytest.approx(7 / 9, abs=1e-15)
    assert sc.roc_auc_score(y, s) == skm.roc_auc_score(y, s)
    assert sc.roc_auc_score(y, s.astype(float)) == 0.5  # what a float cast would give
    for ours, ref in zip(sc.roc_curve(y, s), skm.roc_curve(y, s)):
        assert ours.dtype == ref.dtype == np.float64 and np.array_equal(ours, ref)
    r = sc.roc_auc_ci(y, s)
    assert r.auc == pytest.approx(7 / 9, abs=1e-15) and r.variance > 0


def test_huge_weights_rescaled_exactly_instead_of_nan():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    y[:2] = [0, 1]
    s = np.round(rng.normal(size=200), 1)
    u = rng.uniform(0.5, 2.0, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning, no UndefinedMetricWarning
        scaled = sc.roc_curve(y, s, sample_weight=2.0**1020 * u)
        value = sc.roc_auc_score(y, s, sample_weight=np.full(200, 1e308))
    for ours, ref in zip(scaled, skm.roc_curve(y, s, sample_weight=u)):
        assert np.array_equal(ours, ref)  # a power-of-two rescale changes no bit
    assert value == sc.roc_auc_score(y, s)
    with pytest.raises(NonFiniteError, match="sample_weight contains inf"):
        sc.roc_auc_score(y, s, sample_weight=np.full(200, np.inf))


# ------------------------------------------------------------------- one class: nan + warning


def test_one_class_gives_nan_with_symcalc_warning_like_sklearn():
    with pytest.warns(UndefinedMetricWarning, match="No negative samples in y_true") as rec:
        fpr, tpr, thr = sc.roc_curve([1, 1, 1], [0.1, 0.2, 0.3], drop_intermediate=False)
    assert rec[0].filename == __file__  # points at the caller's line
    assert np.isnan(fpr).all() and tpr.tolist() == [0, 1 / 3, 2 / 3, 1.0]
    assert thr.tolist() == [np.inf, 0.3, 0.2, 0.1]
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
        assert np.isnan(sc.roc_auc_score([0, 0, 0], [0.1, 0.2, 0.3]))
    with pytest.warns(UndefinedMetricWarning, match="No positive samples in y_true"):
        assert np.isnan(sc.roc_auc_score([0, 1, 0, 1], [1, 2, 3, 4], sample_weight=[1, 0, 1, 0]))
    with pytest.warns(UndefinedMetricWarning) as rec:
        sc.roc_curve([0, 0], [0.25, 0.75])
    assert [str(w.message) for w in rec] == [
        "No positive samples in y_true, true positive value should be meaningless"]
    with pytest.warns(UndefinedMetricWarning, match="pos_label=5 is not among the labels"):
        assert np.isnan(sc.roc_curve([0, 1, 0], [1, 2, 3], pos_label=5)[1]).all()


def test_warning_is_filterable_and_caught_as_sklearns_class():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", sc.UndefinedMetricWarning)
        assert np.isnan(sc.roc_auc_score([1, 1], [0.2, 0.4]))
    with pytest.warns(SklearnUndefined, match="Only one class"):  # sklearn is imported here
        sc.roc_auc_score([1, 1], [0.2, 0.4])
    assert issubclass(sc.UndefinedMetricWarning, UserWarning)


# ------------------------------------------------------------------------------ errors


def test_error_classes_and_sklearn_wording():
    with pytest.raises(LabelTypeError, match="labels represented as bytes is not supported"):
        sc.roc_curve([b"a", b"b"], [0.0, 1.0])
    for err in (TypeError, SymcalcError, DataError):  # what sklearn users and symcalc catch
        with pytest.raises(err):
            sc.roc_auc_score(np.array([b"a", b"b"]), [0.0, 1.0])
    with pytest.raises(LabelTypeError, match=r"mixes label types \['int', 'str'\]"):
        sc.roc_curve(np.array(["a", 0, 1], dtype=object), [0.1, 0.2, 0.3])
    msg = r"y_true takes value in \{'a', 'b'\} and pos_label is not specified"
    with pytest.raises(DataError, match=msg):
        sc.roc_curve(np.array(["a", "b"], dtype=object), [0.0, 1.0])
    with pytest.raises(DataError, match=r"y_true takes value in \{1, 2\}"):
        sc.roc_curve([1, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="multiclass format is not supported.*3 classes"):
        sc.roc_curve([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(DataError, match="continuous format is not supported.*such as 0.5"):
        sc.roc_auc_score([0.5, 1.5, 0.5], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match=r"neither increasing nor decreasing : \[2 1 3 4\]\. "
                                        r"It rises at index 1 \(1 -> 3\)"):
        sc.auc([2, 1, 3, 4], [5, 6, 7, 8])


def test_multiclass_labels_with_pos_label_is_one_vs_rest_like_sklearn():
    y, s = [0, 1, 2, 2, 1, 0], [0.1, 0.5, 0.9, 0.7, 0.2, 0.3]
    for ours, ref in zip(sc.roc_curve(y, s, pos_label=2), skm.roc_curve(y, s, pos_label=2)):
        assert np.array_equal(ours, ref)
    assert sc.roc_auc_score(y, s, pos_label=2) == 1.0


def test_auc_trapezoid_and_bad_input():
    assert sc.auc([0, 0.5, 1], [0, 0.75, 1]) == 0.625
    assert sc.auc([1, 0.5, 0], [1, 0.75, 0]) == 0.625
    with pytest.raises(DataError, match="At least 2 points are needed.*x.shape = \\(1,\\)"):
        sc.auc([0], [1])
    with pytest.raises(ShapeError, match="x and y.*x: 3, y: 2"):
        sc.auc([0, 1, 2], [0, 1])
    with pytest.raises(NonFiniteError, match="y contains nan at index 1"):
        sc.auc([0, 1, 2], [0, np.nan, 1])


@pytest.mark.parametrize("fn", [sc.roc_curve, sc.roc_auc_score])
def test_bad_scores_labels_and_lengths(fn):
    with pytest.raises(NonFiniteError, match="y_score contains nan at index 2"):
        fn([0, 1, 0, 1], [0.1, 0.2, np.nan, 0.4])
    with pytest.raises(NonFiniteError, match="y_true contains nan at index 1"):
        fn([0, np.nan, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ShapeError, match="same length; got y_true: 4, y_score: 3"):
        fn([0, 1, 0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="y_score must contain numbers only"):
        fn([0, 1, 0, 1], ["a", "b", "c", "d"])
    with pytest.raises(DataError, match="y_true is empty"):
        fn([], [])
    with pytest.raises(DataError, match="y_score contains 10+.* beyond the float64 range"):
        fn([0, 1, 0, 1], [10**400, 1, 2, 3])
    with pytest.raises(DataError, match="y_true contains None"):
        fn(np.array([0, None, 1], dtype=object), [0.1, 0.2, 0.3])


def test_bad_shapes():
    with pytest.raises(ShapeError, match="y_true must be a 1-D array of labels; got shape"):
        sc.roc_curve([[0, 1], [0, 1]], [0.1, 0.2])
    with pytest.raises(ShapeError, match=r"y_score must be 1-D for binary y_true.*\(2, 2\)"):
        sc.roc_auc_score([0, 1], [[0.1, 0.9], [0.2, 0.8]])


@pytest.mark.parametrize("fn", [sc.roc_curve, sc.roc_auc_score])
def test_bad_weights(fn):
    y, s = [0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4]
    with pytest.raises(DataError, match="sample_weight must be >= 0; got -1 at index 2"):
        fn(y, s, sample_weight=[1, 1, -1, 1])
    with pytest.raises(NonFiniteError, match="sample_weight contains nan"):
        fn(y, s, sample_weight=[1, np.nan, 1, 1])
    with pytest.raises(ShapeError, match="y_true, y_score and sample_weight.*sample_weight: 3"):
        fn(y, s, sample_weight=[1, 1, 1])
    with pytest.raises(DataError, match="at least one non-zero number; every one of the 4"):
        fn(y, s, sample_weight=[0, 0, 0, 0])
    with pytest.raises(DataError, match="sample_weight contains 10+.* beyond the float64 range"):
        fn(y, s, sample_weight=[1, 10**400, 1, 1])


def test_bad_options():
    for bad in (0, -0.1, 1.5):
        with pytest.raises(SymcalcError, match=r"max_fpr must be in \(0, 1\]"):
            sc.roc_auc_score([0, 1], [0.2, 0.4], max_fpr=bad)
    with pytest.raises(SymcalcError, match="max_fpr must be a real number"):
        sc.roc_auc_score([0, 1], [0.2, 0.4], max_fpr="half")
    with pytest.raises(SymcalcError, match="average must be one of 'macro'.*got 'mean'"):
        sc.roc_auc_score([0, 1], [0.2, 0.4], average="mean")
    with pytest.raises(SymcalcError, match="multi_class must be one of 'raise', 'ovr', 'ovo'"):
        sc.roc_auc_score([0, 1], [0.2, 0.4], multi_class="all")
