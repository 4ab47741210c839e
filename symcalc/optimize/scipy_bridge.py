"""Bridge to ``scipy.optimize.minimize`` fed with the exact compiled gradient and Hessian.

Value and gradient come from one compiled call (``jac=True``); the Hessian, for the methods
that use one, from the compiled Hessian kernel. Every accepted iterate is recorded in the
history through scipy's callback.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..codegen import CompiledLoss, PreparedData
from ._common import Counter

__all__ = ["SCIPY_METHODS", "scipy_loop"]

#: scipy method name -> (uses the gradient, uses the Hessian).
SCIPY_METHODS: dict[str, tuple[bool, bool]] = {
    "Nelder-Mead": (False, False),
    "Powell": (False, False),
    "CG": (True, False),
    "BFGS": (True, False),
    "Newton-CG": (True, True),
    "L-BFGS-B": (True, False),
    "TNC": (True, False),
    "COBYLA": (False, False),
    "SLSQP": (True, False),
    "trust-constr": (True, True),
    "dogleg": (True, True),
    "trust-ncg": (True, True),
    "trust-exact": (True, True),
    "trust-krylov": (True, True),
}

#: Keyword arguments of scipy.optimize.minimize that are not solver options.
_SCIPY_KWARGS = ("bounds", "constraints")


def _tolerances(method: str, tol: float, n: int) -> dict[str, float]:
    """Solver options that make scipy stop where symcalc's rule ``|grad| <= tol`` holds.

    scipy's own defaults stop gradient methods at ``|grad|_inf <= 1e-5`` (BFGS, CG, the
    trust-region methods) or after a relative loss change of 2.2e-9 (L-BFGS-B), 1e-4 to
    1e-3 from the optimum of a well-conditioned fit. The loss is quadratic near a minimum,
    so a loss tolerance of ``tol**2`` matches a gradient tolerance ``tol``.
    """
    ftol = max(tol * tol, 1e-15)
    table: dict[str, dict[str, float]] = {
        "BFGS": {"gtol": tol, "norm": 2},
        "CG": {"gtol": tol, "norm": 2},
        "L-BFGS-B": {"gtol": tol / math.sqrt(max(n, 1)), "ftol": 0.0},
        "TNC": {"gtol": tol / math.sqrt(max(n, 1)), "ftol": 0.0, "xtol": 0.0},
        "Newton-CG": {"xtol": tol * 1e-2},
        "trust-constr": {"gtol": tol, "xtol": tol},
        "dogleg": {"gtol": tol},
        "trust-ncg": {"gtol": tol},
        "trust-exact": {"gtol": tol},
        "trust-krylov": {"gtol": tol},
        "SLSQP": {"ftol": ftol},
        "Nelder-Mead": {"xatol": tol, "fatol": ftol},
        "Powell": {"xtol": tol, "ftol": ftol},
        "COBYLA": {"tol": tol},
    }
    return table[method]


class _Objective:
    """Compiled value/gradient/Hessian with a one-point cache and evaluation counts."""

    def __init__(self, f: CompiledLoss, P: PreparedData, counter: Counter) -> None:
        self.f, self.P, self.counter = f, P, counter
        self.x: np.ndarray | None = None
        self.out: np.ndarray | None = None

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        if self.x is None or not np.array_equal(x, self.x):
            self.x = np.array(x, dtype=np.float64)
            self.out = self.f.evaluate(self.x, self.P, order=1)
            self.counter.add(1)
        value = float(self.out[0])
        return (value if math.isfinite(value) else math.inf), self.out[1:].copy()

    def value(self, x: np.ndarray) -> float:
        return self.value_and_grad(x)[0]

    def hessian(self, x: np.ndarray) -> np.ndarray:
        out = self.f.evaluate(np.asarray(x, dtype=np.float64), self.P, order=2)
        self.counter.add(2)
        return self.f._unpack_hessian(out)[2]


def scipy_loop(
    f: CompiledLoss,
    P: PreparedData,
    x: np.ndarray,
    method: str,
    *,
    tol: float | None,
    maxiter: int | None,
    history: dict[str, list[Any]],
    counter: Counter,
    options: dict[str, Any],
) -> tuple[str, int, bool, str]:
    """Run ``scipy.optimize.minimize``; returns (status, nit, converged, message detail).

    Without bounds or constraints the run counts as converged exactly when the gradient
    norm at the final iterate is at most ``tol`` (whatever scipy's own verdict); with them,
    scipy's verdict stands. The final iterate is ``history["x"][-1]``.
    """
    uses_grad, uses_hess = SCIPY_METHODS[method]
    obj = _Objective(f, P, counter)
    losses, gnorms, path = history["loss"], history["grad_norm"], history["x"]

    def record(xk: np.ndarray, *_: Any) -> None:
        value, g = obj.value_and_grad(xk)
        losses.append(value), gnorms.append(float(np.linalg.norm(g))), path.append(np.array(xk))

    record(x)
    if not math.isfinite(losses[0] + gnorms[0]):
        return "bad_start", 0, False, ""
    kwargs = {k: options.pop(k) for k in _SCIPY_KWARGS if k in options}
    if tol is not None:
        options = {**_tolerances(method, tol, x.size), **options}
    if maxiter is not None:
        options["maxiter"] = maxiter
    if uses_grad:
        kwargs["jac"] = True
        fun = obj.value_and_grad
    else:
        fun = obj.value
    if uses_hess:
        kwargs["hess"] = obj.hessian
    import scipy.optimize  # lazy: keeps `import symcalc` light

    try:
        res = scipy.optimize.minimize(
            fun, x, method=method, callback=record, options=options, **kwargs
        )
    except KeyboardInterrupt:
        return "interrupted", len(path) - 1, False, ""
    final = np.asarray(res.x, dtype=np.float64)
    if not np.array_equal(final, path[-1]):
        record(final)
    nit = int(res.get("nit", len(path) - 1))
    detail = " ".join(str(res.message).split())
    if not detail.endswith("."):
        detail += "."
    if kwargs.get("bounds") is not None or kwargs.get("constraints"):
        return "scipy", nit, bool(res.success), detail
    gn = gnorms[-1]
    if tol is not None and gn <= tol:
        return "scipy", nit, True, f"{detail} The gradient norm {gn:.3g} is at most tol={tol:g}."
    return "scipy", nit, False, (
        f"{detail} Not converged: the gradient norm {gn:.3g} is above tol={tol:g}."
        if tol is not None else detail)
