"""symcalc: exact and fast calculus for machine learning.

Write a loss as a SymPy expression; symcalc derives its partial derivatives exactly, shows
them readably, compiles them into fast NumPy functions and uses them to optimize, check
convergence, integrate and train small neural networks.

>>> import sympy as sp, symcalc as sc
>>> w, x, y = sp.symbols("w x y")
>>> loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
>>> loss.gradient()
Matrix([[2*x*(w*x - y)]])

Public names are loaded on first use (PEP 562): ``import symcalc`` itself imports only the
error classes, so ``symcalc --version`` answers without importing SymPy, and SciPy's
submodules, matplotlib, numba, SymEngine and Dask load only where they are first needed.
To add a public name, add it to ``_EXPORTS`` (name -> submodule), not as an import line.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

from ._version import __version__

from .errors import (
    DataError,
    LabelTypeError,
    MissingDependencyError,
    NonFiniteError,
    ParseError,
    ShapeError,
    SymbolError,
    SymbolicTimeout,
    SymcalcError,
    UndefinedMetricWarning,
    UnsupportedOptionError,
)

#: Public name -> the submodule defining it (a name mapped to itself is a subpackage).
_EXPORTS: dict[str, str] = {
    "sigmoid": "functions",
    "softplus": "functions",
    "log_sigmoid": "functions",
    "relu": "functions",
    "logsumexp": "functions",
    "softmax": "functions",
    "vector": "blocks.symbols",
    "matrix": "blocks.symbols",
    "dot": "blocks.api",
    "elementwise": "blocks.api",
    "sum": "blocks.api",
    "norm2": "blocks.api",
    "exp": "blocks.api",
    "log": "blocks.api",
    "tanh": "blocks.api",
    "columns": "blocks.columns",
    "Loss": "loss",
    "CompiledLoss": "codegen",
    "PreparedData": "codegen",
    "CompileTime": "_compile_time",
    "Optimizer": "optimizers",
    "GradientDescent": "optimizers",
    "Momentum": "optimizers",
    "Nesterov": "optimizers",
    "Adam": "optimizers",
    "explain": "explain",
    "Derivation": "explain",
    "datasets": "datasets",
    "roc_curve": "metrics",
    "auc": "metrics",
    "roc_auc_score": "metrics",
    "roc_auc_ci": "metrics",
    "roc_auc_compare": "metrics",
    "AUCInterval": "metrics",
    "MulticlassAUCInterval": "metrics",
    "AUCComparison": "metrics",
    "integrate": "metrics",
    "plot_roc": "plotting",
    "check_convergence": "convergence",
    "analyze_sequence": "convergence",
    "limit": "convergence",
    "stable_learning_rate": "convergence",
    "SequenceReport": "convergence",
    "LimitReport": "convergence",
    "StabilityReport": "convergence",
    "nn": "nn",
    "parse": "parsing",
    "gradient_descent": "optimize",
    "minimize": "optimize",
    "DescentResult": "optimize",
    "plot_loss_curve": "plotting",
    "plot_contour": "plotting",
    "plot_gradient_field": "plotting",
    "export": "export",
    "sklearn": "sklearn",  # not in __all__: it needs scikit-learn (the `sklearn` extra)
}

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
    "LabelTypeError",
    "UnsupportedOptionError",
    "UndefinedMetricWarning",
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
    "CompileTime",
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
    "roc_auc_compare",
    "AUCInterval",
    "MulticlassAUCInterval",
    "AUCComparison",
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
    # exports to JAX, PyTorch and C (also Loss.to_jax/to_torch/to_c)
    "export",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its submodule on first access (then it is a plain global)."""
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'symcalc' has no attribute {name!r}")
    module = importlib.import_module(f".{where}", __name__)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


#: Public names that are modules themselves.
_MODULES = frozenset({"datasets", "nn", "export", "sklearn"})
#: Public functions named like the submodule that defines them (``symcalc.explain`` is the
#: function, as with an eager ``from .explain import explain``).
_SHADOWED = frozenset(n for n, m in _EXPORTS.items() if n == m) - _MODULES


class _Package(types.ModuleType):
    """The package module: importing a submodule never hides a public function of its name.

    Python sets ``symcalc.<child>`` to each submodule it loads; an eager ``__init__`` then
    overwrote ``symcalc.explain`` with the function. Loaded lazily, the function must win
    whenever the submodule happens to be imported first.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # resolved to the function by __getattr__ on first access
        super().__setattr__(name, value)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _Package
del _sys

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import datasets, export, nn
    from ._compile_time import CompileTime
    from .codegen import CompiledLoss, PreparedData
    from .convergence import (
        LimitReport,
        SequenceReport,
        StabilityReport,
        analyze_sequence,
        check_convergence,
        limit,
        stable_learning_rate,
    )
    from .explain import Derivation, explain
    from .blocks.api import dot, elementwise, exp, log, norm2, sum, tanh
    from .blocks.columns import columns
    from .blocks.symbols import matrix, vector
    from .functions import log_sigmoid, logsumexp, relu, sigmoid, softmax, softplus
    from .loss import Loss
    from .metrics import (
        AUCComparison,
        AUCInterval,
        MulticlassAUCInterval,
        auc,
        integrate,
        roc_auc_ci,
        roc_auc_compare,
        roc_auc_score,
        roc_curve,
    )
    from .optimize import DescentResult, gradient_descent
    from .optimize.minimize import minimize  # the function, not the submodule of its name
    from .optimizers import Adam, GradientDescent, Momentum, Nesterov, Optimizer
    from .parsing import parse
    from .plotting import plot_contour, plot_gradient_field, plot_loss_curve, plot_roc
