"""The largest stable gradient-descent step: ``eta < 2 / lambda_max`` of the Hessian.

Near a minimum the loss is a quadratic ``L(theta*) + (1/2) d^T H d``; gradient descent moves
``d`` to ``(I - eta H) d``, so along each eigenvector of ``H`` the error is multiplied by
``1 - eta * lambda`` per step. It shrinks for every eigenvalue exactly when
``|1 - eta * lambda| < 1``, i.e. ``0 < eta < 2 / lambda_max``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from .._timeout import call_with_timeout
from .._validate import check_positive, describe
from ..errors import NonFiniteError, SymbolicTimeout, SymcalcError
from ..results import Result

__all__ = ["stable_learning_rate", "StabilityReport"]

_mean = sp.Function("mean")
_total = sp.Function("sum")


@dataclass(repr=False, eq=False)
class StabilityReport(Result):
    """The gradient-descent stability bound of a loss.

    Attributes
    ----------
    bound : float
        Gradient descent converges (locally) for ``0 < learning_rate < bound``;
        ``inf`` when the Hessian has no positive eigenvalue.
    lambda_max : float
        The largest Hessian eigenvalue of the total (mean or sum) loss.
    exact : bool
        True when the Hessian does not depend on the parameters (a quadratic loss): the bound
        then holds everywhere, not only near ``at``.
    expression : sympy expression or None
        The bound as a formula in the data, e.g. ``2/(2*mean(x**2))`` (exact case, when
        ``lambda_max`` has a closed form).
    method : str
        ``"exact"`` (constant Hessian, eigenvalues of the evaluated matrix) or
        ``"power-iteration"`` (Hessian compiled and evaluated at ``at``).
    reason : str
        One sentence.
    lambda_min : float
        The smallest eigenvalue (negative means ``at`` is not near a minimum).
    hessian : ndarray of shape (p, p)
        The evaluated Hessian.
    hessian_expr : sympy Matrix or None
        The Hessian of the total loss in terms of data means (exact case).
    """

    bound: float
    lambda_max: float
    exact: bool
    expression: Any
    method: str
    reason: str
    lambda_min: float = math.nan
    hessian: Any = None
    hessian_expr: Any = None


def stable_learning_rate(
    loss: Any, data: Any = None, at: Any = None, *, timeout: float | None = 2.0
) -> StabilityReport:
    """The largest learning rate for which gradient descent on ``loss`` is stable.

    Gradient descent on a quadratic converges iff ``|1 - eta * lambda| < 1`` for every
    eigenvalue ``lambda`` of the Hessian, i.e. ``eta < 2 / lambda_max``. When the Hessian does
    not depend on the parameters (least squares, ridge) the bound is exact and shown as a
    formula; otherwise the compiled Hessian is evaluated at ``at`` and ``lambda_max`` found by
    power iteration (a local bound, valid near ``at``).

    Parameters
    ----------
    loss : symcalc.Loss
        The loss (its ``reduce`` decides mean or sum over rows).
    data : mapping or DataFrame, optional
        Data columns, required when the loss has data symbols.
    at : array-like or mapping, optional
        Parameters where the Hessian is evaluated; required only when it depends on them.
    timeout : float or None
        Seconds for the whole call, a hard limit (``None``: no limit). Deriving, compiling and
        evaluating the Hessian run first, in a child process; the symbolic formula of an
        exact bound (the Hessian entries expanded in data means and, up to 4x4, its
        eigenvalues) gets the rest of the time, and when that runs out the numeric bound is
        still returned, with ``expression=None``.

    Returns
    -------
    StabilityReport
        ``bound, lambda_max, exact, expression, method, reason`` and details.

    Raises
    ------
    SymcalcError
        ``loss`` is not a Loss, ``at`` is missing where needed, or bad data/parameters.
    SymbolicTimeout
        Deriving and evaluating the Hessian did not finish within ``timeout``.

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> w, x, y = sp.symbols("w x y")
    >>> loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
    >>> r = sc.stable_learning_rate(loss, {x: [1.0, 2.0, 3.0], y: [1.0, 2.0, 2.0]})
    >>> r.expression, round(r.bound, 6)
    (2/(2*mean(x**2)), 0.214286)

    The 1-D iteration ``w_{k+1} = (1 - eta * lambda) w_k`` confirms the bound: its limit is 0
    just below it and does not exist just above it.

    >>> k, eta = sp.Symbol("k", integer=True, positive=True), sp.Symbol("eta")
    >>> lam = sp.nsimplify(r.lambda_max)
    >>> lam
    28/3
    >>> w_k = (1 - eta * lam) ** k  # w_0 = 1
    >>> sp.limit(w_k.subs(eta, sp.Rational(95, 100) * 2 / lam), k, sp.oo)  # 0.95 * bound
    0
    >>> sp.limit(w_k.subs(eta, sp.Rational(105, 100) * 2 / lam), k, sp.oo)  # 1.05 * bound
    zoo
    """
    from ..loss import Loss

    if not isinstance(loss, Loss):
        raise SymcalcError(
            f"loss must be a symcalc.Loss; got {describe(loss)} of type {type(loss).__name__}"
        )
    if timeout is not None:
        timeout = check_positive(timeout, "timeout")
    deadline = None if timeout is None else time.perf_counter() + timeout
    try:  # SymPy derives and compiles the Hessian: a hard limit, in a child process
        result = call_with_timeout(_hessian_at, loss, data, at, timeout=timeout,
                                   what="deriving and evaluating the Hessian")
    except SymbolicTimeout as exc:
        why = "" if "did not finish" in str(exc) else f": {exc}"  # memory: say so
        raise SymbolicTimeout(
            f"stable_learning_rate did not finish within its {timeout:g} s budget (deriving "
            f"and evaluating the Hessian was stopped{why}); give a larger timeout, or None"
        ) from None
    if isinstance(result, StabilityReport):  # a loss with blocks: reported in the child
        return result
    h, constant = result
    if not constant:
        return _numeric_report(h)
    remaining = None if deadline is None else deadline - time.perf_counter()
    total = lam_expr = None
    if remaining is None or remaining > 0.05:
        try:
            total, lam_expr = call_with_timeout(
                _symbolic_bound, loss, timeout=remaining, what="the symbolic bound"
            )
        except SymbolicTimeout:  # huge expansions: the numeric bound stands on its own
            pass
    return _exact_report(h, total, lam_expr)


def _hessian_at(loss: Any, data: Any, at: Any) -> tuple[np.ndarray, bool] | StabilityReport:
    """The evaluated Hessian and whether it is constant, or for a loss with blocks the whole
    report (runs in the timeout child)."""
    compiled = loss.compile()
    if loss.has_blocks:
        return _block_bound(loss, compiled, data, at)
    hess_sym = loss.hessian(form="raw")
    params = set(loss.params)
    if not (hess_sym.free_symbols & params):
        return compiled.hessian(np.zeros(len(loss.params)), data), True
    if at is None:
        used = sorted(s.name for s in hess_sym.free_symbols & params)
        raise SymcalcError(
            f"the Hessian depends on the parameters {used}, so the bound is local: pass "
            "at=theta (a vector in params order or a {symbol: value} mapping)"
        )
    return compiled.hessian(at, data), False


def _block_bound(loss: Any, compiled: Any, data: Any, at: Any) -> StabilityReport:
    """The bound of a loss with blocks: exact when the core's second derivatives are free of
    every variable (a quadratic loss), else local at ``at`` (no symbolic formula)."""
    deriv = loss.derivation
    variables = set(deriv.variables)
    moving = sorted({s.name for row in deriv.hessian() for h in row for s in h.free_symbols
                     if s in variables})
    if not moving:
        return _exact_report(compiled.hessian(np.zeros(compiled.size), data), None, None)
    if at is None:
        raise SymcalcError(
            f"the Hessian depends on the parameters (through {moving}), so the bound is local: "
            "pass at=theta (a flat vector, blocks row-major, or a {symbol: value} mapping)"
        )
    return _numeric_report(compiled.hessian(at, data))


def _reduce_entry(entry: sp.Expr, loss: Any) -> sp.Expr:
    """An entry of the per-sample Hessian turned into its mean (or sum) over the rows."""
    if not loss.data or not (entry.free_symbols & set(loss.data)):
        return entry if loss.reduce == "mean" or not loss.data else entry * sp.Symbol("N")
    terms = []
    for term in sp.Add.make_args(sp.expand(entry)):
        coeff, rest = term.as_independent(*loss.data, as_Add=False)
        if rest == 1:
            terms.append(coeff if loss.reduce == "mean" else coeff * sp.Symbol("N"))
        else:
            terms.append(coeff * (_mean(rest) if loss.reduce == "mean" else _total(rest)))
    return sp.Add(*terms)


def _total_hessian_expr(hess_sym: sp.Matrix, loss: Any) -> sp.Matrix:
    return hess_sym.applyfunc(lambda e: _reduce_entry(e, loss))


def _lambda_max_expr(total: sp.Matrix) -> sp.Expr | None:
    """A closed form of the largest eigenvalue for 1x1 and 2x2 matrices (None otherwise)."""
    if total.shape == (1, 1):
        return total[0, 0]
    if total.shape == (2, 2):
        a, b, d = total[0, 0], total[0, 1], total[1, 1]
        return (a + d) / 2 + sp.sqrt(((a - d) / 2) ** 2 + b**2)
    if not total.free_symbols and total.shape[0] <= 4:
        try:
            return sp.Max(*total.eigenvals().keys())
        except Exception:  # noqa: BLE001 - no closed form: numeric only
            return None
    return None


def _symbolic_bound(loss: Any) -> tuple[sp.Matrix, sp.Expr | None]:
    """The total Hessian in data means and its largest eigenvalue (runs under a timeout)."""
    total = _total_hessian_expr(loss.hessian(), loss)
    return total, _lambda_max_expr(total)


def _exact_report(h: np.ndarray, total: sp.Matrix | None, lam_expr: sp.Expr | None
                  ) -> StabilityReport:
    if not np.all(np.isfinite(h)):
        raise NonFiniteError("the Hessian is not finite for this data (it overflows); scale "
                             "the data columns")
    eig = np.linalg.eigvalsh(h)
    lam_max, lam_min = float(eig[-1]), float(eig[0])
    expression = None if lam_expr is None else sp.UnevaluatedExpr(2) / lam_expr
    if lam_max <= 0:
        return StabilityReport(
            math.inf, lam_max, True, expression, "exact",
            "The Hessian has no positive eigenvalue, so the loss has no minimum to converge to.",
            lam_min, h, total,
        )
    bound = 2.0 / lam_max
    formula = f" = {expression}" if expression is not None else ""
    return StabilityReport(
        bound, lam_max, True, expression, "exact",
        f"The Hessian is constant, so gradient descent converges exactly for learning rates "
        f"below 2/lambda_max{formula} = {bound:.6g} (lambda_max = {lam_max:.6g}).",
        lam_min, h, total,
    )


def _power_iteration(h: np.ndarray, *, tol: float = 1e-13, maxiter: int = 5000) -> float:
    """Largest eigenvalue of a symmetric positive semi-definite matrix by power iteration."""
    p = h.shape[0]
    v = np.ones(p) + 0.1 * np.arange(p) / p  # deterministic start
    v /= np.linalg.norm(v)
    estimate = float(v @ h @ v)
    for _ in range(maxiter):
        w = h @ v
        norm = float(np.linalg.norm(w))
        if norm == 0.0:
            return 0.0
        v = w / norm
        new = float(v @ h @ v)
        if abs(new - estimate) <= tol * max(abs(new), 1e-300):
            return new
        estimate = new
    return float(np.linalg.eigvalsh(h)[-1])  # clustered eigenvalues: exact fallback


def _extreme_eigenvalues(h: np.ndarray) -> tuple[float, float]:
    """(lambda_max, lambda_min) of a symmetric matrix, by power iteration on shifted copies.

    The Gershgorin bound ``s >= max |lambda|`` makes ``h + s I`` and ``s I - h`` positive
    semi-definite, so their dominant eigenvalues are ``lambda_max + s`` and ``s - lambda_min``
    (plain power iteration would stall on eigenvalues of equal size and opposite sign).
    """
    s = float(np.max(np.sum(np.abs(h), axis=1)))
    if s == 0.0:
        return 0.0, 0.0
    eye = np.eye(h.shape[0])
    return _power_iteration(h + s * eye) - s, s - _power_iteration(s * eye - h)


def _numeric_report(h: np.ndarray) -> StabilityReport:
    if not np.all(np.isfinite(h)):
        raise SymcalcError("the Hessian at `at` is not finite; choose parameters where the "
                           "loss is defined")
    lam_max, lam_min = _extreme_eigenvalues(h)
    if lam_max <= 0:
        return StabilityReport(
            math.inf, lam_max, False, None, "power-iteration",
            "The Hessian at `at` has no positive eigenvalue (a maximum or flat region), so no "
            "learning rate makes gradient descent converge there.",
            lam_min, h, None,
        )
    bound = 2.0 / lam_max
    caveat = ("; the Hessian also has a negative eigenvalue, so `at` is near a saddle"
              if lam_min < 0 else "")
    return StabilityReport(
        bound, lam_max, False, None, "power-iteration",
        f"Near `at`, gradient descent is stable for learning rates below 2/lambda_max = "
        f"{bound:.6g} (lambda_max = {lam_max:.6g}, by power iteration){caveat}.",
        lam_min, h, None,
    )
