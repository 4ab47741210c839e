"""The SymPy nodes of block expressions: reductions to a scalar, and vector-valued maps.

Scalar-valued (ordinary SymPy scalar expressions with block arguments, so a loss stays one
scalar ``Expr``): :class:`Dot` (inner product), :class:`BlockSum` (sum of the entries),
:class:`Norm2` (squared Euclidean / Frobenius norm), :class:`LogSumExp`.
Vector-valued (SymPy matrix expressions): :class:`Elementwise` (a scalar function applied to
every entry) and :class:`Softmax`. Matrix products, sums and scalar multiples are SymPy's own
``MatMul`` / ``MatAdd``.

Each node knows its entries (``as_explicit()`` / :func:`explicit`), which is the reference
the block derivation is tested against; the compile path never expands blocks this way.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

__all__ = ["Dot", "BlockSum", "Norm2", "LogSumExp", "Elementwise", "Softmax", "explicit",
           "BLOCK_NODES", "latex_applied", "ENTRY"]

#: The bound variable of every elementwise function (one fixed symbol, so that the same
#: function built twice is the same expression: SymPy's Lambda equality is not invariant
#: under renaming Dummies).
ENTRY = sp.Symbol("_u", real=True)

_SLOT = "XSLOTX"


def latex_applied(function: sp.Lambda, arg_latex: str, printer: Any) -> str:
    """LaTeX of ``function`` applied to an argument already printed as ``arg_latex``."""
    var = function.variables[0]
    body = function.expr.xreplace({var: sp.Symbol(_SLOT)})
    text = printer._print(body)
    simple = arg_latex.replace(" ", "").isalnum()
    return text.replace(_SLOT, arg_latex if simple else rf"\left({arg_latex}\right)")


def _str_applied(function: sp.Lambda, arg: str) -> str:
    var = function.variables[0]
    body = function.expr
    if isinstance(body, sp.Function) and body.args == (var,):
        return f"{type(body).__name__}({arg})"
    return f"({var} -> {body})({arg})"


class _Reduction(sp.Expr):
    """A scalar computed from block arguments."""

    is_commutative = True
    _fname = ""
    _tex = ""

    def _sympystr(self, printer: Any) -> str:
        return f"{self._fname}({', '.join(printer._print(a) for a in self.args)})"

    def _latex(self, printer: Any) -> str:
        inner = ", ".join(printer._print(a) for a in self.args)
        return rf"{self._tex}\left({inner}\right)"

    def _eval_derivative(self, s: sp.Symbol) -> sp.Expr:
        # d/ds of a scalar parameter inside a block argument (rare: dot(b*w, x)): explicit
        return sp.diff(explicit(self), s)

    def _eval_is_real(self) -> bool | None:
        return None


class Dot(_Reduction):
    """``dot(a, b)``: the inner product of two vectors of equal length."""

    _fname = "dot"

    def _latex(self, printer: Any) -> str:
        a, b = (printer._print(x) for x in self.args)
        wrap = lambda t, e: t if isinstance(e, sp.MatrixSymbol) else rf"\left({t}\right)"  # noqa: E731
        return rf"{wrap(a, self.args[0])} \cdot {wrap(b, self.args[1])}"

    def _explicit(self) -> sp.Expr:
        a, b = (sp.Matrix(x.as_explicit()) for x in self.args)
        return sp.Add(*[p * q for p, q in zip(a, b)])


class BlockSum(_Reduction):
    """``sum(v)``: the sum of the entries of a vector or matrix."""

    _fname = "sum"
    _tex = r"\operatorname{sum}"

    def _explicit(self) -> sp.Expr:
        return sp.Add(*sp.Matrix(self.args[0].as_explicit()))


class Norm2(_Reduction):
    """``norm2(v)``: the squared Euclidean (Frobenius for a matrix) norm."""

    _fname = "norm2"

    def _latex(self, printer: Any) -> str:
        return rf"\left\lVert {printer._print(self.args[0])} \right\rVert^{{2}}"

    def _explicit(self) -> sp.Expr:
        return sp.Add(*[e**2 for e in sp.Matrix(self.args[0].as_explicit())])


class LogSumExp(_Reduction):
    """``logsumexp(z) = log(sum(exp(z)))`` of a vector (evaluated with the max subtracted)."""

    _fname = "logsumexp"
    _tex = r"\operatorname{logsumexp}"

    def _explicit(self) -> sp.Expr:
        return sp.log(sp.Add(*[sp.exp(e) for e in sp.Matrix(self.args[0].as_explicit())]))


class Elementwise(MatrixExpr):
    """A scalar function applied to every entry of a block: ``tanh(W x)``, ``exp(w)``.

    ``function`` is a one-argument ``Lambda``; the shape is the argument's.
    """

    def __new__(cls, function: sp.Lambda, arg: MatrixExpr) -> Elementwise:
        return MatrixExpr.__new__(cls, function, arg)

    @property
    def function(self) -> sp.Lambda:
        return self.args[0]

    @property
    def arg(self) -> MatrixExpr:
        return self.args[1]

    @property
    def shape(self) -> tuple[Any, Any]:
        return self.args[1].shape

    def _entry(self, i: Any, j: Any, **kwargs: Any) -> sp.Expr:
        return self.function(self.arg._entry(i, j, **kwargs))

    def doit(self, **hints: Any) -> Elementwise:
        return self

    def _sympystr(self, printer: Any) -> str:
        return _str_applied(self.function, printer._print(self.arg))

    def _latex(self, printer: Any) -> str:
        return latex_applied(self.function, printer._print(self.arg), printer)


class Softmax(MatrixExpr):
    """``softmax(z)``: the vector ``exp(z) / sum(exp(z))`` (evaluated with the max subtracted)."""

    def __new__(cls, arg: MatrixExpr) -> Softmax:
        return MatrixExpr.__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]

    @property
    def shape(self) -> tuple[Any, Any]:
        return self.args[0].shape

    def _entry(self, i: Any, j: Any, **kwargs: Any) -> sp.Expr:
        z = sp.Matrix(self.arg.as_explicit())
        k = int(i) if self.shape[1] == 1 else int(j)  # (the other index may be a dummy)
        return sp.exp(z[k]) / sp.Add(*[sp.exp(e) for e in z])

    def doit(self, **hints: Any) -> Softmax:
        return self

    def _sympystr(self, printer: Any) -> str:
        return f"softmax({printer._print(self.arg)})"

    def _latex(self, printer: Any) -> str:
        return rf"\operatorname{{softmax}}\left({printer._print(self.arg)}\right)"


BLOCK_NODES = (Dot, BlockSum, Norm2, LogSumExp, Elementwise, Softmax)


def explicit(e: sp.Basic) -> sp.Basic:
    """``e`` with every block written entry by entry (``w[0, 0]*x[0, 0] + ...``): the
    scalarized reference form (grows with the block sizes; for tests and small checks)."""
    if isinstance(e, _Reduction):
        return e._explicit()
    if isinstance(e, (sp.MatrixSymbol, MatrixElement)) and isinstance(
            getattr(e, "parent", e), sp.MatrixSymbol):
        return e  # a block, or one entry of a block: already explicit
    if isinstance(e, MatrixExpr):  # (entries may hold reductions: expand those too)
        return e.as_explicit().applyfunc(explicit)
    if not e.args:
        return e
    args = [explicit(a) for a in e.args]
    return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e
