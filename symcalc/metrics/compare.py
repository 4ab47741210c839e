"""DeLong's test for two correlated ROC AUCs: two scores of the same samples.

The difference of the two AUCs has variance ``var_a + var_b - 2 cov_ab`` from DeLong's
covariance of the structural components (DeLong, DeLong & Clarke-Pearson 1988), and
``z = difference / std_error`` is standard normal under "equal AUCs". This is pROC's
``roc.test(..., method="delong", paired=TRUE)``, which scikit-learn does not offer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_finite_float, check_choice
from ..errors import DataError, SymcalcError
from ..results import Result
from ._curve import binary_auc
from ._delong import delong_covariance
from ._labels import as_labels, as_scores, binary_problem, check_lengths, classes_of

__all__ = ["roc_auc_compare", "AUCComparison"]


@dataclass(repr=False, eq=False)
class AUCComparison(Result):
    """DeLong's test of ``auc_a == auc_b`` for two scores of the same samples.

    ``difference = auc_a - auc_b`` with its normal confidence interval ``ci`` at ``level``;
    ``z`` its standardized value and ``p_value`` the test's p-value for ``alternative``;
    ``correlation`` is that of the two AUC estimates (``nan`` when one of them has zero
    variance, e.g. a perfect separation).
    """

    p_value: float
    difference: float
    ci: tuple[float, float]
    z: float
    auc_a: float
    auc_b: float
    std_error: float
    variance: float
    correlation: float
    level: float
    alternative: str
    method: str
    n_positive: int
    n_negative: int


def _p_value(z: float, alternative: str) -> float:
    from scipy.special import ndtr  # lazy: keeps `import symcalc` light

    if alternative == "two-sided":
        return float(min(1.0, 2.0 * ndtr(-abs(z))))
    return float(ndtr(-z) if alternative == "greater" else ndtr(z))


def roc_auc_compare(
    y_true: Any,
    score_a: Any,
    score_b: Any,
    *,
    level: float = 0.95,
    alternative: str = "two-sided",
    pos_label: Any = None,
) -> AUCComparison:
    """Compare the ROC AUCs of two scores on the same samples (DeLong's paired test).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, at least two samples of each class.
    score_a, score_b : array-like of shape (n_samples,)
        Two models' finite scores for the same samples, larger meaning "more likely
        positive".
    level : float, default 0.95
        Confidence level of the interval for the difference, in (0, 1).
    alternative : {"two-sided", "greater", "less"}
        The alternative hypothesis: ``auc_a != auc_b``, ``auc_a > auc_b`` or
        ``auc_a < auc_b``.
    pos_label : optional
        The positive label; by default the larger label (as :func:`roc_auc_score`).

    Returns
    -------
    AUCComparison
        ``p_value``, ``difference`` (``auc_a - auc_b``), ``ci``, ``z``, ``auc_a``, ``auc_b``
        (each equal to :func:`roc_auc_score`), ``std_error``, ``variance``, ``correlation``,
        ``level``, ``alternative``, ``method``, ``n_positive``, ``n_negative``. Identical
        scores give ``z = 0`` and ``p_value = 1``.

    Raises
    ------
    DataError
        Fewer than two samples in a class, plus every input error of :func:`roc_auc_score`;
        ``SymcalcError`` for a bad ``level`` or ``alternative``.

    See Also
    --------
    roc_auc_ci : the interval of one AUC.

    Examples
    --------
    >>> import symcalc as sc
    >>> y = [0, 0, 0, 1, 1, 1]
    >>> r = sc.roc_auc_compare(y, [0.1, 0.4, 0.35, 0.8, 0.7, 0.9], [0.3, 0.2, 0.6, 0.5, 0.1, 0.7])
    >>> round(r.auc_a, 4), round(r.auc_b, 4), round(r.difference, 4)
    (1.0, 0.5556, 0.4444)
    """
    level = as_finite_float(level, "level")
    if not 0.0 < level < 1.0:
        raise SymcalcError(f"level must be in (0, 1), e.g. 0.95; got {level:g}")
    check_choice(alternative, ("two-sided", "greater", "less"), "alternative")
    y = as_labels(y_true)
    a, b = as_scores(score_a, "score_a"), as_scores(score_b, "score_b")
    check_lengths(y_true=y, score_a=a, score_b=b)
    problem = binary_problem(y, classes_of(y), a, None, pos_label, default="larger")
    is_pos = problem.is_pos
    n_pos = int(np.count_nonzero(is_pos))
    if min(n_pos, is_pos.size - n_pos) < 2:
        raise DataError(
            "roc_auc_compare needs at least 2 positive and 2 negative samples; got "
            f"{n_pos} positive and {is_pos.size - n_pos} negative"
        )
    _, cov = delong_covariance([a[is_pos], b[is_pos]], [a[~is_pos], b[~is_pos]])
    auc_a = binary_auc(is_pos, a, None, None, n_classes=2)
    auc_b = binary_auc(is_pos, b, None, None, n_classes=2)
    difference = auc_a - auc_b
    variance = max(0.0, float(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1]))
    se = math.sqrt(variance)
    if se > 0:
        z = difference / se
    else:  # both components agree sample by sample: no difference, or a certain one
        z = 0.0 if difference == 0 else math.copysign(math.inf, difference)
    from scipy.special import ndtri

    half = float(ndtri(0.5 + level / 2.0)) * se
    spread = math.sqrt(cov[0, 0] * cov[1, 1])
    return AUCComparison(
        p_value=_p_value(z, alternative), difference=difference,
        ci=(max(-1.0, difference - half), min(1.0, difference + half)), z=z,
        auc_a=auc_a, auc_b=auc_b, std_error=se, variance=variance,
        correlation=float(cov[0, 1] / spread) if spread > 0 else float("nan"),
        level=level, alternative=alternative, method="delong", n_positive=n_pos,
        n_negative=int(is_pos.size - n_pos),
    )
