"""symcalc: exact and fast calculus for machine learning.

Write a loss as a SymPy expression; symcalc derives its partial derivatives exactly, shows
them readably, compiles them into fast NumPy functions and uses them to optimize, check
convergence, integrate and train small neural networks.

>>> import sympy as sp, symcalc as sc
>>> w, x, y = sp.symbols("w x y")
>>> loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
>>> loss.gradient()
Matrix([[2*x*(w*x - y)]])
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
    DataError,
    MissingDependencyError,
    NonFiniteError,
    ParseError,
    ShapeError,
    SymbolError,
    SymbolicTimeout,
    SymcalcError,
)
from .loss import Loss
from .compile import CompiledLoss, PreparedData
from .optimizers import Adam, GradientDescent, Momentum, Nesterov, Optimizer
from .optimize import DescentResult, gradient_descent, minimize
from .plotting import plot_contour, plot_gradient_field, plot_loss_curve

__all__ = [
    "__version__",
    # errors
    "SymcalcError",
    "ParseError",
    "SymbolError",
    "DataError",
    "ShapeError",
    "NonFiniteError",
    "MissingDependencyError",
    "SymbolicTimeout",
    # symbolic loss and the compile path
    "Loss",
    "CompiledLoss",
    "PreparedData",
    # optimizers (shared by gradient_descent and nn)
    "Optimizer",
    "GradientDescent",
    "Momentum",
    "Nesterov",
    "Adam",
    # optimization (gradient descent, Newton, scipy bridge) and its plots
    "gradient_descent",
    "minimize",
    "DescentResult",
    "plot_loss_curve",
    "plot_contour",
    "plot_gradient_field",
]
