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
from .parsing import parse

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
    # parsing
    "parse",
]
