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
from .functions import log_sigmoid, logsumexp, relu, sigmoid, softmax, softplus
from .blocks.symbols import matrix, vector
from .blocks.api import dot, elementwise, exp, log, norm2, sum, tanh
from .blocks.columns import columns
from .loss import Loss
from .codegen import CompiledLoss, PreparedData
from .optimizers import Adam, GradientDescent, Momentum, Nesterov, Optimizer
from .explain import Derivation, explain
from . import datasets
from .metrics import auc, integrate, roc_auc_ci, roc_auc_score, roc_curve
from .plotting import plot_roc
from .convergence import (
    LimitReport,
    SequenceReport,
    StabilityReport,
    analyze_sequence,
    check_convergence,
    limit,
    stable_learning_rate,
)
from . import nn
from .parsing import parse
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
    # ML functions that stay folded (exact derivatives, stable code); block-aware
    "sigmoid",
    "softplus",
    "log_sigmoid",
    "relu",
    "logsumexp",
    "softmax",
    # vector and matrix losses (blocks)
    "vector",
    "matrix",
    "dot",
    "elementwise",
    "sum",
    "norm2",
    "exp",
    "log",
    "tanh",
    "columns",
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
    # derivation steps
    "explain",
    "Derivation",
    # built-in data
    "datasets",
    # metrics: areas under curves
    "roc_curve",
    "auc",
    "roc_auc_score",
    "roc_auc_ci",
    "integrate",
    "plot_roc",
    # convergence
    "check_convergence",
    "analyze_sequence",
    "limit",
    "stable_learning_rate",
    "SequenceReport",
    "LimitReport",
    "StabilityReport",
    # neural networks (chain rule -> backpropagation)
    "nn",
    # parsing
    "parse",
    # optimization (gradient descent, Newton, scipy bridge) and its plots
    "gradient_descent",
    "minimize",
    "DescentResult",
    "plot_loss_curve",
    "plot_contour",
    "plot_gradient_field",
]
