"""Multiclass (one-vs-rest, one-vs-one) and multilabel ROC AUC against hand values and
scikit-learn, bit for bit, with scikit-learn's checks and messages."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

import symcalc as sc
from symcalc.errors import DataError, ShapeError, SymcalcError, UnsupportedOptionError

# Seven samples of three classes; the pairwise and one-vs-rest AUCs are counted by hand below.
Y_HAND = np.array([0, 0, 1, 1, 2, 2, 2])
P_HAND = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.3, 0.6, 0.1], [0.5, 0.3, 0.2],
                   [0.2, 0.2, 0.6], [0.1, 0.5, 0.4], [0.1, 0.1, 0.8]])


def test_one_vs_rest_by_hand():
    # class 0 (column 0): positives 0.7, 0.4 beat 5 and 4 of the 5 negatives -> 9/10
    # class 1 (column 1): positives 0.6, 0.3 beat 5 and 3 of the 5 negatives -> 8/10
    # class 2 (column 2): positives 0.6, 0.4, 0.8 beat all 4 negatives      -> 1
    per_class = sc.roc_auc_score(Y_HAND, P_HAND, multi_class="ovr", average=None)
    assert per_class == pytest.approx([0.9, 0.8, 1.0], abs=1e-15)
    assert sc.roc_auc_score(Y_HAND, P_HAND, multi_class="ovr") == pytest.approx(0.9, abs=1e-15)
    weighted = (2 * 0.9 + 2 * 0.8 + 3 * 1.0) / 7  # Provost & Domingos: weights = supports
    got = sc.roc_auc_score(Y_HAND, P_HAND, multi_class="ovr", average="weighted")
    assert got == pytest.approx(weighted, abs=1e-15)


def test_one_vs_one_hand_and_till_by_hand():
    # pair (0, 1): AUC(0 | col 0) = 3/4, AUC(1 | col 1) = 3/4         -> 0.75
    # pair (0, 2): AUC(0 | col 0) = 1, AUC(2 | col 2) = 1              -> 1
    # pair (1, 2): AUC(1 | col 1) = 5/6 (0.6 > 0.2, 0.5, 0.1; 0.3 > 0.2, 0.1), AUC(2 | col 2) = 1
    m = (0.75 + 1.0 + (5 / 6 + 1.0) / 2) / 3
    assert sc.roc_auc_score(Y_HAND, P_HAND, multi_class="ovo") == pytest.approx(m, abs=1e-15)
    prevalence = np.array([4, 5, 5]) / 7  # share of the samples in each pair
    pairs = np.array([0.75, 1.0, (5 / 6 + 1.0) / 2])
    got = sc.roc_auc_score(Y_HAND, P_HAND, multi_class="ovo", average="weighted")
    assert got == pytest.approx(np.average(pairs, weights=prevalence), abs=1e-15)


def _multiclass_case(seed: int):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    n = int(rng.integers(2 * k, 300))
    y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    rng.shuffle(y)
    logits = rng.integers(0, 4, (n, k)) if seed % 2 else rng.normal(size=(n, k))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # ties when seed is odd
    labels = None
    if seed % 5 == 0:  # a class that never occurs: an extra column and labels=
        p, labels = np.hstack([p, np.zeros((n, 1))]), list(range(k + 1))
    if seed % 3 == 0:
        y = np.array(["ant", "bee", "cat", "dog", "eel", "fox"])[y]
        labels = None if labels is None else ["ant", "bee", "cat", "dog", "eel", "fox", "gnu"][
            : k + 1]
    w = None if seed % 4 == 0 else rng.uniform(0, 2, n) * (rng.random(n) > 0.1)
    return y, p, labels, w


def _same(a, b) -> bool:
    if isinstance(b, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return (np.isnan(a) and np.isnan(b)) or a == b


def _both(fn_ours, fn_ref, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = fn_ours(*args, **kwargs)
        n_ours = len(caught)
        ref = fn_ref(*args, **kwargs)
    assert n_ours == len(caught) - n_ours  # the same warnings, as many
    return ours, ref


@pytest.mark.parametrize("seed", range(40))
def test_random_multiclass_identical_to_sklearn(seed):
    y, p, labels, w = _multiclass_case(seed)
    for multi_class, averages in (("ovr", ("macro", "weighted", "micro", None)),
                                  ("ovo", ("macro", "weighted"))):
        for average in averages:
            kw = dict(multi_class=multi_class, average=average, labels=labels,
                      sample_weight=w if multi_class == "ovr" else None)
            ours, ref = _both(sc.roc_auc_score, skm.roc_auc_score, y, p, **kw)
            assert _same(ours, ref), (multi_class, average)


@pytest.mark.parametrize("seed", range(30))
def test_random_multilabel_identical_to_sklearn(seed):
    rng = np.random.default_rng(100 + seed)
    n, k = int(rng.integers(6, 200)), int(rng.integers(2, 5))
    y = rng.integers(0, 2, (n, k))
    y[:2] = [[0] * k, [1] * k]
    s = np.round(rng.normal(size=(n, k)) + y, 1)
    w = None if seed % 2 else rng.integers(0, 4, n).astype(float)
    max_fpr = [None, 0.3][seed % 3 == 0]
    for average in ("macro", "weighted", "micro", "samples", None):
        ours, ref = _both(sc.roc_auc_score, skm.roc_auc_score, y, s, average=average,
                          sample_weight=w, max_fpr=max_fpr)
        assert _same(ours, ref), average


def test_multilabel_column_with_one_class_warns_and_weighted_ignores_it():
    y = np.array([[0, 1], [0, 0], [0, 1]])  # column 0 has no positive: support 0
    s = np.array([[0.1, 0.5], [0.2, 0.2], [0.3, 0.6]])
    with pytest.warns(sc.UndefinedMetricWarning, match="Only one class is present"):
        assert np.isnan(sc.roc_auc_score(y, s))
    with pytest.warns(sc.UndefinedMetricWarning):
        assert sc.roc_auc_score(y, s, average="weighted") == 1.0  # the nan column weighs 0
    assert sc.roc_auc_score(np.zeros((3, 2), dtype=int), s, average="weighted") == 0.0


def test_absent_class_in_ovr_is_nan_like_sklearn():
    p = np.hstack([P_HAND, np.zeros((7, 1))])
    with pytest.warns(sc.UndefinedMetricWarning, match="Only one class"):
        scores = sc.roc_auc_score(Y_HAND, p, multi_class="ovr", labels=[0, 1, 2, 3],
                                  average=None)
    assert scores[:3] == pytest.approx([0.9, 0.8, 1.0]) and np.isnan(scores[3])
    ovo = sc.roc_auc_score(Y_HAND, p, multi_class="ovo", labels=[0, 1, 2, 3])
    assert ovo == sc.roc_auc_score(Y_HAND, P_HAND, multi_class="ovo")  # pairs of present classes


P3 = np.array([[0.1, 0.8, 0.1], [0.3, 0.4, 0.3], [0.35, 0.5, 0.15], [0, 0.2, 0.8]])


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, SymcalcError, r"multi_class must be in \('ovo', 'ovr'\) when y_true has more"),
    ({"multi_class": "ovr", "max_fpr": 0.5}, SymcalcError,
     "Partial AUC computation not available in multiclass setting.*`max_fpr=0.5`"),
    ({"multi_class": "ovo", "average": "samples"}, SymcalcError,
     r"average must be one of \('macro', 'weighted', None\) for multiclass problems"),
    ({"multi_class": "ovr", "average": "samples"}, SymcalcError,
     r"average must be one of \('micro', 'macro', 'weighted', None\)"),
    ({"multi_class": "ovo", "average": None}, UnsupportedOptionError,
     "average=None is not implemented for multi_class='ovo'"),
    ({"multi_class": "ovo", "sample_weight": []}, SymcalcError,
     "sample_weight is not supported for multiclass one-vs-one ROC AUC"),
    ({"multi_class": "ovr", "labels": [0, 2, 1]}, DataError, "Parameter 'labels' must be ordered"),
    ({"multi_class": "ovr", "labels": [0, 1, 1]}, DataError, "Parameter 'labels' must be unique"),
    ({"multi_class": "ovr", "labels": [0, 1]}, ShapeError,
     "Number of given labels, 2, not equal to the number of columns in 'y_score', 3"),
    ({"multi_class": "ovr", "labels": [0, 1, 3]}, DataError,
     r"'y_true' contains labels not in parameter 'labels': \[2\]"),
    ({"multi_class": "ovr", "pos_label": 1}, SymcalcError, "pos_label applies to binary"),
])
def test_multiclass_errors_say_what_sklearn_says(kwargs, error, match):
    with pytest.raises(error, match=match):
        sc.roc_auc_score([0, 1, 2, 2], P3, **kwargs)


def test_multiclass_input_errors():
    assert issubclass(UnsupportedOptionError, NotImplementedError)
    with pytest.raises(DataError, match="should sum up to 1.0 over classes; row 0 .* 1.1"):
        sc.roc_auc_score([0, 1, 2], [[0.2, 0.2, 0.7], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]],
                         multi_class="ovr")
    with pytest.raises(ShapeError, match=r"Number of classes in y_true not equal.*2 classes"):
        sc.roc_auc_score([0, 2, 0, 2], P3, multi_class="ovr")
    with pytest.raises(ShapeError, match=r"needs to be of shape `\(n_samples, n_classes\)`"):
        sc.roc_auc_score([0, 1, 2], [0.1, 0.2, 0.3], multi_class="ovr")
    with pytest.raises(ShapeError, match="same length; got y_true: 4, y_score: 4, "
                                         "sample_weight: 2"):
        sc.roc_auc_score([0, 1, 2, 2], P3, multi_class="ovr", sample_weight=[1, 2])
    with pytest.raises(ShapeError, match=r"shape of the indicator matrix y_true \(2, 2\)"):
        sc.roc_auc_score([[0, 1], [1, 0]], [0.1, 0.2])
    with pytest.raises(SymcalcError, match="pos_label applies to binary problems only"):
        sc.roc_auc_score([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]], pos_label=1)
    with pytest.raises(DataError, match="multiclass-multioutput format is not supported"):
        sc.roc_auc_score([[0, 2], [1, 0]], [[0.1, 0.2], [0.3, 0.4]])
