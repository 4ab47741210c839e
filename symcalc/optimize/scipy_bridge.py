"""Bridge to ``scipy.optimize.minimize`` fed with the exact compiled gradient and Hessian.

Value and gradient come from one compiled call (``jac=True``); the Hessian, for the methods
that use one, from the compiled Hessian kernel. Every accepted iterate is recorded in the
history through scipy's callback.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.optimize

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
    """Run ``scipy.optimize.minimize``; returns (status, nit, success, scipy's message).

    The final iterate is ``history["x"][-1]``.
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
    if maxiter is not None:
        options["maxiter"] = maxiter
    if uses_grad:
        kwargs["jac"] = True
        fun = obj.value_and_grad
    else:
        fun = obj.value
    if uses_hess:
        kwargs["hess"] = obj.hessian
    try:
        res = scipy.optimize.minimize(
            fun, x, method=method, tol=tol, callback=record, options=options, **kwargs
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
    return "scipy", nit, bool(res.success), detail
