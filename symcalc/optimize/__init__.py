"""Gradient descent, Newton's method and the scipy solvers on compiled losses.

One file per solver family: :mod:`.descent` (first-order loops driving the shared optimizers
of :mod:`symcalc.optimizers`), :mod:`.newton` (damped Newton with the exact Hessian),
:mod:`.scipy_bridge` (``scipy.optimize.minimize`` with exact derivatives) and
:mod:`.minimize` (the dispatcher). Every solver returns a :class:`DescentResult` whose
message comes from the one table :data:`MESSAGES`.
"""

from __future__ import annotations

from ._result import MESSAGES, DescentResult
from .descent import gradient_descent
from .minimize import MINIMIZE_METHODS, minimize

__all__ = ["gradient_descent", "minimize", "DescentResult", "MESSAGES", "MINIMIZE_METHODS"]
