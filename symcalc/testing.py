"""Finite-difference checks of gradients and Hessians (used by symcalc's tests and by users).

Central differences with a fourth-order stencil by default: for a smooth function the
truncation error is O(h^4) and, with ``h ~ eps^(1/5)``, the result agrees with an exact
gradient to about 1e-10 relative, tight enough to catch any wrong derivative.

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


@dataclass(repr=False, eq=False)
class GradientCheck(Result):
    """Outcome of comparing an exact gradient (and Hessian) with finite differences.

    Attributes
    ----------
    ok : bool
        Every relative error is below ``rtol``.
    max_rel_error, max_abs_error : float
        Over the gradient entries.
    hessian_max_rel_error : float or None
        Over the Hessian entries, when checked.
    names, analytic, numeric, abs_error, rel_error
        The per-parameter table (see ``table()``).
    """

    ok: bool
    max_rel_error: float
    max_abs_error: float
    hessian_max_rel_error: float | None
    rtol: float
    names: list[str] = field(default_factory=list)
    analytic: np.ndarray = field(default_factory=lambda: np.empty(0))
    numeric: np.ndarray = field(default_factory=lambda: np.empty(0))
    abs_error: np.ndarray = field(default_factory=lambda: np.empty(0))
    rel_error: np.ndarray = field(default_factory=lambda: np.empty(0))

    def table(self) -> str:
        """A plain-text table with one row per parameter."""
        head = f"{'param':>10} {'analytic':>14} {'numeric':>14} {'abs err':>10} {'rel err':>10}"
        rows = [
            f"{n:>10} {a:>14.7g} {m:>14.7g} {e:>10.2e} {r:>10.2e}"
            for n, a, m, e, r in zip(
                self.names, self.analytic, self.numeric, self.abs_error, self.rel_error
            )
        ]
        return "\n".join([head, *rows])

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "MISMATCH"
        extra = (
            ""
            if self.hessian_max_rel_error is None
            else f", Hessian max rel error {self.hessian_max_rel_error:.2e}"
        )
        return f"gradient check {verdict} (max rel error {self.max_rel_error:.2e}{extra})\n" + self.table()


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
    """Compare ``grad`` (and optionally ``hess``) with central differences at ``x``.

    >>> import numpy as np
    >>> chk = check_grad(lambda v: float(v @ v), lambda v: 2 * v, [1.0, -3.0])
    >>> chk.ok, chk.max_rel_error < 1e-9
    (True, True)
    """
    x = as_float_array(x, "x")
    analytic = np.asarray(grad(x), dtype=float)
    numeric = numeric_gradient(fun, x, order=order)
    abs_err = np.abs(analytic - numeric)
    rel_err = relative_error(analytic, numeric)
    h_err = None
    if hess is not None:
        h_num = numeric_hessian(grad, x, order=order)
        h_err = float(np.max(relative_error(np.asarray(hess(x), dtype=float), h_num)))
    max_rel = float(np.max(rel_err)) if rel_err.size else 0.0
    ok = max_rel <= rtol and (h_err is None or h_err <= max(rtol, 1e-5))
    return GradientCheck(
        ok=bool(ok),
        max_rel_error=max_rel,
        max_abs_error=float(np.max(abs_err)) if abs_err.size else 0.0,
        hessian_max_rel_error=h_err,
        rtol=rtol,
        names=list(names) if names is not None else [f"x{i}" for i in range(x.size)],
        analytic=analytic,
        numeric=numeric,
        abs_error=abs_err,
        rel_error=rel_err,
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
