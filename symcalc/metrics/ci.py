"""Confidence intervals for the ROC AUC: DeLong's and a stratified bootstrap.

Binary ``y_true``: DeLong's asymptotic variance (:mod:`._delong`) with a normal interval, or
percentiles of stratified bootstrap resamples (:mod:`._bootstrap`). Multiclass ``y_true``
(one-vs-rest): the interval of every class against the rest by the same methods, and the
macro average (the mean of the per-class AUCs, as ``roc_auc_score(..., multi_class="ovr")``)
by the bootstrap, which keeps the correlation between the classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validate import as_finite_float, as_rng, check_choice, check_int
from ..errors import DataError, SymcalcError
from ..results import Result
from ._bootstrap import bootstrap_ovr_aucs, check_n_bootstraps
from ._curve import binary_auc
from ._delong import delong_covariance
from ._labels import as_labels, as_scores, binary_problem, check_lengths, classes_of, target_kind
from .multiclass import check_probabilities, class_columns

__all__ = ["roc_auc_ci", "AUCInterval", "MulticlassAUCInterval"]


@dataclass(repr=False, eq=False)
class _Interval(Result):
    """The fields every AUC interval has, first in its repr."""

    auc: float
    ci: tuple[float, float]
    level: float
    method: str
    variance: float
    std_error: float


@dataclass(repr=False, eq=False)
class AUCInterval(_Interval):
    """The ROC AUC with its variance and a confidence interval (see :func:`roc_auc_ci`)."""

    n_positive: int
    n_negative: int
    n_bootstraps: int | None = None


@dataclass(repr=False, eq=False)
class MulticlassAUCInterval(_Interval):
    """Macro-average one-vs-rest AUC with a bootstrap interval, and every class's interval.

    ``auc``/``ci``/``variance`` are those of the macro average; ``class_auc[k]``,
    ``class_ci[k]`` (rows of ``(low, high)``) and ``per_class[label]`` (an
    :class:`AUCInterval`) those of class ``classes[k]`` against the rest.
    """

    classes: list[Any]
    class_auc: np.ndarray
    class_ci: np.ndarray
    class_method: str
    n_bootstraps: int
    per_class: dict[Any, AUCInterval] = field(default_factory=dict, repr=False)


def _normal_ci(auc: float, variance: float, level: float) -> tuple[float, float]:
    from scipy.special import ndtri  # lazy: keeps `import symcalc` light

    half = float(ndtri(0.5 + level / 2.0)) * np.sqrt(variance)
    return float(max(0.0, auc - half)), float(min(1.0, auc + half))


def _percentile_ci(values: np.ndarray, level: float) -> tuple[float, float]:
    low, high = np.quantile(values, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(low), float(high)


def _check_sizes(n_pos: int, n_neg: int, what: str) -> None:
    if min(n_pos, n_neg) < 2:
        raise DataError(
            f"roc_auc_ci needs at least 2 positive and 2 negative samples{what}; got {n_pos} "
            f"positive and {n_neg} negative"
        )


def _interval(
    is_pos: np.ndarray, score: np.ndarray, level: float, method: str,
    boots: np.ndarray | None,
) -> AUCInterval:
    """One class against the rest; ``boots`` are its bootstrap AUCs for ``"bootstrap"``."""
    pos, neg = score[is_pos], score[~is_pos]
    auc = binary_auc(is_pos, score, None, None, n_classes=2)
    _, cov = delong_covariance([pos], [neg])
    variance, ci = float(cov[0, 0]), None
    if method == "bootstrap" and boots is not None:
        ci, variance = _percentile_ci(boots, level), float(boots.var(ddof=1))
    return AUCInterval(
        auc=auc, ci=ci or _normal_ci(auc, variance, level), level=level, method=method,
        variance=variance, std_error=float(np.sqrt(variance)), n_positive=int(pos.size),
        n_negative=int(neg.size), n_bootstraps=None if boots is None else boots.size,
    )


def roc_auc_ci(
    y_true: Any,
    y_score: Any,
    level: float = 0.95,
    *,
    method: str = "delong",
    n_bootstraps: int = 2000,
    seed: int | np.random.Generator | None = 0,
    pos_label: Any = None,
    labels: Any = None,
    multi_class: str = "ovr",
) -> AUCInterval | MulticlassAUCInterval:
    """ROC AUC with its variance and a confidence interval (DeLong or bootstrap).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, at least two samples of each class; or multiclass labels with a 2-D
        ``y_score`` (one-vs-rest).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Finite scores, larger meaning "more likely positive"; multiclass: probabilities
        summing to 1 per row, one column per class (sorted, or in the order of ``labels``).
    level : float, default 0.95
        Confidence level, in (0, 1).
    method : {"delong", "bootstrap"}
        ``"delong"``: DeLong's asymptotic variance (O(n log n)) and the normal interval
        ``auc +- z sd``, clipped to [0, 1]. ``"bootstrap"``: stratified resampling (the class
        sizes are kept, as in pROC), percentile interval and the bootstrap variance. For
        multiclass input it sets the per-class intervals; the macro average always uses the
        bootstrap.
    n_bootstraps : int, default 2000
        Number of resamples (at most 1,000,000); cost O(n_bootstraps * n_samples).
    seed : int, numpy Generator or None, default 0
        Randomness of the bootstrap (reproducible by default).
    pos_label : optional
        Binary only: the positive label; by default the larger label (as ``roc_auc_score``).
    labels : array-like, optional
        Multiclass only: the sorted classes of the columns of ``y_score``.
    multi_class : {"ovr"}
        Multiclass intervals are one-vs-rest.

    Returns
    -------
    AUCInterval
        Binary: ``auc`` (equals :func:`roc_auc_score`), ``ci=(low, high)``, ``level``,
        ``method``, ``variance``, ``std_error``, ``n_positive``, ``n_negative``,
        ``n_bootstraps``.
    MulticlassAUCInterval
        Multiclass: the macro average's ``auc`` (equals ``roc_auc_score(...,
        multi_class="ovr")``), ``ci``, ``variance``, ``std_error`` by bootstrap, and per class
        ``classes``, ``class_auc``, ``class_ci``, ``per_class``.

    Raises
    ------
    DataError
        Fewer than two samples in a class (multiclass: a class or its rest), plus every input
        error of :func:`roc_auc_score`; ``SymcalcError`` for a bad ``level``, ``method``,
        ``n_bootstraps`` (above 1,000,000 included) or ``seed``.

    Examples
    --------
    >>> import symcalc as sc
    >>> r = sc.roc_auc_ci([0, 0, 0, 1, 1, 1], [0.2, 0.5, 0.6, 0.5, 0.7, 0.9])
    >>> round(r.auc, 6), round(r.variance, 6)
    (0.833333, 0.037037)
    """
    level = as_finite_float(level, "level")
    if not 0.0 < level < 1.0:
        raise SymcalcError(f"level must be in (0, 1), e.g. 0.95; got {level:g}")
    check_choice(method, ("delong", "bootstrap"), "method")
    boots = check_n_bootstraps(check_int(n_bootstraps, "n_bootstraps", minimum=2))
    y = as_labels(y_true)
    score = as_scores(y_score, ndim=(1, 2))
    check_lengths(y_true=y, y_score=score)
    classes = classes_of(y)
    if score.ndim == 2 and score.shape[1] == 1:
        score = score[:, 0]
    if score.ndim == 2 and (score.shape[1] > 2 or target_kind(y, classes) == "multiclass"):
        check_choice(multi_class, ("ovr",), "multi_class")
        if pos_label is not None:
            raise SymcalcError("pos_label applies to binary y_true only")
        return _multiclass_ci(y, classes, score, labels, level, method, boots, as_rng(seed))
    if score.ndim == 2:
        raise SymcalcError(f"y_score must be 1-D for binary y_true; got shape {score.shape}")
    problem = binary_problem(y, classes, score, None, pos_label, default="larger")
    is_pos = problem.is_pos
    n_pos = int(np.count_nonzero(is_pos))
    _check_sizes(n_pos, is_pos.size - n_pos, "")
    aucs = None
    if method == "bootstrap":
        strata = [np.flatnonzero(~is_pos), np.flatnonzero(is_pos)]
        aucs = bootstrap_ovr_aucs([problem.score], strata, boots, as_rng(seed))[:, 0]
    return _interval(is_pos, problem.score, level, method, aucs)


def _multiclass_ci(
    y: np.ndarray, classes: np.ndarray, score: np.ndarray, labels: Any, level: float,
    method: str, n_bootstraps: int, rng: np.random.Generator,
) -> MulticlassAUCInterval:
    check_probabilities(score)
    columns = class_columns(y, classes, labels, score.shape[1])
    encoded = np.searchsorted(columns, y)
    strata = [np.flatnonzero(encoded == c) for c in range(columns.size)]
    for label, rows in zip(columns.tolist(), strata):
        _check_sizes(rows.size, y.size - rows.size, f" of every class (class {label!r})")
    cols = [np.ascontiguousarray(score[:, c]) for c in range(columns.size)]
    boots = bootstrap_ovr_aucs(cols, strata, n_bootstraps, rng)
    per_class = {
        label: _interval(encoded == c, cols[c], level, method,
                         boots[:, c] if method == "bootstrap" else None)
        for c, label in enumerate(columns.tolist())
    }
    results = list(per_class.values())
    class_auc = np.array([r.auc for r in results])
    macro = boots.mean(axis=1)
    return MulticlassAUCInterval(
        auc=float(np.average(class_auc)), ci=_percentile_ci(macro, level), level=level,
        method="bootstrap", variance=float(macro.var(ddof=1)),
        std_error=float(macro.std(ddof=1)), classes=columns.tolist(), class_auc=class_auc,
        class_ci=np.array([r.ci for r in results]), class_method=method,
        n_bootstraps=n_bootstraps, per_class=per_class,
    )

