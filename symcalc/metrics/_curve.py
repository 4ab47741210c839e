"""The sorted core of every ROC computation, summing in scikit-learn's order.

:func:`sorted_counts` sorts the scores once and returns the cumulative false and true
positive counts at each distinct score. Floating-point sums depend on their order, so to give
scikit-learn's values to the last bit the weighted sums run over the samples in the order of
a *stable* descending sort (tied scores keep their input order) and accumulate with
``cumsum``; the curve keeps the same points (:func:`drop_collinear`) and the area is the same
trapezoid (NumPy's ``trapezoid``, the formula of :func:`scipy.integrate.trapezoid`, so
importing this module does not import SciPy). Unweighted counts are integers, exact in any
order, which allows a faster sort.
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType

import numpy as np

from ..errors import UndefinedMetricWarning
from ._labels import UNDEFINED_ONE_CLASS

__all__ = ["sorted_counts", "drop_collinear", "rates", "binary_auc", "warn_undefined"]

#: The trapezoidal rule (``numpy.trapz`` before NumPy 2.0).
trapezoid = getattr(np, "trapezoid", None) or np.trapz

_NO_NEGATIVE = "No negative samples in y_true, false positive value should be meaningless"
_NO_POSITIVE = "No positive samples in y_true, true positive value should be meaningless"


_BRIDGES: dict[type, type[Warning]] = {}


def _bridged(sklearn_class: type[Warning]) -> type[Warning]:
    """symcalc's warning class that is also scikit-learn's (for filters written for either)."""
    if sklearn_class not in _BRIDGES:
        _BRIDGES[sklearn_class] = type(
            "UndefinedMetricWarning", (UndefinedMetricWarning, sklearn_class),
            {"__module__": UndefinedMetricWarning.__module__,
             "__doc__": UndefinedMetricWarning.__doc__})
    return _BRIDGES[sklearn_class]


def warn_undefined(message: str) -> None:
    """Emit an :class:`UndefinedMetricWarning` pointing at the first caller outside symcalc."""
    category: type[Warning] = UndefinedMetricWarning
    sk = sys.modules.get("sklearn.exceptions")
    base = getattr(sk, "UndefinedMetricWarning", None)
    if isinstance(base, type) and issubclass(base, UserWarning):
        category = _bridged(base)
    frame: FrameType | None = sys._getframe(0)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("symcalc."):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _stable_descending(score: np.ndarray) -> np.ndarray:
    """Indices sorting ``score`` in decreasing order, ties kept in input order."""
    last = score.size - 1
    order = np.argsort(score[::-1], kind="stable")[::-1]
    return last - order


def _weighted_cumsums(pos: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative positive and negative weight, in order; rescaled by a power of two (exact)
    if the totals overflow, where the unscaled sums would give nan."""
    with np.errstate(over="ignore"):
        tps = np.cumsum(np.where(pos, w, 0.0))
        fps = np.cumsum(np.where(pos, 0.0, w))
    if np.isfinite(tps[-1]) and np.isfinite(fps[-1]):
        return tps, fps
    # total <= max(w) * n < 2**(exponent + bits of n): bring it under 2**1000
    exponent = int(np.frexp(w.max())[1]) + int(w.size).bit_length() - 1000
    w = w * np.ldexp(1.0, -exponent)
    return np.cumsum(np.where(pos, w, 0.0)), np.cumsum(np.where(pos, 0.0, w))


def _unweighted_counts(
    is_pos: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of :func:`sorted_counts` without weights, computed in increasing score order.

    The two classes are sorted separately in place (a value sort, much faster than an
    argsort) and merged by a stable argsort, which is one linear merge of two sorted runs. The
    samples at or above a group of tied scores are those from the group's first index on, so
    every count comes from one cumulative sum over contiguous memory (a cumsum over a reversed
    view is ten times slower); only the short result arrays are reversed.
    """
    n = score.size
    n_pos = int(np.count_nonzero(is_pos))
    n_neg = n - n_pos
    merged = np.empty(n, dtype=score.dtype)
    for part, mask in ((merged[:n_neg], ~is_pos), (merged[n_neg:], is_pos)):
        np.compress(mask, score, out=part)
        part.sort()
    order = np.argsort(merged, kind="stable")  # timsort: one merge of two runs
    s_asc = merged[order]
    del merged
    below = np.empty(n + 1, dtype=np.int64)  # positives strictly below each index
    below[0] = 0
    np.cumsum(order >= n_neg, out=below[1:])
    del order
    first = np.empty(n, dtype=bool)  # first sample of its group of tied scores
    first[0] = True
    np.not_equal(s_asc[1:], s_asc[:-1], out=first[1:])
    if first.all():
        starts, tps = np.arange(n), n_pos - below[:-1]
    else:
        starts = np.flatnonzero(first)
        tps, s_asc = n_pos - below[starts], s_asc[starts]
    fps = (n - starts) - tps  # samples at or above the threshold minus the positives
    return (fps[::-1].astype(np.float64), tps[::-1].astype(np.float64),
            s_asc[::-1].astype(np.float64))


def sorted_counts(
    is_pos: np.ndarray, score: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative (weighted) false/true positive counts at each distinct score.

    Returns ``fps, tps, thresholds``: ``thresholds`` are the distinct scores in decreasing
    order (float64) and ``fps[k]``/``tps[k]`` count the negatives/positives scoring
    ``>= thresholds[k]``. Integer counts are exact in any order (:func:`_unweighted_counts`);
    weighted sums run in scikit-learn's order (see the module docstring).
    """
    if weight is None:
        return _unweighted_counts(is_pos, score)
    order = _stable_descending(score)
    s_desc = score[order]
    tps, fps = _weighted_cumsums(is_pos[order], weight[order])
    del order
    last = np.empty(s_desc.size, dtype=bool)  # last sample of its group of tied scores
    np.not_equal(s_desc[1:], s_desc[:-1], out=last[:-1])
    last[-1] = True
    if not last.all():
        ends = np.flatnonzero(last)
        tps, fps, s_desc = tps[ends], fps[ends], s_desc[ends]
    return fps, tps, s_desc.astype(np.float64, copy=False)


def drop_collinear(
    fps: np.ndarray, tps: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop points whose both second differences are zero (scikit-learn's rule): they lie
    on a straight segment and change neither the plotted curve nor the area."""
    if fps.size <= 2:
        return fps, tps, thresholds
    corner = np.empty(fps.size, dtype=bool)
    corner[0] = corner[-1] = True
    dfps, dtps = np.diff(fps), np.diff(tps)  # a second difference is 0 iff two steps agree
    np.not_equal(dfps[1:], dfps[:-1], out=corner[1:-1])
    corner[1:-1] |= dtps[1:] != dtps[:-1]
    keep = np.flatnonzero(corner)
    return fps[keep], tps[keep], thresholds[keep]


def rates(fps: np.ndarray, tps: np.ndarray, note: str = "") -> tuple[np.ndarray, np.ndarray]:
    """``fpr, tpr`` starting at (0, 0); ``nan`` with an :class:`UndefinedMetricWarning` for a
    class without samples (``note`` is appended to the message)."""
    out = []
    for counts, missing in ((fps, _NO_NEGATIVE), (tps, _NO_POSITIVE)):
        rate = np.zeros(counts.size + 1)
        if counts[-1] <= 0:
            warn_undefined(missing + note)
            rate.fill(np.nan)
        else:
            np.divide(counts, counts[-1], out=rate[1:])
        out.append(rate)
    return out[0], out[1]


def _partial_area(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """McClish-standardized area of the ROC curve over ``0 <= fpr <= max_fpr``."""
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    end = np.interp(max_fpr, [fpr[stop - 1], fpr[stop]], [tpr[stop - 1], tpr[stop]])
    area = float(trapezoid(np.append(tpr[:stop], end), np.append(fpr[:stop], max_fpr)))
    min_area = 0.5 * max_fpr**2  # the chance diagonal
    return 0.5 * (1 + (area - min_area) / (max_fpr - min_area))


def binary_auc(
    is_pos: np.ndarray,
    score: np.ndarray,
    weight: np.ndarray | None,
    max_fpr: float | None,
    *,
    n_classes: int,
    note: str = "",
) -> float:
    """Area under the ROC curve of one validated binary problem, bit for bit scikit-learn's.

    ``n_classes`` counts the distinct labels of ``y_true`` before zero weights were removed:
    with fewer than two the AUC is ``nan`` with an :class:`UndefinedMetricWarning`.
    """
    if n_classes != 2:
        warn_undefined(UNDEFINED_ONE_CLASS)
        return float("nan")
    fps, tps, thresholds = sorted_counts(is_pos, score, weight)
    fps, tps, _ = drop_collinear(fps, tps, thresholds)
    del thresholds
    fpr, tpr = rates(fps, tps, note)
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return float("nan")
    if max_fpr is None:
        return float(trapezoid(tpr, fpr))
    return _partial_area(fpr, tpr, max_fpr)
