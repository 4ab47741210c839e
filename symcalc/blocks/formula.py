"""Blocks in formula text: what the safe parser needs to build block expressions.

The parser (:mod:`symcalc.parsing`) binds names the caller declares as blocks
(``parse(text, symbols={"w": sc.vector("w", 30), ...})``) and then calls these helpers, so
``dot(w, x)``, ``W*x``, ``norm2(w)``, ``logsumexp(z)``, ``softmax(z)`` and
elementwise functions of blocks (``exp(v)``, ``tanh(W*x)``, ``v^2``) mean in text what they
mean in Python. Shapes are checked as the formula is built (:class:`ShapeError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ShapeError
from ..functions import softmax
from .api import dot, elementwise, norm2
from .symbols import checked_product, checked_sum

__all__ = ["BLOCK_FUNCTIONS", "elementwise_ok", "has_block", "combine", "block_power"]


def has_block(values: Any) -> bool:
    """Whether any of ``values`` is a vector/matrix expression."""
    return any(isinstance(v, MatrixExpr) for v in values)


def elementwise_ok(builder: Callable[..., sp.Expr]) -> Callable[..., sp.Expr]:
    """``builder`` of one scalar argument, applied entry by entry to a block argument."""

    def build(*args: Any) -> Any:
        if len(args) == 1 and isinstance(args[0], MatrixExpr):
            return elementwise(builder, args[0])
        return builder(*args)

    build.__name__ = getattr(builder, "__name__", "function")
    return build


def _softmax(z: Any) -> Any:
    if not isinstance(z, MatrixExpr):
        raise ShapeError(f"softmax({z}): {z} is a scalar; expected a vector (or several logits "
                         "through logsumexp)")
    return softmax(z)


#: name -> (min args, max args, builder) of the block functions formulas may call. (``sum``
#: stays out: in text it reads as Python's builtin, which formulas refuse by name.)
BLOCK_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "dot": (2, 2, dot),
    "norm2": (1, 1, norm2),
    "softmax": (1, 1, _softmax),
}


def combine(terms: list[Any], additive: bool) -> Any:
    """A sum or product of terms among which are blocks (shapes checked)."""
    return checked_sum(terms) if additive else checked_product(terms)


def block_power(base: Any, exponent: Any) -> Any:
    """``v^k`` of a block: the power of every entry (formulas have no matrix power)."""
    if isinstance(exponent, MatrixExpr):
        raise ShapeError(f"{base}^{exponent}: the exponent must be a scalar")
    return elementwise(lambda u: u**exponent, base)
