"""ROC curve plot: the curve(s), the chance diagonal, and the AUC (with its CI) in the legend."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DataError
from ..metrics._labels import as_labels, as_scores, binary_inputs, check_lengths, classes_of
from ..metrics.ci import roc_auc_ci
from ..metrics.multiclass import class_columns
from ..metrics.roc import roc_auc_score, roc_curve

__all__ = ["plot_roc"]


def _legend_text(is_pos: np.ndarray, score: np.ndarray, ci: bool, level: float) -> str:
    if ci:
        report = roc_auc_ci(is_pos, score, level)
        low, high = report.ci
        return f"AUC = {report.auc:.3f}, {100 * level:g}% CI {low:.3f}-{high:.3f}"
    return f"AUC = {roc_auc_score(is_pos, score):.3f}"


def _show(label: Any) -> str:
    return str(int(label)) if isinstance(label, float) and label.is_integer() else str(label)


def _curves(y_true: Any, y_score: Any, label: str | None, pos_label: Any,
            labels: Any) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, is_pos, score) of each curve: one for binary input, one per class for 2-D."""
    score = as_scores(y_score, ndim=(1, 2))
    if score.ndim == 1:
        problem = binary_inputs(y_true, score, None, pos_label, default="larger")
        curves = [(label or "ROC", problem.is_pos, problem.score)]
    else:
        y = as_labels(y_true)
        check_lengths(y_true=y, y_score=score)
        columns = class_columns(y, classes_of(y), labels, score.shape[1])
        curves = [(f"{label + ': ' if label else ''}class {_show(c)}", y == c, score[:, k])
                  for k, c in enumerate(columns.tolist())]
    for name, is_pos, _ in curves:
        if is_pos.all() or not is_pos.any():
            raise DataError(f"cannot plot the ROC curve of {name}: y_true needs positive and "
                            "negative samples")
    return curves


def plot_roc(
    y_true: Any,
    y_score: Any,
    *,
    ax: Any = None,
    label: str | None = None,
    ci: bool = False,
    level: float = 0.95,
    pos_label: Any = None,
    labels: Any = None,
) -> Any:
    """Plot the ROC curve with the chance diagonal; the legend shows the AUC (and CI).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, or multiclass labels with a 2-D ``y_score``.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Finite scores, as for :func:`symcalc.roc_curve`; a 2-D array draws one
        one-vs-rest curve per class (columns in sorted class order, or that of ``labels``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    label : str, optional
        Name of the curve in the legend (default "ROC"; a prefix of the class names).
    ci : bool, default False
        Add the DeLong confidence interval of the AUC to the legend.
    level : float, default 0.95
        Confidence level when ``ci`` is true.
    pos_label : optional
        Binary only: the positive label; by default the larger label (as
        :func:`symcalc.roc_auc_score`).
    labels : array-like, optional
        Multiclass only: the sorted classes of the columns of ``y_score``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    DataError
        A curve without positive or negative samples, plus the input errors of
        :func:`symcalc.roc_curve`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import symcalc as sc
    >>> ax = sc.plot_roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], label="model")
    >>> ax.get_legend().get_texts()[0].get_text()
    'model (AUC = 0.750)'
    """
    curves = _curves(y_true, y_score, label, pos_label, labels)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 5))
    for name, is_pos, score in curves:
        fpr, tpr, _ = roc_curve(is_pos, score)
        ax.plot(fpr, tpr, lw=2, label=f"{name} ({_legend_text(is_pos, score, ci, level)})")
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance (AUC = 0.5)")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    return ax
