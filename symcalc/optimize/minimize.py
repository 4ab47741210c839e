"""``minimize``: second-order and quasi-Newton solvers on a compiled loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_int, check_positive
from ..errors import SymcalcError
from ._common import Counter, best_index, quietly, setup, trim_history
from ._result import DescentResult, make_result
from .newton import newton_loop
from .scipy_bridge import SCIPY_METHODS, scipy_loop

__all__ = ["minimize", "MINIMIZE_METHODS"]

#: Every method name ``minimize`` accepts (matched case-insensitively).
MINIMIZE_METHODS: tuple[str, ...] = ("newton", *SCIPY_METHODS)
_BY_LOWER = {m.lower(): m for m in MINIMIZE_METHODS}
_TOL = 1e-8
_NEWTON_MAXITER = 100


def minimize(
    loss: Any,
    data: Any = None,
    x0: Any = None,
    method: str = "newton",
    *,
    tol: float | None = None,
    maxiter: int | None = None,
    backend: str = "numpy",
    **options: Any,
) -> DescentResult:
    """Minimize a loss with Newton's method or a ``scipy.optimize.minimize`` method.

    Parameters
    ----------
    loss : Loss or CompiledLoss
        The loss (compiled once, cached).
    data : mapping {Symbol or name: array-like of shape (n_samples,)} or DataFrame, optional
        Values of the data symbols (omit for a loss of the parameters only).
    x0 : array-like of shape (n_params,) or mapping {Symbol or name: float}, optional
        Starting point; zeros by default.
    method : str
        ``"newton"`` (default): damped Newton with the exact compiled Hessian, Armijo
        backtracking, and, where the Hessian is not positive definite, its eigenvalues
        replaced by ``max(|lambda|, 1e-8 * max|lambda|)`` (a descent direction that also
        escapes saddle points). Or a scipy method, fed the exact compiled gradient
        (``jac=True``) and, where used, Hessian: ``"BFGS"``, ``"L-BFGS-B"``, ``"CG"``,
        ``"Newton-CG"``, ``"trust-exact"``, ``"trust-ncg"``, ``"trust-krylov"``,
        ``"dogleg"``, ``"trust-constr"``, ``"TNC"``, ``"SLSQP"``, ``"Nelder-Mead"``,
        ``"Powell"``, ``"COBYLA"`` (case-insensitive).
    tol : float, optional
        Stop when the gradient norm is at most ``tol`` (default 1e-8). scipy methods get
        matching solver options (``gtol`` for BFGS, CG, L-BFGS-B, TNC and the trust-region
        methods, ``xtol = tol/100`` for Newton-CG, a loss tolerance ``tol**2`` for SLSQP, Nelder-Mead
        and Powell; ``options`` given explicitly win), and without bounds or constraints
        the result counts as converged exactly when the final gradient norm is at most
        ``tol``, whatever scipy's own verdict (which the message quotes).
    maxiter : int, optional
        Iteration limit (``"newton"``: 100 by default; scipy: its default).
    backend : str
        Compile backend.
    **options
        ``"newton"``: ``c1`` (Armijo constant, default 1e-4). scipy methods: ``bounds`` and
        ``constraints`` are passed to ``scipy.optimize.minimize``, the rest as its
        ``options``.

    Returns
    -------
    DescentResult
        Same fields as :func:`gradient_descent`; ``nit`` counts iterations. Non-convergence
        and a non-finite loss are results (``converged=False``), never exceptions; Ctrl-C
        returns the best iterate so far.

    Raises
    ------
    SymcalcError
        Unknown method or option, ``tol < 0``, ``maxiter < 1``, bad ``x0`` or ``data``.

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> a, b = sp.symbols("a b")
    >>> rosen = sc.Loss((1 - a)**2 + 100*(b - a**2)**2, params=[a, b])
    >>> res = sc.minimize(rosen, x0=[-1.2, 1.0], method="newton")
    >>> res.converged, [round(float(v), 8) for v in res.x], res.nit < 50
    (True, [1.0, 1.0], True)
    """
    name = _check_method(method)
    if tol is not None:
        tol = check_positive(tol, "tol", allow_zero=True)
    if maxiter is not None:
        maxiter = check_int(maxiter, "maxiter", minimum=1)
    tol = _TOL if tol is None else tol
    if name == "newton":
        unknown = sorted(set(options) - {"c1"})
        if unknown:
            raise SymcalcError(f"unknown option(s) {unknown} for method 'newton'; known: ['c1']")
        c1 = check_positive(options.get("c1", 1e-4), "c1")
        if c1 >= 1:
            raise SymcalcError(f"c1 must be in (0, 1); got {c1:g}")
    f, prepared, x = setup(loss, data, x0, backend)
    counter = Counter()
    history: dict[str, list[Any]] = {"loss": [], "grad_norm": [], "x": []}
    success = None
    detail = ""
    with quietly(f):
        if name == "newton":
            status, nit = newton_loop(
                f, prepared, x, tol=tol, maxiter=maxiter or _NEWTON_MAXITER,
                history=history, counter=counter, c1=c1,
            )
        else:
            status, nit, success, detail = scipy_loop(
                f, prepared, x, name, tol=tol, maxiter=maxiter, history=history,
                counter=counter, options=dict(options),
            )
    trim_history(history)
    losses, gnorms, path = history["loss"], history["grad_norm"], history["x"]
    if not path:
        value = float(f.evaluate(x, prepared, order=0)[0])
        point, fun, gn = x, value, float("nan")
    else:
        i = best_index(losses) if status == "interrupted" else len(path) - 1
        point, fun, gn = path[i], losses[i], gnorms[i]
    return make_result(
        status, x=point, fun=fun, grad_norm=gn, nit=nit, counts=counter.as_tuple(),
        history=history, method=name, param_symbols=tuple(f.params), converged=success,
        tol=tol, epoch=nit, suggest="",
        detail=detail, loss_tol=float("nan"), window=0,
    )


def _check_method(method: Any) -> str:
    if isinstance(method, str) and method.lower() in _BY_LOWER:
        return _BY_LOWER[method.lower()]
    raise SymcalcError(
        f"method must be one of {', '.join(repr(m) for m in MINIMIZE_METHODS)}; got {method!r}"
    )
