"""DeLong's structural components of the ROC AUC, in O(n log n).

DeLong, DeLong & Clarke-Pearson (1988): for every positive, the fraction of negatives it
outranks (ties count one half), ``V10``; for every negative, the fraction of positives that
outrank it, ``V01``. The AUC is the mean of either, and the covariance of the AUCs of several
scores on the same samples is ``S10 / m + S01 / n`` with ``S10``, ``S01`` the sample
covariance matrices of the components. Sorting each class once and locating the other class's
scores with ``searchsorted`` gives the midrank counts without the O(m n) comparison matrix
(the idea of Sun & Xu 2014).
"""

from __future__ import annotations

import numpy as np

__all__ = ["structural_components", "delong_covariance"]


def structural_components(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``V10`` (one per positive) and ``V01`` (one per negative), in input order.

    ``V10[i] = (#{neg < pos_i} + #{neg == pos_i} / 2) / n_neg`` and
    ``V01[j] = (#{pos > neg_j} + #{pos == neg_j} / 2) / n_pos``.
    """
    sp, sn = np.sort(pos), np.sort(neg)
    below = np.searchsorted(sn, pos, "left") + np.searchsorted(sn, pos, "right")
    not_above = np.searchsorted(sp, neg, "left") + np.searchsorted(sp, neg, "right")
    return below / (2.0 * sn.size), 1.0 - not_above / (2.0 * sp.size)


def delong_covariance(
    pos: list[np.ndarray], neg: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix for scores of the same samples.

    ``pos[k]``/``neg[k]`` are score ``k`` of the positives/negatives, the samples in the same
    order for every ``k``. Returns ``aucs`` of shape (k,) and ``cov`` of shape (k, k).
    """
    parts = [structural_components(p, q) for p, q in zip(pos, neg)]
    v10 = np.array([v for v, _ in parts])
    v01 = np.array([v for _, v in parts])
    m, n = v10.shape[1], v01.shape[1]
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return v10.mean(axis=1), cov
