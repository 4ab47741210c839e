"""The result of every solver in :mod:`symcalc.optimize`, its status messages and stopping rule.

All status messages live in :data:`MESSAGES` (one table of full sentences, keyed by the
``status`` field of the result); every solver builds its result through :func:`make_result`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from .._layout import ParamLayout
from ..results import Result

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["DescentResult", "MESSAGES", "CONVERGED_STATUSES", "make_result"]

#: Status -> message template. Every stop reason of every solver is one full sentence here.
MESSAGES: dict[str, str] = {
    "grad_tol": "Converged: the gradient norm {grad_norm:.3g} is at most tol={tol:g}.",
    "loss_tol": (
        "Converged: the loss changed by at most {loss_tol:.3g} (relative) in each of the last "
        "{window} epochs."
    ),
    "decrement": (
        "Converged: the Newton decrement predicts a further decrease of the loss below "
        "machine precision."
    ),
    "max_epochs": (
        "Stopped after the maximum of {nit} epochs before reaching tol={tol:g} (gradient norm "
        "{grad_norm:.3g}); increase epochs or the learning rate."
    ),
    "max_iter": (
        "Stopped after the maximum of {nit} iterations before reaching tol={tol:g} (gradient "
        "norm {grad_norm:.3g}); increase maxiter."
    ),
    "diverged": (
        "Diverged: the loss or its gradient became non-finite at epoch {epoch}; x holds the "
        "last finite iterate. Try a smaller learning rate ({suggest})."
    ),
    "nonfinite": (
        "Stopped at iteration {epoch}: the loss or its gradient became non-finite; x holds "
        "the last finite iterate."
    ),
    "bad_start": (
        "The loss or its gradient is not finite at the starting point x0; start somewhere "
        "the loss is defined."
    ),
    "line_search": (
        "Stopped at iteration {epoch}: the line search found no step that decreases the loss "
        "(gradient norm {grad_norm:.3g}); the loss may be flat to machine precision here."
    ),
    "callback": "Stopped by the callback at epoch {epoch}.",
    "interrupted": (
        "Run interrupted (KeyboardInterrupt) at epoch {epoch}; x holds the best iterate so far."
    ),
    "scipy": "scipy.optimize.minimize ({method}) stopped: {detail}",
}

#: Statuses that count as converged (``scipy`` results use scipy's own success flag).
CONVERGED_STATUSES = frozenset({"grad_tol", "loss_tol", "decrement"})


@dataclass(repr=False, eq=False)
class DescentResult(Result):
    """What :func:`gradient_descent` and :func:`minimize` return.

    Attributes
    ----------
    message : str
        Why the run stopped, one full sentence (from :data:`MESSAGES`).
    converged : bool
        Whether a convergence criterion was met (``False`` for divergence, the iteration
        limit, a callback stop or an interrupt; never an exception).
    x : ndarray of shape (n_params,)
        The final parameters (the last finite iterate after divergence, the best iterate so
        far after an interrupt).
    params : dict {Symbol: float or ndarray}
        ``x`` by parameter symbol: a float for a scalar parameter, an array of the block's
        shape for a vector/matrix parameter (``x`` is the flat vector, blocks row-major).
    fun : float
        The loss at ``x``.
    nit : int
        Epochs (gradient descent) or iterations (``minimize``) performed.
    nfev, njev, nhev : int
        Evaluations of the loss, its gradient and its Hessian (one compiled call may count
        for several).
    grad_norm : float
        Euclidean norm of the gradient at ``x``.
    history : dict
        ``"loss"``, ``"grad_norm"`` (lists of floats) and ``"x"`` (the parameter path, a list
        of arrays); entry ``i`` belongs to iterate ``i`` (entry 0 is ``x0``).
    method : str
        The optimizer or solver used.
    status : str
        Short key of the stop reason (a key of :data:`MESSAGES`), handy in scripts.
    """

    message: str
    converged: bool
    x: np.ndarray
    params: dict[Any, Any]
    fun: float
    nit: int
    nfev: int
    njev: int
    nhev: int
    grad_norm: float
    history: dict[str, list[Any]] = field(default_factory=dict)
    method: str = ""
    status: str = ""

    def plot(self, ax: Axes | None = None, log: bool = True) -> Axes:
        """The loss curve (see :func:`symcalc.plotting.plot_loss_curve`)."""
        from ..plotting.descent import plot_loss_curve

        return plot_loss_curve(self, ax=ax, log=log)


def make_result(
    status: str,
    *,
    x: np.ndarray,
    fun: float,
    grad_norm: float,
    nit: int,
    counts: tuple[int, int, int],
    history: dict[str, list[Any]],
    method: str,
    param_symbols: tuple[sp.Symbol, ...],
    converged: bool | None = None,
    **fmt: Any,
) -> DescentResult:
    """Build a :class:`DescentResult`; the message is ``MESSAGES[status]`` formatted with
    ``nit``, ``grad_norm`` and ``fmt``."""
    x = np.array(x, dtype=np.float64)
    fun, grad_norm = float(fun), float(grad_norm)
    message = MESSAGES[status].format(nit=nit, grad_norm=grad_norm, method=method, **fmt)
    return DescentResult(
        message=message,
        converged=status in CONVERGED_STATUSES if converged is None else bool(converged),
        x=x,
        params=ParamLayout(param_symbols).unflatten(x),
        fun=fun,
        nit=int(nit),
        nfev=int(counts[0]),
        njev=int(counts[1]),
        nhev=int(counts[2]),
        grad_norm=grad_norm,
        history=history,
        method=method,
        status=status,
    )
