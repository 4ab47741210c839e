"""ROC curve plot: the curve, the chance diagonal, and the AUC (with its CI) in the legend."""

from __future__ import annotations

from typing import Any

from ..metrics._labels import binary_inputs
from ..metrics.ci import roc_auc_ci
from ..metrics.roc import roc_auc_score, roc_curve

__all__ = ["plot_roc"]


def plot_roc(
    y_true: Any,
    y_score: Any,
    *,
    ax: Any = None,
    label: str | None = None,
    ci: bool = False,
    level: float = 0.95,
    pos_label: Any = None,
) -> Any:
    """Plot the ROC curve with the chance diagonal; the legend shows the AUC (and CI).

    Parameters
    ----------
    y_true, y_score : array-like of shape (n_samples,)
        Binary labels and finite scores, as for :func:`symcalc.roc_curve`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    label : str, optional
        Name of the curve in the legend (default "ROC").
    ci : bool, default False
        Add the DeLong confidence interval of the AUC to the legend.
    level : float, default 0.95
        Confidence level when ``ci`` is true.
    pos_label : optional
        The positive label; by default the larger label (as :func:`symcalc.roc_auc_score`).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import symcalc as sc
    >>> ax = sc.plot_roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], label="model")
    >>> ax.get_legend().get_texts()[0].get_text()
    'model (AUC = 0.750)'
    """
    is_pos, score, *_ = binary_inputs(y_true, y_score, None, pos_label, default="larger")
    fpr, tpr, _ = roc_curve(is_pos, score)
    if ci:
        report = roc_auc_ci(is_pos, score, level)
        low, high = report.ci
        text = f"AUC = {report.auc:.3f}, {100 * level:g}% CI {low:.3f}-{high:.3f}"
    else:
        text = f"AUC = {roc_auc_score(is_pos, score):.3f}"
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, drawstyle="default", lw=2, label=f"{label or 'ROC'} ({text})")
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance (AUC = 0.5)")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    return ax
