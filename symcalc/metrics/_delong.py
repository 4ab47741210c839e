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
    order_p, order_n = np.argsort(pos), np.argsort(neg)
    sp, sn = pos[order_p], neg[order_n]  # sorted queries: searchsorted walks forward
    v10, v01 = np.empty(sp.size), np.empty(sn.size)
    below = np.searchsorted(sn, sp, "left") + np.searchsorted(sn, sp, "right")
    not_above = np.searchsorted(sp, sn, "left") + np.searchsorted(sp, sn, "right")
    v10[order_p] = below / (2.0 * sn.size)
    v01[order_n] = 1.0 - not_above / (2.0 * sp.size)
    return v10, v01


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
