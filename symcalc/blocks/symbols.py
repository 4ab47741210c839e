"""Vector and matrix symbols whose arithmetic checks shapes with symcalc's own errors.

:func:`vector` and :func:`matrix` return :class:`BlockSymbol` objects: SymPy
``MatrixSymbol``s (so every SymPy matrix-expression tool accepts them) whose ``@``, ``*``,
``+`` and ``-`` check the shapes first and raise :class:`~symcalc.errors.ShapeError` naming
the blocks, the expected and the given shape (SymPy's own error names neither). Their
``_op_priority`` is above SymPy's matrix expressions, so ``(W @ x) + b`` is checked by ``b``.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from .._validate import check_int, describe
from ..errors import ShapeError, SymbolError

__all__ = ["BlockSymbol", "vector", "matrix", "is_vector", "shape_of", "show_shape", "vector_length",
           "checked_sum", "checked_product"]


def shape_of(e: Any) -> tuple[int, int] | None:
    """``(rows, cols)`` of a matrix expression, None for a scalar."""
    if isinstance(e, (MatrixExpr, sp.MatrixBase)):
        return (int(e.shape[0]), int(e.shape[1]))
    return None


def show_shape(e: Any) -> str:
    """``"x (30 x 1)"`` or ``"b (scalar)"`` for messages."""
    shape = shape_of(e)
    return f"{e} (scalar)" if shape is None else f"{e} ({shape[0]} x {shape[1]})"


def is_vector(e: Any) -> bool:
    """Whether ``e`` is an ``n x 1`` or ``1 x n`` matrix expression."""
    shape = shape_of(e)
    return shape is not None and 1 in shape


def vector_length(e: Any) -> int:
    shape = shape_of(e)
    assert shape is not None
    return shape[0] * shape[1]


def _check_matmul(a: Any, b: Any, op: str) -> None:
    sa, sb = shape_of(a), shape_of(b)
    if sa is None or sb is None:
        if op == "@":
            scalar = a if sa is None else b
            raise ShapeError(
                f"{a} @ {b}: {show_shape(scalar)} is not a matrix; use * to scale a block by a scalar"
            )
        return  # scalar * block: always fine
    if sa[1] != sb[0]:
        raise ShapeError(
            f"{a} {op} {b}: {show_shape(a)} needs a right operand with {sa[1]} rows; got "
            f"{show_shape(b)}" + (" (for an inner product use sc.dot)" if sa[1] == 1 and sa == sb else "")
        )


def _check_add(a: Any, b: Any, op: str) -> None:
    sa, sb = shape_of(a), shape_of(b)
    if sa is None or sb is None:
        raise ShapeError(
            f"{a} {op} {b}: cannot add a scalar and a block; {show_shape(a)}, {show_shape(b)} "
            "(multiply a vector of ones, or add to each entry with sc.elementwise)"
        )
    if sa != sb:
        raise ShapeError(
            f"{a} {op} {b}: shapes differ; {show_shape(a)} expects a {sa[0]} x {sa[1]} operand, got "
            f"{show_shape(b)}"
        )


def checked_sum(terms: list[Any]) -> Any:
    """``terms[0] + terms[1] + ...`` with blocks among them: equal shapes required (a
    :class:`ShapeError` naming the operands otherwise; SymPy would silently add a scalar)."""
    out = terms[0]
    for t in terms[1:]:
        _check_add(out, t, "+")
        out = sp.MatAdd(out, t).doit() if shape_of(out) else out + t
    return out


def checked_product(factors: list[Any]) -> Any:
    """``factors[0] * factors[1] * ...`` with blocks among them: a matrix product (scalars
    scale), each step's shapes checked with a :class:`ShapeError` naming the operands."""
    out = factors[0]
    for f in factors[1:]:
        _check_matmul(out, f, "*")
        out = sp.MatMul(out, f).doit() if (shape_of(out) or shape_of(f)) else out * f
    return out


class BlockSymbol(sp.MatrixSymbol):
    """A ``MatrixSymbol`` whose products and sums check shapes with symcalc's errors."""

    _op_priority = 12.0

    def __matmul__(self, other: Any) -> Any:
        _check_matmul(self, sp.sympify(other), "@")
        return super().__matmul__(other)

    def __rmatmul__(self, other: Any) -> Any:
        _check_matmul(sp.sympify(other), self, "@")
        return super().__rmatmul__(other)

    def __mul__(self, other: Any) -> Any:
        _check_matmul(self, sp.sympify(other), "*")
        return super().__mul__(other)

    def __rmul__(self, other: Any) -> Any:
        _check_matmul(sp.sympify(other), self, "*")
        return super().__rmul__(other)

    def __add__(self, other: Any) -> Any:
        _check_add(self, sp.sympify(other), "+")
        return super().__add__(other)

    def __radd__(self, other: Any) -> Any:
        _check_add(sp.sympify(other), self, "+")
        return super().__radd__(other)

    def __sub__(self, other: Any) -> Any:
        _check_add(self, sp.sympify(other), "-")
        return super().__sub__(other)

    def __rsub__(self, other: Any) -> Any:
        _check_add(sp.sympify(other), self, "-")
        return super().__rsub__(other)


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip().isidentifier() or name.startswith("_"):
        raise SymbolError(f"a block name must be an identifier like 'w' or 'W1'; got {describe(name)}")
    return name.strip()


def vector(name: str, n: int) -> BlockSymbol:
    """A column vector symbol of length ``n`` (a SymPy ``MatrixSymbol`` of shape ``n x 1``).

    It can be a parameter (``theta[w]`` an array of shape ``(n,)``) or data (fed by an array
    of shape ``(N, n)``: one row per sample).

    Examples
    --------
    >>> import symcalc as sc
    >>> w = sc.vector("w", 3)
    >>> w.shape
    (3, 1)
    """
    return BlockSymbol(_name(name), check_int(n, "n", minimum=1), 1)


def matrix(name: str, m: int, n: int) -> BlockSymbol:
    """An ``m x n`` matrix symbol (a SymPy ``MatrixSymbol``); ``W @ x`` is a vector of length m.

    Examples
    --------
    >>> import symcalc as sc
    >>> W, x = sc.matrix("W", 2, 3), sc.vector("x", 3)
    >>> (W @ x).shape
    (2, 1)
    """
    return BlockSymbol(_name(name), check_int(m, "m", minimum=1), check_int(n, "n", minimum=1))
