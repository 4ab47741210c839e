"""Limits for convergence: the stopping rule, sequence analysis, symbolic limits, stable steps.

- :func:`check_convergence` -- the one cheap stopping rule optimizers call every iteration.
- :func:`analyze_sequence` -- converged?, extrapolated limit, rate, order, oscillation.
- :func:`limit` -- ``sympy.limit`` under a timeout, cross-checked numerically.
- :func:`stable_learning_rate` -- the largest stable gradient-descent step, ``2 / lambda_max``.
"""

from __future__ import annotations

from .limits import LimitReport, limit
from .sequence import SequenceReport, analyze_sequence, check_convergence
from .stability import StabilityReport, stable_learning_rate

__all__ = [
    "check_convergence",
    "analyze_sequence",
    "limit",
    "stable_learning_rate",
    "SequenceReport",
    "LimitReport",
    "StabilityReport",
]
