"""Stratified bootstrap of one-vs-rest ROC AUCs, vectorized in bounded-memory batches.

Each resample draws every class's samples with replacement within that class (the class
sizes are kept, as in pROC). Scores are replaced by their index among the distinct values of
their column, so a resample is summarized by per-value counts of positives ``P`` and
negatives ``N`` (one ``bincount`` per column and batch), and its AUC is
``sum_g P_g (N_<g + N_g / 2) / (m n)``: O(n) per resample instead of a sort.
"""

from __future__ import annotations

import numpy as np

from ..errors import SymcalcError

__all__ = ["MAX_BOOTSTRAPS", "check_n_bootstraps", "bootstrap_ovr_aucs"]

MAX_BOOTSTRAPS = 1_000_000  # the results alone take 8 bytes per resample and column
_MAX_BATCH_CELLS = 4_000_000  # resamples x samples per batch, ~32 MB per index array


def check_n_bootstraps(n_bootstraps: int) -> int:
    """Refuse resample counts whose results would not fit in memory."""
    if n_bootstraps > MAX_BOOTSTRAPS:
        raise SymcalcError(
            f"n_bootstraps must be <= {MAX_BOOTSTRAPS:,}; got {n_bootstraps:,} (2,000 is "
            "usually enough for a 95% interval)"
        )
    return n_bootstraps


def _auc_from_counts(p: np.ndarray, q: np.ndarray, m: int, n: int) -> np.ndarray:
    below = np.cumsum(q, axis=1) - 0.5 * q  # negatives under each value, ties halved
    return (p * below).sum(axis=1) / (m * n)


def _counts(groups: np.ndarray, picks: np.ndarray, n_groups: int) -> np.ndarray:
    rows = picks.shape[0]
    offset = (np.arange(rows) * n_groups)[:, None]
    flat = np.bincount((groups[picks] + offset).ravel(), minlength=rows * n_groups)
    return flat.reshape(rows, n_groups)


def bootstrap_ovr_aucs(
    scores: list[np.ndarray],
    strata: list[np.ndarray],
    n_bootstraps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """AUC of column ``c`` (class ``c`` against the rest) on stratified resamples.

    Parameters
    ----------
    scores : list of ndarray of shape (n_samples,)
        The score column of each class; with two strata and one column, the binary case
        (the column scores stratum 1 against stratum 0).
    strata : list of int ndarray
        The sample indices of each class.

    Returns
    -------
    ndarray of shape (n_bootstraps, len(scores))
    """
    binary = len(strata) == 2 and len(scores) == 1
    positive = [1] if binary else list(range(len(scores)))
    coded = [np.unique(s, return_inverse=True) for s in scores]
    groups = [inverse.ravel() for _, inverse in coded]
    widths = [values.size for values, _ in coded]
    n = sum(s.size for s in strata)
    batch = max(1, min(n_bootstraps, _MAX_BATCH_CELLS // max(n, *widths)))
    out = np.empty((n_bootstraps, len(scores)))
    for start in range(0, n_bootstraps, batch):
        rows = min(batch, n_bootstraps - start)
        picks = [s[rng.integers(0, s.size, (rows, s.size))] for s in strata]
        every = picks[0] if binary else np.concatenate(picks, axis=1)
        for c, (g, width, p) in enumerate(zip(groups, widths, positive)):
            pos = _counts(g, picks[p], width)
            neg = _counts(g, every, width)  # binary: the negatives; else all, minus pos
            if not binary:
                neg -= pos
            m = strata[p].size
            out[start : start + rows, c] = _auc_from_counts(pos, neg, m, n - m)
    return out
