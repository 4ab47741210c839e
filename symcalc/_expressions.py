"""Expressions from user input: a SymPy expression, a real number or a formula string.

Kept apart from :mod:`symcalc._validate` because strings go through the parser, which itself
validates its input there (one direction of imports: validation -> parsing -> this module).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import sympy as sp

from ._validate import describe
from .errors import SymcalcError
from .parsing import parse

__all__ = ["as_expr"]


def as_expr(value: Any, name: str = "expr", *, symbols: Any = None) -> sp.Expr:
    """A real SymPy expression from an expression, a real number or a formula string.

    Strings go through the safe parser :func:`symcalc.parse` (never ``eval``); ``symbols``
    binds names in the text to given Symbols.
    """
    if isinstance(value, str):
        return parse(value, symbols=symbols)
    if isinstance(value, sp.Basic):
        pass  # SymPy numbers register as numbers.Real: keep them exact
    elif isinstance(value, (numbers.Real, np.number)) and not isinstance(value, (bool, np.bool_)):
        if isinstance(value, np.complexfloating):
            raise SymcalcError(f"{name} must be real; got the complex number {value!r}")
        return sp.Float(value) if isinstance(value, (float, np.floating)) else sp.Integer(int(value))
    if isinstance(value, complex):
        raise SymcalcError(f"{name} must be real; got the complex number {value!r}")
    if not isinstance(value, sp.Expr) or isinstance(value, sp.MatrixBase):
        raise SymcalcError(
            f"{name} must be a SymPy expression, a number or a formula string; got "
            f"{describe(value)} of type {type(value).__name__}"
        )
    return value
