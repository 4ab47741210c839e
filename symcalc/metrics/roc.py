"""ROC curve and area under it, identical to scikit-learn's, built on one sorted core.

:func:`_sorted_thresholds` sorts the scores once and returns the cumulative false and true
positive counts at every distinct score (the candidate thresholds, in decreasing order).
:func:`roc_curve` and :func:`roc_auc_score` are thin layers over it; :func:`auc` integrates any
monotonic curve with the trapezoidal rule (NumPy's, the formula of
:func:`scipy.integrate.trapezoid`, so importing this module does not import SciPy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_finite_float, as_float_array, check_equal_lengths
from ..errors import DataError, SymcalcError
from ._labels import binary_inputs

__all__ = ["roc_curve", "auc", "roc_auc_score"]

#: The trapezoidal rule (``numpy.trapz`` before NumPy 2.0).
trapezoid = getattr(np, "trapezoid", None) or np.trapz


def _sorted_thresholds(
    is_pos: np.ndarray, score: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative (weighted) false/true positive counts at each distinct score.

    Returns ``fps, tps, thresholds``: ``thresholds`` are the distinct scores in decreasing
    order and ``fps[k]``/``tps[k]`` count the negatives/positives scoring ``>= thresholds[k]``.

    Without weights the two classes are sorted separately in place (a value sort, much faster
    than an argsort) and merged by a stable argsort, which is one linear merge of two sorted
    runs; with weights one argsort carries the weights along. The order inside a group of tied
    scores is irrelevant: a group contributes one threshold. Large temporaries are kept few,
    since at 10^7 samples allocating memory costs as much as the arithmetic.
    """
    n = score.size
    if weight is None:
        n_neg = n - int(np.count_nonzero(is_pos))
        merged = np.empty(n)
        for part, mask in ((merged[:n_neg], ~is_pos), (merged[n_neg:], is_pos)):
            np.compress(mask, score, out=part)
            part.sort()
        order = np.argsort(merged, kind="stable")  # timsort: one merge of two runs
        s_desc = merged[order][::-1]
        pos_desc = (order >= n_neg)[::-1]
        del order, merged
    else:
        order = np.argsort(score)
        s_desc = score[order][::-1]
        pos_desc = is_pos[order][::-1]
        w_desc = weight[order][::-1]
    last = np.empty(n, dtype=bool)  # last sample of its group of tied scores
    np.not_equal(s_desc[1:], s_desc[:-1], out=last[:-1])
    last[-1] = True
    ends = None if last.all() else np.flatnonzero(last)
    if weight is None:
        tps = np.cumsum(pos_desc, dtype=np.float64)
        fps = np.arange(1.0, n + 1.0)
    else:
        tps = np.cumsum(np.where(pos_desc, w_desc, 0.0))
        fps = np.cumsum(np.where(pos_desc, 0.0, w_desc))
    if ends is not None:
        tps, fps, s_desc = tps[ends], fps[ends], s_desc[ends]
    if weight is None:
        fps -= tps  # samples at or above the threshold minus the positives among them
    return fps, tps, s_desc


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
        Binary labels (numbers, booleans or strings).
    y_score : array-like of shape (n_samples,)
        Scores, larger meaning "more likely positive"; must be finite.
    pos_label : int, float, bool or str, optional
        The positive label. Required unless the labels are {0, 1} or {-1, 1} (then 1).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights; zero-weight samples are ignored.
    drop_intermediate : bool, default True
        Drop thresholds whose point lies on a straight segment of the curve (it changes
        neither the plotted curve nor the area).

    Returns
    -------
    fpr, tpr : ndarray of shape (n_thresholds + 1,)
        False and true positive rates, increasing, starting at (0, 0).
    thresholds : ndarray of shape (n_thresholds + 1,)
        Decreasing; ``thresholds[0]`` is ``inf`` (no sample predicted positive), as in
        scikit-learn >= 1.3. Point ``k`` predicts positive when ``score >= thresholds[k]``.

    Raises
    ------
    DataError
        One class only, more than two classes, an unknown or missing ``pos_label``,
        negative weights; ``NonFiniteError``/``ShapeError`` for NaN/inf scores or unequal
        lengths.

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
    is_pos, score, weight = binary_inputs(y_true, y_score, sample_weight, pos_label)
    fps, tps, thresholds = _sorted_thresholds(is_pos, score, weight)
    if drop_intermediate and fps.size > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.concatenate([[True], corner, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fpr = np.concatenate([[0.0], fps / fps[-1]])
    tpr = np.concatenate([[0.0], tps / tps[-1]])
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
        for unequal lengths or NaN/inf.

    Examples
    --------
    >>> import symcalc as sc
    >>> sc.auc([0, 0.5, 1], [0, 0.75, 1])
    0.625
    """
    xs = as_float_array(x, "x")
    ys = as_float_array(y, "y")
    check_equal_lengths({"x": xs, "y": ys}, what="x and y")
    if xs.size < 2:
        raise DataError(f"auc needs at least 2 points; got {xs.size}")
    dx = np.diff(xs)
    direction = 1.0
    if (dx < 0).any():
        if (dx <= 0).all():
            direction = -1.0
        else:
            up = int(np.flatnonzero(dx > 0)[0])
            down = int(np.flatnonzero(dx < 0)[0])
            raise DataError(
                "x must be monotonic (increasing or decreasing); it rises at index "
                f"{up} ({xs[up]:g} -> {xs[up + 1]:g}) and falls at index {down} "
                f"({xs[down]:g} -> {xs[down + 1]:g})"
            )
    return float(direction * trapezoid(ys, xs))


def _partial_area(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """McClish-standardized area of the ROC curve over ``0 <= fpr <= max_fpr``."""
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    end = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    area = float(trapezoid(np.append(tpr[:stop], end), np.append(fpr[:stop], max_fpr)))
    min_area = 0.5 * max_fpr**2  # the chance diagonal
    return 0.5 * (1.0 + (area - min_area) / (max_fpr - min_area))


def _check_max_fpr(max_fpr: Any) -> float | None:
    if max_fpr is None:
        return None
    value = as_finite_float(max_fpr, "max_fpr")
    if not 0.0 < value <= 1.0:
        raise SymcalcError(f"max_fpr must be in (0, 1]; got {value:g}")
    return None if value == 1.0 else value


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    sample_weight: Any = None,
    max_fpr: float | None = None,
    pos_label: Any = None,
) -> float:
    """Area under the ROC curve, equal to ``sklearn.metrics.roc_auc_score`` (binary case).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels (numbers, booleans or strings).
    y_score : array-like of shape (n_samples,)
        Finite scores, larger meaning "more likely positive".
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    max_fpr : float in (0, 1], optional
        Return the McClish-standardized partial AUC over ``fpr <= max_fpr``: 0.5 for a
        chance-level classifier, 1 for a perfect one.
    pos_label : optional
        The positive label; by default the larger of the two labels (scikit-learn's rule).

    Returns
    -------
    float

    Raises
    ------
    DataError, NonFiniteError, ShapeError, SymcalcError
        As for :func:`roc_curve`; ``max_fpr`` outside (0, 1].

    Notes
    -----
    Tied scores count one half (the trapezoid over a tie group), which makes the AUC the
    Mann-Whitney probability ``P(score_pos > score_neg) + P(tie) / 2``.

    Examples
    --------
    >>> import symcalc as sc
    >>> sc.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    max_fpr = _check_max_fpr(max_fpr)
    is_pos, score, weight = binary_inputs(
        y_true, y_score, sample_weight, pos_label, default="larger"
    )
    fps, tps, _ = _sorted_thresholds(is_pos, score, weight)
    fpr, tpr = np.zeros(fps.size + 1), np.zeros(tps.size + 1)
    np.divide(fps, fps[-1], out=fpr[1:])
    np.divide(tps, tps[-1], out=tpr[1:])
    del fps, tps
    if max_fpr is None:
        return float(trapezoid(tpr, fpr))
    return _partial_area(fpr, tpr, max_fpr)
