"""Sequence extrapolation: Wynn's epsilon algorithm and Levin's u-transform.

Both return ``(estimate, uncertainty)`` where the uncertainty is the distance between the two
most consistent successive estimates of the transform's table, or ``(nan, inf)`` when the table
breaks down (division by a zero difference, overflow). Callers decide which transform fits the
sequence (see :func:`symcalc.convergence.analyze_sequence`).

Formulas: P. Wynn, "On a device for computing the e_m(S_n) transformation" (1956); D. Levin,
"Development of non-linear transformations for improving convergence of sequences" (1973),
u-variant with remainder estimate ``(beta + n) * (s_n - s_{n-1})``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["wynn_epsilon", "levin_u", "aitken"]

_EPS = float(np.finfo(float).eps)


def _most_consistent(estimates: list[float]) -> tuple[float, float]:
    """The estimate closest to its predecessor, with that distance as its uncertainty."""
    finite = [e for e in estimates if math.isfinite(e)]
    if not finite:
        return math.nan, math.inf
    if len(finite) == 1:
        return finite[0], math.inf
    gaps = [abs(finite[i] - finite[i - 1]) for i in range(1, len(finite))]
    best = int(np.argmin(gaps))
    return finite[best + 1], gaps[best]


def aitken(x: np.ndarray) -> float:
    """Aitken's delta-squared estimate from the last three values (``nan`` when undefined)."""
    if x.size < 3:
        return math.nan
    x0, x1, x2 = (float(v) for v in x[-3:])
    d1, d2 = x1 - x0, x2 - x1
    denom = d2 - d1
    if denom == 0.0 or not math.isfinite(denom):
        return math.nan
    return x2 - d2 * d2 / denom


def wynn_epsilon(x: np.ndarray, *, max_terms: int = 24) -> tuple[float, float]:
    """Wynn's epsilon algorithm on the last ``max_terms`` values.

    Accelerates linearly convergent and alternating sequences (its first even column is
    Aitken's delta-squared). Columns stop when a difference is at rounding level, where the
    table would only amplify noise.
    """
    s = np.asarray(x[-max_terms:], dtype=float)
    if s.size < 3:
        return math.nan, math.inf
    prev = np.zeros(s.size + 1)
    cur = s.copy()
    estimates = [float(cur[-1])]
    with np.errstate(all="ignore"):
        for k in range(1, s.size):
            diff = cur[1:] - cur[:-1]
            scale = np.maximum(np.abs(cur[1:]), np.abs(cur[:-1]))
            if diff.size == 0 or np.any(np.abs(diff) <= 8 * _EPS * scale) or np.any(diff == 0):
                break
            nxt = prev[1 : cur.size] + 1.0 / diff
            if not np.all(np.isfinite(nxt)):
                break
            prev, cur = cur, nxt
            if k % 2 == 0:
                estimates.append(float(cur[-1]))
    if len(estimates) < 2:  # the table broke down before its first accelerated column
        return math.nan, math.inf
    return _most_consistent(estimates)


def levin_u(x: np.ndarray, *, max_order: int = 12, beta: float = 1.0) -> tuple[float, float]:
    """Levin's u-transform of partial sums ``x`` (suited to logarithmic convergence, ~1/k).

    Uses the last ``K + 1`` values for each order ``K = 2..max_order``; the index ``m`` of a
    value is its position in ``x`` (so the remainder estimates ``(beta + m) * (x_m - x_{m-1})``
    follow the sequence's own numbering).
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    estimates: list[float] = []
    with np.errstate(all="ignore"):
        for order in range(2, max_order + 1):
            start = n - 1 - order
            if start < 1:
                break
            m = np.arange(start, n)
            omega = (beta + m) * (x[m] - x[m - 1])
            if np.any(omega == 0):
                break
            j = np.arange(order + 1)
            binom = np.array([math.comb(order, int(i)) for i in j], dtype=float)
            weights = (-1.0) ** j * binom * ((beta + start + j) / (beta + start + order)) ** (
                order - 1
            )
            num = float(np.sum(weights * x[m] / omega))
            den = float(np.sum(weights / omega))
            value = num / den if den != 0.0 else math.nan
            estimates.append(value)
    return _most_consistent(estimates)
