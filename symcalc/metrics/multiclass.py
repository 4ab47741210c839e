"""Multiclass and multilabel ROC AUC, averaged as scikit-learn does.

* one-vs-rest (``multi_class="ovr"``) and multilabel indicators: the binary AUC of every
  column, averaged with equal weights (``"macro"``), by the support of each class
  (``"weighted"``, Provost & Domingos 2000), over all cells at once (``"micro"``) or per
  sample (``"samples"``, multilabel only); ``average=None`` returns the per-class scores.
* one-vs-one (``multi_class="ovo"``): Hand & Till's (2001) M measure, the mean over class
  pairs (a, b) of ``(AUC(a | a, b) + AUC(b | a, b)) / 2``, each pair weighted by its
  prevalence for ``"weighted"``.

The sums (class supports, averages) are taken in scikit-learn's order, so the values agree
to the last bit.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from .._validate import describe
from ..errors import DataError, ShapeError, SymcalcError, UnsupportedOptionError
from ._curve import binary_auc
from ._labels import check_lengths

__all__ = ["multiclass_auc", "multilabel_auc", "check_probabilities", "class_columns"]


def _column_auc(
    is_pos: np.ndarray, score: np.ndarray, weight: np.ndarray | None, max_fpr: float | None
) -> float:
    """Binary AUC of one indicator column (``nan`` with a warning when it has one class)."""
    n_classes = 2 if is_pos.any() and not is_pos.all() else 1
    if weight is not None and n_classes == 2:
        keep = weight != 0
        if not keep.all():
            is_pos, score, weight = is_pos[keep], score[keep], weight[keep]
    return binary_auc(is_pos, score, weight, max_fpr, n_classes=n_classes)


def _average(scores: np.ndarray, support: np.ndarray | None, average: str | None) -> Any:
    """Average per-class scores; a class with zero support scores 0 (so its nan is ignored)."""
    if average is None:
        return scores
    if support is not None:
        scores = scores.copy()
        scores[support == 0] = 0
    return float(np.average(scores, weights=support))


def check_probabilities(score: np.ndarray) -> None:
    """Each row of a multiclass ``y_score`` must sum to 1 (``np.allclose``)."""
    sums = score.sum(axis=1)
    if not np.allclose(1, sums):
        i = int(np.flatnonzero(~np.isclose(1, sums))[0])
        raise DataError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should "
            f"sum up to 1.0 over classes; row {i} of y_score sums to {sums[i]:.6g}"
        )


def class_columns(y: np.ndarray, classes: np.ndarray, labels: Any, n_columns: int) -> np.ndarray:
    """The class of each column of ``y_score``: ``labels`` checked against ``y_true``, or the
    sorted classes of ``y_true``."""
    if labels is None:
        if classes.size != n_columns:
            raise ShapeError(
                "Number of classes in y_true not equal to the number of columns in 'y_score': "
                f"y_true has {classes.size} classes {describe(classes.tolist())}, y_score has "
                f"{n_columns} columns; pass labels= to name the class of each column"
            )
        return classes
    given = np.asarray(labels)
    if given.ndim != 1:
        raise ShapeError(f"labels must be a 1-D list of classes; got shape {given.shape}")
    unique = np.unique(given)
    if unique.size != given.size:
        raise DataError(f"Parameter 'labels' must be unique; got {describe(given.tolist())}")
    if not np.array_equal(unique, given):
        raise DataError(
            f"Parameter 'labels' must be ordered; got {describe(given.tolist())}, expected "
            f"{describe(unique.tolist())}"
        )
    if given.size != n_columns:
        raise ShapeError(
            f"Number of given labels, {given.size}, not equal to the number of columns in "
            f"'y_score', {n_columns}"
        )
    extra = np.setdiff1d(classes, given)
    if extra.size:
        raise DataError(
            f"'y_true' contains labels not in parameter 'labels': {describe(extra.tolist())}"
        )
    return given


def _check_options(multi_class: str, average: str | None, max_fpr: float | None) -> None:
    if max_fpr is not None:
        raise SymcalcError(
            "Partial AUC computation not available in multiclass setting, 'max_fpr' must be "
            f"set to `None`, received `max_fpr={max_fpr}` instead"
        )
    if multi_class == "raise":
        raise SymcalcError(
            "multi_class must be in ('ovo', 'ovr') when y_true has more than two classes "
            "(or y_score more than two columns): 'ovr' averages each class against the "
            "rest, 'ovo' every pair of classes (Hand & Till)"
        )


def multiclass_auc(
    y: np.ndarray,
    classes: np.ndarray,
    score: np.ndarray,
    *,
    labels: Any,
    multi_class: str,
    average: str | None,
    weight: np.ndarray | None,
    max_fpr: float | None,
) -> Any:
    """ROC AUC of a multiclass ``y`` against probability columns ``score`` (ovr or ovo)."""
    _check_options(multi_class, average, max_fpr)
    if score.ndim != 2:
        raise ShapeError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={score.shape}`."
        )
    check_probabilities(score)
    options = ("micro", "macro", "weighted", None) if multi_class == "ovr" else \
        ("macro", "weighted", None)
    if average not in options:
        raise SymcalcError(f"average must be one of {options} for multiclass problems; "
                           f"got {average!r}")
    if average is None and multi_class == "ovo":
        raise UnsupportedOptionError(
            "average=None is not implemented for multi_class='ovo'. Use multi_class='ovr' "
            "for per-class scores."
        )
    columns = class_columns(y, classes, labels, score.shape[1])
    if multi_class == "ovo" and weight is not None:
        raise SymcalcError(
            "sample_weight is not supported for multiclass one-vs-one ROC AUC, "
            "'sample_weight' must be None in this case."
        )
    check_lengths(y_true=y, y_score=score, sample_weight=weight)
    encoded = np.searchsorted(columns, y)
    if multi_class == "ovo":
        return _ovo(encoded, score, average)
    return _ovr(encoded, score, average, weight)


def _ovr(encoded: np.ndarray, score: np.ndarray, average: str | None,
         weight: np.ndarray | None) -> Any:
    k = score.shape[1]
    if average == "micro":
        is_pos = (encoded[:, None] == np.arange(k)).ravel()
        w = None if weight is None else np.repeat(weight, k)
        return _column_auc(is_pos, score.ravel(), w, None)
    support = None
    if average == "weighted":  # bincount adds in sample order, as a column sum does
        support = np.bincount(encoded, weights=weight, minlength=k)
        if np.isclose(support.sum(), 0):
            return 0.0
    scores = np.empty(k)
    for c in range(k):
        scores[c] = _column_auc(encoded == c, score[:, c], weight, None)
    return _average(scores, support, average)


def _ovo(encoded: np.ndarray, score: np.ndarray, average: str | None) -> float:
    present = np.unique(encoded)
    pairs = list(combinations(present.tolist(), 2))
    pair_scores = np.empty(len(pairs))
    prevalence = np.empty(len(pairs)) if average == "weighted" else None
    for i, (a, b) in enumerate(pairs):
        a_mask, b_mask = encoded == a, encoded == b
        ab = a_mask | b_mask
        if prevalence is not None:
            prevalence[i] = np.average(ab)
        a_auc = binary_auc(a_mask[ab], score[ab, a], None, None, n_classes=2)
        b_auc = binary_auc(b_mask[ab], score[ab, b], None, None, n_classes=2)
        pair_scores[i] = (a_auc + b_auc) / 2
    return float(np.average(pair_scores, weights=prevalence))


def multilabel_auc(
    y: np.ndarray,
    score: np.ndarray,
    *,
    average: str | None,
    weight: np.ndarray | None,
    max_fpr: float | None,
) -> Any:
    """ROC AUC of a 0/1 label indicator matrix ``y`` against scores of the same shape."""
    if score.shape != y.shape:
        raise ShapeError(
            f"y_score must have the shape of the indicator matrix y_true {y.shape}; got "
            f"shape {score.shape}"
        )
    check_lengths(y_true=y, y_score=score, sample_weight=weight)
    positive = y == 1
    if average == "micro":
        w = None if weight is None else np.repeat(weight, y.shape[1])
        return _column_auc(positive.ravel(), score.ravel(), w, max_fpr)
    if average == "samples":
        scores = np.array([_column_auc(positive[i], score[i], None, max_fpr)
                           for i in range(y.shape[0])])
        return _average(scores, weight, "samples")
    support = None
    if average == "weighted":
        support = y.sum(axis=0) if weight is None else \
            (y.astype(np.float64) * weight[:, None]).sum(axis=0)
        if np.isclose(support.sum(), 0):
            return 0.0
    scores = np.array([_column_auc(positive[:, c], score[:, c], weight, max_fpr)
                       for c in range(y.shape[1])])
    return _average(scores, support, average)
