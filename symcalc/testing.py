"""Finite-difference checks of gradients and Hessians (used by symcalc's tests and by users).

Central differences with a fourth-order stencil by default: for a smooth function the
truncation error is O(h^4) and, with ``h ~ eps^(1/5)``, the result agrees with an exact
gradient to about 1e-10 relative, tight enough to catch any wrong derivative.

The checkers (:func:`check_grad`, ``Loss.check_gradient``, ``Sequential.gradient_check``) do
not trust one stencil. When the exact derivative and the first estimate disagree they halve
the step a dozen times and take the estimate whose successive values settle best, with an
error bound from that settling and from the rounding of the function values (``64 eps |f| /
h``). A stencil that straddles a kink (ReLU, ``Abs``, ``Max``) gives estimates that keep
changing with the step; once the step is below the distance to the kink they settle on the
true slope. An entry whose estimates never settle is reported as a *kink* (not checkable),
never as a mismatch; an entry that settles on another value is a mismatch.

>>> import numpy as np
>>> numeric_gradient(lambda x: float(np.sum(x**3)), np.array([1.0, 2.0])).round(8)
array([ 3., 12.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._validate import as_float_array
from .results import Result

__all__ = [
    "numeric_gradient",
    "numeric_hessian",
    "relative_error",
    "check_grad",
    "GradientCheck",
    "check_loss_gradient",
    "compare_gradient",
    "GradientComparison",
    "OK",
    "MISMATCH",
    "KINK",
]

_STENCILS = {
    2: (np.array([-1.0, 1.0]), np.array([-0.5, 0.5]), 1 / 3),
    4: (np.array([-2.0, -1.0, 1.0, 2.0]), np.array([1.0, -8.0, 8.0, -1.0]) / 12.0, 1 / 5),
}


def _steps(x: np.ndarray, order: int, step: float | None) -> np.ndarray:
    if step is not None:
        return np.full_like(x, float(step))
    power = _STENCILS[order][2]
    return np.finfo(float).eps ** power * np.maximum(1.0, np.abs(x))


def numeric_gradient(
    fun: Callable[[np.ndarray], Any], x: Any, *, order: int = 4, step: float | None = None
) -> np.ndarray:
    """Central-difference gradient of a scalar function (or Jacobian rows of a vector one).

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` or ``-> ndarray`` (then the result has shape ``(len(x), *out)``
        transposed to ``(*out, len(x))``).
    x : array-like of shape (n,)
    order : {2, 4}
        Accuracy order of the stencil.
    step : float, optional
        Fixed step; by default ``eps**(1/(order+1)) * max(1, |x_i|)``.
    """
    x = as_float_array(x, "x")
    if order not in _STENCILS:
        raise ValueError(f"order must be 2 or 4; got {order}")
    offsets, weights, _ = _STENCILS[order]
    h = _steps(x, order, step)
    cols = []
    for i in range(x.size):
        acc = 0.0
        for off, wgt in zip(offsets, weights):
            xi = x.copy()
            xi[i] += off * h[i]
            acc = acc + wgt * np.asarray(fun(xi), dtype=float)
        cols.append(acc / h[i])
    out = np.array(cols)
    return out if out.ndim == 1 else np.moveaxis(out, 0, -1)


def numeric_hessian(
    grad: Callable[[np.ndarray], np.ndarray], x: Any, *, order: int = 4, step: float | None = None
) -> np.ndarray:
    """Central-difference Hessian from an (exact) gradient function, symmetrized."""
    jac = numeric_gradient(grad, x, order=order, step=step)
    return 0.5 * (jac + jac.T)


def relative_error(analytic: Any, numeric: Any, *, floor: float = 1e-8) -> np.ndarray:
    """``|a - n| / max(|a|, |n|, floor)`` elementwise (0 where both are 0)."""
    a = np.asarray(analytic, dtype=float)
    n = np.asarray(numeric, dtype=float)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


# ------------------------------------------------------------------ the careful comparison
_EPS = float(np.finfo(float).eps)
_NOISE = 64.0  # rounding of one function value, in units of eps * max|f| (conservative)
_HALVINGS = 12  # step halvings tried when the first estimate disagrees (down to h0 / 4096)
_UNSETTLED = 1e-3  # an estimate whose error bound exceeds this (relative) checks nothing

#: Status codes of :class:`GradientComparison` entries.
OK, MISMATCH, KINK = 0, 1, 2


@dataclass(repr=False, eq=False)
class GradientComparison(Result):
    """Entry-by-entry comparison of an exact derivative with finite differences.

    Attributes
    ----------
    status : ndarray of int, same shape as the derivative
        0 agrees, 1 mismatch (the differences settle on another value), 2 kink (the
        differences never settle: the function is not smooth within the steps tried, so the
        entry cannot be checked).
    numeric : ndarray
        The best finite-difference estimate of each entry.
    bound : ndarray
        Its error bound (truncation seen from the settling, plus rounding of the values).
    rel_error : ndarray
        ``|a - n| / max(|a|, |n|, bound / rtol)``: at most ``rtol`` exactly when the entry
        agrees within ``rtol`` or within the error bound of the estimate.
    """

    status: np.ndarray
    numeric: np.ndarray
    bound: np.ndarray
    rel_error: np.ndarray


class _Line:
    """``fun`` along one coordinate, values cached by offset and kept as float vectors."""

    def __init__(self, fun: Callable[[np.ndarray], Any], x: np.ndarray, i: int) -> None:
        self.fun, self.x, self.i = fun, x, i
        self.cache: dict[float, np.ndarray] = {}
        self.peak: np.ndarray | None = None

    def __call__(self, t: float) -> np.ndarray:
        if t not in self.cache:
            xi = self.x.copy()
            xi[self.i] += t
            v = np.atleast_1d(np.asarray(self.fun(xi), dtype=float)).ravel()
            self.cache[t] = v
            mag = np.abs(v)
            self.peak = mag if self.peak is None else np.fmax(self.peak, mag)
        return self.cache[t]

    def central(self, h: float) -> np.ndarray:
        return (self(h) - self(-h)) / (2 * h)

    def delta(self, scale: np.ndarray) -> np.ndarray:
        """Rounding error of one value (per output entry)."""
        return _NOISE * _EPS * np.fmax(self.peak, scale)


def _ladder(line: _Line, h0: float, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best estimate and its bound from order-2 and order-4 differences at halving steps."""
    steps = h0 * 0.5 ** np.arange(_HALVINGS + 1)
    d2 = [line.central(2 * h0)] + [line.central(h) for h in steps]
    d4 = [(4 * d2[k + 1] - d2[k]) / 3 for k in range(len(steps))]
    delta = line.delta(scale)
    best = np.full_like(delta, np.nan)
    bound = np.full_like(delta, np.inf)
    for cands, noise in ((d2[1:], 1.0), (d4, 1.5)):
        for k in range(len(steps) - 1):
            with np.errstate(all="ignore"):
                err = 2 * np.abs(cands[k] - cands[k + 1]) + noise * delta / steps[k]
            better = err < bound
            best[better], bound[better] = cands[k][better], err[better]
    return best, bound


def _one_sided(line: _Line, h: float, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward and backward differences at step ``h`` and their error bound."""
    f0 = line(0.0)
    fwd, bwd = (line(h) - f0) / h, (f0 - line(-h)) / h
    fwd2, bwd2 = (line(2 * h) - f0) / (2 * h), (f0 - line(-2 * h)) / (2 * h)
    err = 2 * np.fmax(np.abs(fwd - fwd2), np.abs(bwd - bwd2)) + 4 * line.delta(scale) / h
    return fwd, bwd, err


def compare_gradient(
    fun: Callable[[np.ndarray], Any],
    x: Any,
    analytic: Any,
    *,
    rtol: float = 1e-6,
    order: int = 4,
    scale: Any = 0.0,
) -> GradientComparison:
    """Compare an exact gradient (or Jacobian) with finite differences, entry by entry.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float`` or ``-> ndarray of shape (m,)``.
    x : array-like of shape (n,)
    analytic : array-like of shape (n,) for a scalar ``fun``, else (m, n)
        The derivative to check (``analytic[j, i] = d fun_j / d x_i``).
    rtol : float
        Relative tolerance.
    order : {2, 4}
        Stencil of the first estimate; disagreeing entries are re-estimated with both
        stencils at a dozen smaller steps.
    scale : float or array of shape (m,)
        Magnitude of the terms summed into ``fun`` when it is larger than ``|fun|`` (sets the
        rounding floor; e.g. the size of the summands of a gradient at an optimum).

    Returns
    -------
    GradientComparison

    >>> import numpy as np
    >>> cmp = compare_gradient(lambda v: float(np.sum(np.abs(v - 0.3e-4))), [0.0, 1.0], [-1.0, 1.0])
    >>> cmp.status.tolist(), bool(cmp.rel_error.max() < 1e-6)
    ([0, 0], True)
    """
    x = as_float_array(x, "x")
    if order not in _STENCILS:
        raise ValueError(f"order must be 2 or 4; got {order}")
    a = np.asarray(analytic, dtype=float)
    scalar = a.ndim == 1
    a2 = a.reshape(1, -1) if scalar else a
    status = np.zeros(a2.shape, dtype=int)
    numeric, bound = np.empty(a2.shape), np.empty(a2.shape)
    scale_v = np.broadcast_to(np.abs(np.asarray(scale, dtype=float)), (a2.shape[0],))
    h_first, h_ladder = _steps(x, order, None), _steps(x, 4, None)
    for i in range(x.size):
        line = _Line(fun, x, i)
        col = a2[:, i]
        if order == 4:
            est = (4 * line.central(h_first[i]) - line.central(2 * h_first[i])) / 3
            err = 1.5 * line.delta(scale_v) / h_first[i]
        else:
            est = line.central(h_first[i])
            err = line.delta(scale_v) / h_first[i]
        numeric[:, i], bound[:, i] = est, err
        good = np.abs(col - est) <= rtol * np.fmax(np.abs(col), np.abs(est)) + err
        if good.all():
            continue
        best, berr = _ladder(line, h_ladder[i], scale_v)
        redo = ~good
        numeric[redo, i], bound[redo, i] = best[redo], berr[redo]
        status[redo, i] = _classify(col, best, berr, line, h_ladder[i], scale_v, rtol)[redo]
    rel = np.abs(a2 - numeric) / np.fmax(np.fmax(np.abs(a2), np.abs(numeric)), bound / rtol)
    rel = np.where(a2 == numeric, 0.0, np.where(status == KINK, np.nan, rel))
    shape = a.shape
    return GradientComparison(status.reshape(shape), numeric.reshape(shape),
                              bound.reshape(shape), rel.reshape(shape))


def _classify(col, best, berr, line, h0, scale, rtol) -> np.ndarray:
    """Status of re-estimated entries: agrees, mismatch, or kink."""
    with np.errstate(all="ignore"):
        size = np.fmax(np.abs(col), np.abs(best))
        settled = berr <= np.fmax(_UNSETTLED * np.abs(best), 24 * line.delta(scale) / h0)
        agrees = settled & (np.abs(col - best) <= rtol * size + berr)
        status = np.where(agrees, OK, np.where(settled, MISMATCH, KINK))
        if (status == MISMATCH).any():  # a kink right at x: the derivative is one-sided
            h = h0 * 0.5**_HALVINGS
            fwd, bwd, err = _one_sided(line, h, scale)
            split = np.abs(fwd - bwd) > 2 * err + rtol * size
            side = (np.abs(col - fwd) <= err + rtol * size) | (np.abs(col - bwd) <= err + rtol * size)
            status = np.where((status == MISMATCH) & split & side, KINK, status)
    return status


@dataclass(repr=False, eq=False)
class GradientCheck(Result):
    """Outcome of comparing an exact gradient (and Hessian) with finite differences.

    Attributes
    ----------
    ok : bool
        Every entry agrees within ``rtol`` (or within the error bound of its estimate, which
        is what rounding allows near an optimum), and none sits on a kink.
    verdict : str
        ``"ok"``, ``"mismatch"`` (some entry settles on another value: a wrong derivative) or
        ``"kink"`` (no mismatch, but some entries cannot be checked because the function is
        not smooth within the steps tried).
    max_rel_error, max_abs_error : float
        Over the checked gradient entries (kinks excluded).
    hessian_max_rel_error : float or None
        Over the checked Hessian entries, when checked.
    kinks : list of str
        Gradient entries (and ``"H[p, q]"`` Hessian entries) that could not be checked.
    names, analytic, numeric, abs_error, rel_error
        The per-parameter table (see ``table()``); ``rel_error`` is nan at a kink.
    """

    ok: bool
    verdict: str
    max_rel_error: float
    max_abs_error: float
    hessian_max_rel_error: float | None
    rtol: float
    kinks: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    analytic: np.ndarray = field(default_factory=lambda: np.empty(0))
    numeric: np.ndarray = field(default_factory=lambda: np.empty(0))
    abs_error: np.ndarray = field(default_factory=lambda: np.empty(0))
    rel_error: np.ndarray = field(default_factory=lambda: np.empty(0))

    def table(self) -> str:
        """A plain-text table with one row per parameter."""
        head = f"{'param':>10} {'analytic':>14} {'numeric':>14} {'abs err':>10} {'rel err':>10}"
        rows = [
            f"{n:>10} {a:>14.7g} {m:>14.7g} {e:>10.2e} "
            + ("      kink" if n in self.kinks else f"{r:>10.2e}")
            for n, a, m, e, r in zip(
                self.names, self.analytic, self.numeric, self.abs_error, self.rel_error
            )
        ]
        return "\n".join([head, *rows])

    def __str__(self) -> str:
        verdict = {"ok": "ok", "mismatch": "MISMATCH", "kink": "inconclusive"}[self.verdict]
        extra = (
            ""
            if self.hessian_max_rel_error is None
            else f", Hessian max rel error {self.hessian_max_rel_error:.2e}"
        )
        kinks = (
            f"; not checkable (not smooth near the point): {', '.join(self.kinks)}"
            if self.kinks
            else ""
        )
        return (f"gradient check {verdict} (max rel error {self.max_rel_error:.2e}{extra}"
                f"{kinks})\n" + self.table())


def _max(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.max()) if finite.size else 0.0


def check_grad(
    fun: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    x: Any,
    *,
    hess: Callable[[np.ndarray], np.ndarray] | None = None,
    names: Sequence[str] | None = None,
    rtol: float = 1e-6,
    order: int = 4,
) -> GradientCheck:
    """Compare ``grad`` (and optionally ``hess``) with finite differences at ``x``.

    Uses :func:`compare_gradient`: the tolerance is ``rtol`` relative, widened only to the
    error bound of the finite-difference estimate (rounding of the function values, so a
    check at an optimum, where the gradient is rounding noise, does not raise a false alarm).
    Entries whose estimates never settle (a kink within the steps tried) are listed in
    ``kinks`` and make the verdict ``"kink"``, not ``"mismatch"``.

    >>> import numpy as np
    >>> chk = check_grad(lambda v: float(v @ v), lambda v: 2 * v, [1.0, -3.0])
    >>> chk.ok, chk.verdict, chk.max_rel_error < 1e-9
    (True, 'ok', True)
    >>> check_grad(lambda v: float(v @ v), lambda v: v, [1.0, -3.0]).verdict
    'mismatch'
    """
    x = as_float_array(x, "x")
    names = list(names) if names is not None else [f"x{i}" for i in range(x.size)]
    analytic = np.asarray(grad(x), dtype=float)
    cmp = compare_gradient(fun, x, analytic, rtol=rtol, order=order)
    statuses = [cmp.status]
    kinks = [n for n, s in zip(names, cmp.status) if s == KINK]
    h_err = None
    if hess is not None:
        h_an = np.asarray(hess(x), dtype=float)
        scale = np.abs(h_an).max(initial=0.0) * max(1.0, float(np.abs(x).max(initial=0.0)))
        h_cmp = compare_gradient(grad, x, h_an, rtol=max(rtol, 1e-5), order=order,
                                 scale=scale + np.abs(analytic).max(initial=0.0))
        statuses.append(h_cmp.status)
        h_err = _max(h_cmp.rel_error)
        kinks += [f"H[{names[p]}, {names[q]}]" for p, q in zip(*np.nonzero(h_cmp.status == KINK))]
    if any((s == MISMATCH).any() for s in statuses):
        verdict = "mismatch"
    else:
        verdict = "kink" if kinks else "ok"
    abs_err = np.abs(analytic - cmp.numeric)
    return GradientCheck(
        ok=verdict == "ok",
        verdict=verdict,
        max_rel_error=_max(cmp.rel_error),
        max_abs_error=_max(np.where(cmp.status == KINK, np.nan, abs_err)),
        hessian_max_rel_error=h_err,
        rtol=rtol,
        kinks=kinks,
        names=names,
        analytic=analytic,
        numeric=cmp.numeric,
        abs_error=abs_err,
        rel_error=cmp.rel_error,
    )


def check_loss_gradient(
    compiled: Any, theta: Any, data: Any = None, *, hessian: bool = True, rtol: float = 1e-6
) -> GradientCheck:
    """:func:`check_grad` for a :class:`~symcalc.CompiledLoss` at ``theta`` on ``data`` (one
    row of the table per entry of the flat theta: ``b``, ``w[0]``, ``W[1,2]``, ...)."""
    th = compiled._theta(theta)
    prepared = compiled.prepare(data)
    return check_grad(
        lambda t: compiled.evaluate(t, prepared, order=0)[0],
        lambda t: compiled.evaluate(t, prepared, order=1)[1:],
        th,
        hess=(lambda t: compiled._unpack_hessian(compiled.evaluate(t, prepared, order=2))[2])
        if hessian
        else None,
        names=compiled.layout.entry_names(),
        rtol=rtol,
    )
