"""The public block functions: inner products, reductions and elementwise maps.

Every function accepts a block (a vector/matrix expression) and, where it makes sense, a
plain scalar expression too: ``sc.exp(z)`` is ``sympy.exp(z)`` for a scalar ``z`` and the
elementwise exponential for a vector. (``sc.sigmoid``, ``sc.softplus``, ``sc.relu``,
``sc.logsumexp`` and ``sc.softmax`` are the functions of :mod:`symcalc.functions`, which
dispatch on blocks the same way.)
"""

from __future__ import annotations

from typing import Any, Callable

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from ..errors import ShapeError, SymcalcError
from .nodes import ENTRY, BlockSum, Dot, Elementwise, Norm2
from .symbols import is_vector, shape_of, show_shape, vector_length

__all__ = ["dot", "elementwise", "sum", "norm2", "exp", "log", "tanh"]


def _block(v: Any) -> bool:
    return isinstance(v, MatrixExpr)


def dot(a: Any, b: Any) -> sp.Expr:
    """The inner product ``a . b`` of two vectors of equal length (a scalar).

    Raises
    ------
    ShapeError
        An argument is a scalar or a matrix, or the lengths differ.

    Examples
    --------
    >>> import symcalc as sc
    >>> w, x = sc.vector("w", 3), sc.vector("x", 3)
    >>> sc.dot(w, x)
    dot(w, x)
    """
    a, b = sp.sympify(a), sp.sympify(b)
    for this, other in ((a, b), (b, a)):
        if not is_vector(this):
            want = f"a vector of length {vector_length(other)}" if is_vector(other) else "a vector"
            kind = "a scalar" if shape_of(this) is None else "a matrix"
            raise ShapeError(f"dot({a}, {b}): {show_shape(this)} is {kind}; expected {want}")
    if vector_length(a) != vector_length(b):
        raise ShapeError(
            f"dot({a}, {b}): lengths differ; {show_shape(a)} expects a vector of length "
            f"{vector_length(a)}, got {show_shape(b)}"
        )
    return Dot(a, b)


def elementwise(f: Callable[[Any], Any] | sp.Lambda, v: Any) -> Any:
    """Apply a scalar function to every entry of a block: ``elementwise(sympy.tanh, W @ x)``.

    ``f`` is a SymPy function class (``sympy.tanh``), a one-argument ``Lambda``, or a Python
    callable building a SymPy expression from one symbol (``lambda u: u**2``). A scalar
    ``v`` gives ``f(v)``.

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> sc.elementwise(sp.tanh, sc.vector("v", 2)).shape
    (2, 1)
    """
    v = sp.sympify(v)
    if isinstance(f, sp.Lambda):
        if len(f.variables) != 1:
            raise SymcalcError(f"elementwise needs a function of one argument; got {f}")
        lam = f
    elif callable(f):
        d = ENTRY
        try:
            body = sp.sympify(f(d))
        except (TypeError, ValueError, AttributeError) as exc:
            raise SymcalcError(f"elementwise could not apply {f!r} to a scalar symbol: {exc}") from None
        if isinstance(body, MatrixExpr) or not isinstance(body, sp.Expr):
            raise SymcalcError(f"elementwise needs a scalar function; {f!r} returned {body!r}")
        lam = sp.Lambda(d, body)
    else:
        raise SymcalcError(f"elementwise needs a function (e.g. sympy.tanh); got {f!r}")
    if not _block(v):
        return lam(v)
    return Elementwise(lam, v)


def _unary(name: str, scalar: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def fn(v: Any) -> Any:
        v = sp.sympify(v)
        return elementwise(scalar, v) if _block(v) else scalar(v)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"``{name}`` of a scalar, or of every entry of a vector/matrix (elementwise).\n\n"
        f"Examples\n--------\n>>> import symcalc as sc\n>>> sc.{name}(sc.vector('v', 2)).shape\n(2, 1)\n"
    )
    return fn


exp = _unary("exp", sp.exp)
log = _unary("log", sp.log)
tanh = _unary("tanh", sp.tanh)


def sum(v: Any) -> sp.Expr:  # noqa: A001 - the public name sc.sum
    """The sum of the entries of a vector or matrix (a scalar).

    Examples
    --------
    >>> import symcalc as sc
    >>> sc.sum(sc.vector("v", 3))
    sum(v)
    """
    return _reduction("sum", BlockSum, v)


def norm2(v: Any) -> sp.Expr:
    """The squared Euclidean norm ``sum(v**2)`` of a vector (Frobenius for a matrix).

    Examples
    --------
    >>> import symcalc as sc
    >>> sc.norm2(sc.vector("w", 3))
    norm2(w)
    """
    return _reduction("norm2", Norm2, v)


def _reduction(name: str, node: type, v: Any) -> sp.Expr:
    v = sp.sympify(v)
    if not _block(v):
        raise ShapeError(f"{name}({v}): {show_shape(v)} is a scalar; expected a vector or matrix")
    return node(v)

