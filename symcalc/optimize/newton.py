"""Damped Newton's method with the exact compiled Hessian.

Each iteration evaluates value, gradient and Hessian in one compiled call, solves for the
Newton direction (Cholesky when the Hessian is positive definite; otherwise the eigenvalues
are replaced by ``max(|lambda|, delta)``, which turns saddle directions into descent
directions), and backtracks along it until the Armijo condition holds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg

from ..codegen import CompiledLoss, PreparedData
from ._common import Counter

__all__ = ["newton_loop"]

_ARMIJO_C1 = 1e-4
_MAX_BACKTRACKS = 60
_EPS = np.finfo(np.float64).eps


def newton_direction(g: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, bool]:
    """The Newton direction ``-H^{-1} g`` for a positive definite ``H`` (``True``), or a
    descent direction from the eigenvalue-modified Hessian (``False``)."""
    if not np.isfinite(H).all():
        return -g, False
    try:
        factor = scipy.linalg.cho_factor(H, check_finite=False)
        d = -scipy.linalg.cho_solve(factor, g, check_finite=False)
        if np.isfinite(d).all():
            return d, True
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        pass
    lam, vecs = np.linalg.eigh(H)
    scale = max(1.0, float(np.max(np.abs(lam))))
    lam = np.maximum(np.abs(lam), 1e-8 * scale)
    return -(vecs @ ((vecs.T @ g) / lam)), False


def newton_loop(
    f: CompiledLoss,
    P: PreparedData,
    x: np.ndarray,
    *,
    tol: float,
    maxiter: int,
    history: dict[str, list[Any]],
    counter: Counter,
    c1: float = _ARMIJO_C1,
) -> tuple[str, int]:
    """Run damped Newton from ``x``, appending every iterate to ``history``.

    Returns the status key and the iteration count; the final iterate is
    ``history["x"][-1]``.
    """
    losses, gnorms, path = history["loss"], history["grad_norm"], history["x"]
    k = 0
    try:
        value, g, H = f._unpack_hessian(f.evaluate(x, P, order=2))
        counter.add(2)
        gn = float(np.linalg.norm(g))
        if not math.isfinite(value + gn):
            return "bad_start", 0
        losses.append(value), gnorms.append(gn), path.append(x)
        for k in range(maxiter + 1):
            if gn <= tol:
                return "grad_tol", k
            if k == maxiter:
                return "max_iter", k
            d, exact = newton_direction(g, H)
            slope = float(g @ d)
            if exact and -slope <= 4 * _EPS * max(1.0, abs(value)):
                return "decrement", k  # predicted decrease below machine precision
            t = _armijo(f, P, x, value, d, slope, c1, counter)
            if t is None:
                return "line_search", k
            x = x + t * d
            value, g, H = f._unpack_hessian(f.evaluate(x, P, order=2))
            counter.add(2)
            gn = float(np.linalg.norm(g))
            if not math.isfinite(value + gn):
                return "nonfinite", k + 1
            losses.append(value), gnorms.append(gn), path.append(x)
    except KeyboardInterrupt:
        return "interrupted", k
    return "max_iter", k  # pragma: no cover - the loop always returns


def _armijo(f: CompiledLoss, P: PreparedData, x: np.ndarray, value: float, d: np.ndarray,
            slope: float, c1: float, counter: Counter) -> float | None:
    """The first step ``t = 1, 1/2, 1/4, ...`` with sufficient decrease, or None."""
    slack = 4 * _EPS * max(1.0, abs(value))  # accept ties at machine precision
    t = 1.0
    for _ in range(_MAX_BACKTRACKS):
        trial = float(f.evaluate(x + t * d, P, order=0)[0])
        counter.add(0)
        if math.isfinite(trial) and trial <= value + c1 * t * slope + slack:
            return t
        t *= 0.5
    return None
