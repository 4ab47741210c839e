"""ROC curve and the area under it, identical to scikit-learn's to the last bit.

:func:`roc_curve` and :func:`roc_auc_score` validate their input (:mod:`._labels`) and feed
one sorted core (:mod:`._curve`); multiclass and multilabel problems are averaged in
:mod:`.multiclass`; :func:`auc` integrates any monotonic curve by the trapezoidal rule
(NumPy's, the formula of :func:`scipy.integrate.trapezoid`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_finite_float, as_float_array, check_choice, describe
from ..errors import DataError, ShapeError, SymcalcError
from ._curve import binary_auc, drop_collinear, rates, sorted_counts, trapezoid
from ._labels import (
    as_labels,
    as_scores,
    as_weights,
    binary_inputs,
    binary_problem,
    check_lengths,
    classes_of,
    target_kind,
)
from .multiclass import multiclass_auc, multilabel_auc

__all__ = ["roc_curve", "auc", "roc_auc_score"]

_AVERAGES = ("macro", "weighted", "micro", "samples")


def _absent_note(pos_label: Any, classes: np.ndarray) -> str:
    """Why a class has no samples, when it is because the given pos_label never occurs."""
    if pos_label is None or (classes == pos_label).any():
        return ""
    return f"; pos_label={pos_label!r} is not among the labels {describe(classes.tolist())}"


def roc_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic curve, identical to ``sklearn.metrics.roc_curve``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels (numbers, booleans or strings); with ``pos_label`` also multiclass
        labels (that class against the rest).
    y_score : array-like of shape (n_samples,)
        Scores, larger meaning "more likely positive"; must be finite. Integer scores are
        ranked exactly (int64 above 2**53 included).
    pos_label : int, float, bool or str, optional
        The positive label. Required unless the labels are within {0, 1} or {-1, 1} (then 1).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights; zero-weight samples are ignored.
    drop_intermediate : bool, default True
        Drop thresholds whose point lies on a straight segment of the curve (it changes
        neither the plotted curve nor the area).

    Returns
    -------
    fpr, tpr : ndarray of shape (n_thresholds + 1,)
        False and true positive rates, increasing, starting at (0, 0). A rate whose class
        has no samples (or zero total weight) is all ``nan``, with an
        :class:`~symcalc.UndefinedMetricWarning`, as in scikit-learn.
    thresholds : ndarray of shape (n_thresholds + 1,)
        Decreasing; ``thresholds[0]`` is ``inf`` (no sample predicted positive), as in
        scikit-learn >= 1.3. Point ``k`` predicts positive when ``score >= thresholds[k]``.

    Raises
    ------
    DataError
        More than two classes without ``pos_label``, labels other than {0, 1}/{-1, 1}
        without ``pos_label``, non-integer float labels, negative weights;
        :class:`~symcalc.LabelTypeError` (also a ``TypeError``) for bytes or mixed labels;
        ``NonFiniteError``/``ShapeError`` for NaN/inf scores or unequal lengths.

    See Also
    --------
    roc_auc_score, auc, plot_roc

    Examples
    --------
    >>> import symcalc as sc
    >>> fpr, tpr, thr = sc.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    >>> thr.tolist()
    [inf, 0.8, 0.4, 0.35, 0.1]
    """
    problem = binary_inputs(y_true, y_score, sample_weight, pos_label)
    fps, tps, thresholds = sorted_counts(problem.is_pos, problem.score, problem.weight)
    if drop_intermediate:
        fps, tps, thresholds = drop_collinear(fps, tps, thresholds)
    fpr, tpr = rates(fps, tps, _absent_note(pos_label, problem.classes))
    return fpr, tpr, np.concatenate([[np.inf], thresholds])


def auc(x: Any, y: Any) -> float:
    """Area under a curve by the trapezoidal rule (as :func:`scipy.integrate.trapezoid`).

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Monotonic abscissae, increasing or decreasing (a decreasing ``x`` still gives the
        area as a positive number for a positive ``y``, like scikit-learn).
    y : array-like of shape (n_points,)
        Ordinates.

    Returns
    -------
    float

    Raises
    ------
    DataError
        Fewer than two points or a non-monotonic ``x``; ``ShapeError``/``NonFiniteError``
        for unequal lengths or NaN/inf (where scikit-learn would return ``nan``).

    Examples
    --------
    >>> import symcalc as sc
    >>> sc.auc([0, 0.5, 1], [0, 0.75, 1])
    0.625
    """
    xs = as_float_array(x, "x")
    ys = as_float_array(y, "y")
    check_lengths(x=xs, y=ys)
    if xs.size < 2:
        raise DataError(
            "At least 2 points are needed to compute area under curve, but x.shape = "
            f"{xs.shape}"
        )
    dx = np.diff(xs)
    direction = 1.0
    if (dx < 0).any():
        if (dx <= 0).all():
            direction = -1.0
        else:
            up = int(np.flatnonzero(dx > 0)[0])
            down = int(np.flatnonzero(dx < 0)[0])
            raise DataError(
                f"x is neither increasing nor decreasing : {np.asarray(x)}. It rises at "
                f"index {up} ({xs[up]:g} -> {xs[up + 1]:g}) and falls at index {down} "
                f"({xs[down]:g} -> {xs[down + 1]:g})"
            )
    return float(direction * trapezoid(ys, xs))


def _check_max_fpr(max_fpr: Any) -> float | None:
    if max_fpr is None:
        return None
    value = as_finite_float(max_fpr, "max_fpr")
    if not 0.0 < value <= 1.0:
        raise SymcalcError(f"max_fpr must be in (0, 1]; got {value:g}")
    return None if value == 1.0 else value


def _binary_score(
    y: np.ndarray,
    classes: np.ndarray,
    score: np.ndarray,
    sample_weight: Any,
    max_fpr: float | None,
    pos_label: Any,
) -> float:
    weight = as_weights(sample_weight)
    check_lengths(y_true=y, y_score=score, sample_weight=weight)
    problem = binary_problem(y, classes, score, weight, pos_label, default="larger")
    note = _absent_note(pos_label, problem.classes)
    return binary_auc(problem.is_pos, problem.score, problem.weight, max_fpr,
                      n_classes=min(problem.classes.size, 2), note=note)


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    sample_weight: Any = None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels: Any = None,
    pos_label: Any = None,
) -> Any:
    """Area under the ROC curve, equal to ``sklearn.metrics.roc_auc_score`` to the last bit.

    Binary, multiclass (one-vs-rest or one-vs-one) and multilabel problems, with
    scikit-learn's options, checks and results.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary or multiclass labels, or a 0/1 label indicator matrix (multilabel).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the positive class (the larger label unless ``pos_label`` says
        otherwise). Multiclass: probabilities summing to 1 per row, one column per class in
        sorted order (or the order of ``labels``). Multilabel: one score column per label.
    average : {"macro", "weighted", "micro", "samples"} or None, default "macro"
        How per-class AUCs are combined (ignored for binary ``y_true``): the plain mean, the
        mean weighted by class support, one AUC over all (sample, class) cells, the mean
        over samples (multilabel only); None returns the per-class scores (not with "ovo").
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights (not with ``multi_class="ovo"``).
    max_fpr : float in (0, 1], optional
        Return the McClish-standardized partial AUC over ``fpr <= max_fpr`` (binary and
        multilabel only): 0.5 for a chance-level classifier, 1 for a perfect one.
    multi_class : {"raise", "ovr", "ovo"}, default "raise"
        For multiclass ``y_true``: one-vs-rest, or Hand & Till's one-vs-one M measure.
        ``"raise"`` refuses a multiclass problem, so the choice is explicit.
    labels : array-like of shape (n_classes,), optional
        Multiclass only: the sorted classes that the columns of ``y_score`` stand for
        (needed when ``y_true`` lacks some class).
    pos_label : optional
        Binary only (a symcalc extension): the positive label, by default the larger one.

    Returns
    -------
    float, or ndarray of shape (n_classes,) when ``average`` is None
        ``nan`` with an :class:`~symcalc.UndefinedMetricWarning` when ``y_true`` holds one
        class only (or a class has zero total weight), as in scikit-learn.

    Raises
    ------
    DataError, ShapeError, NonFiniteError
        As for :func:`roc_curve`; probabilities that do not sum to 1, ``labels`` that are
        not unique, not sorted or not matching the columns.
    SymcalcError
        An unknown ``average``/``multi_class``, ``max_fpr`` outside (0, 1] or with a
        multiclass ``y_true``; :class:`~symcalc.UnsupportedOptionError` (also a
        ``NotImplementedError``) for ``average=None`` with ``multi_class="ovo"``.

    Notes
    -----
    Tied scores count one half (the trapezoid over a tie group), which makes the AUC the
    Mann-Whitney probability ``P(score_pos > score_neg) + P(tie) / 2``.

    Examples
    --------
    >>> import symcalc as sc
    >>> sc.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> y = [0, 1, 2, 2]
    >>> p = [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]
    >>> sc.roc_auc_score(y, p, multi_class="ovr")
    1.0
    """
    if average is not None:
        check_choice(average, _AVERAGES, "average")
    check_choice(multi_class, ("raise", "ovr", "ovo"), "multi_class")
    max_fpr = _check_max_fpr(max_fpr)
    y = as_labels(y_true, allow_2d=True)
    score = as_scores(y_score, ndim=(1, 2))
    classes = classes_of(y)
    kind = target_kind(y, classes)
    if kind == "multilabel-indicator":
        if pos_label is not None:
            raise SymcalcError("pos_label applies to binary problems only; a label indicator "
                               "matrix marks positives with 1")
        return multilabel_auc(y, score, average=average, weight=as_weights(sample_weight),
                              max_fpr=max_fpr)
    if score.ndim == 2 and score.shape[1] == 1:
        score = score[:, 0]
    if kind == "multiclass" and pos_label is not None and score.ndim == 1:
        return _binary_score(y, classes, score, sample_weight, max_fpr, pos_label)
    if kind == "multiclass" or (score.ndim == 2 and score.shape[1] > 2):
        if pos_label is not None:
            raise SymcalcError("pos_label applies to binary problems only; for multiclass "
                               "y_score the columns follow labels= (or the sorted classes)")
        return multiclass_auc(y, classes, score, labels=labels, multi_class=multi_class,
                              average=average, weight=as_weights(sample_weight),
                              max_fpr=max_fpr)
    if score.ndim == 2:
        raise ShapeError(
            f"y_score must be 1-D for binary y_true (the positive class's score); got shape "
            f"{score.shape}, e.g. pass y_score[:, 1] of predict_proba"
        )
    return _binary_score(y, classes, score, sample_weight, max_fpr, pos_label)
