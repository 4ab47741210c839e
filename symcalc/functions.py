"""Machine-learning functions as SymPy functions that stay folded.

``sigmoid``, ``softplus``, ``log_sigmoid``, ``relu``, ``logsumexp`` and the entries of
``softmax`` are ordinary SymPy :class:`~sympy.core.function.Function` classes: they keep their
name in derivatives and displays (``sigmoid(z)`` rather than ``1/(1 + exp(-z))``), carry exact
derivative rules in the form a textbook prints them::

    sigmoid'(u)   = sigmoid(u)*(1 - sigmoid(u))
    softplus'(u)  = sigmoid(u)
    log_sigmoid'(u) = 1 - sigmoid(u)
    relu'(u)      = Heaviside(u, 0)            (0 at the kink, as in PyTorch and Keras)
    d logsumexp(z_1, ..., z_K) / d z_k = softmax(z)_k
    d softmax(z)_i / d z_k = softmax(z)_i * (delta_ik - softmax(z)_k)

evaluate to any precision (``evalf``), print as LaTeX (``\\sigma(z)``,
``\\operatorname{softplus}(z)``) and expand on request with ``rewrite(sympy.exp)``. The compile
path evaluates them with overflow-free NumPy/numba code (``expit``, ``logaddexp``, the
max-subtracted log-sum-exp), and the formula parser maps the names ``sigmoid``, ``softplus``,
``log_sigmoid``, ``relu`` and ``logsumexp`` to them.

Examples
--------
>>> import sympy as sp
>>> z = sp.Symbol("z")
>>> sp.diff(softplus(z), z)
sigmoid(z)
>>> sp.diff(sigmoid(z), z)
(1 - sigmoid(z))*sigmoid(z)
>>> sigmoid(z).rewrite(sp.exp)
1/(1 + exp(-z))
>>> sigmoid(2).evalf(8)
0.88079708
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.function import ArgumentIndexError
from sympy.core.logic import fuzzy_and
from mpmath.libmp import prec_to_dps
from sympy.matrices.expressions.matexpr import MatrixExpr

from .blocks.nodes import ENTRY, Elementwise, LogSumExp, Softmax
from .errors import ShapeError

from .errors import SymcalcError

__all__ = [
    "sigmoid",
    "softplus",
    "log_sigmoid",
    "relu",
    "logsumexp",
    "SoftmaxEntry",
    "softmax",
    "ML_FUNCTIONS",
]


def _no_text(name: str, args: tuple) -> None:
    if any(isinstance(a, (str, bytes)) for a in args):
        raise SymcalcError(
            f"{name} takes SymPy expressions or numbers, not text (SymPy would evaluate it); "
            "parse formula text with symcalc.parse first"
        )


class _MLFunction(sp.Function):
    """Shared behaviour: real for real arguments, numeric evaluation through ``rewrite(exp)``;
    applied to a vector/matrix block, elementwise (``logsumexp``: a reduction)."""

    def __new__(cls, *args: Any, **options: Any) -> Any:
        # SymPy would parse (eval) a string argument: text goes through symcalc.parse only
        _no_text(cls.__name__, args)
        if len(args) == 1 and isinstance(args[0], MatrixExpr):
            return _on_block(cls, args[0])
        return super().__new__(cls, *args, **options)

    def _eval_is_extended_real(self) -> bool | None:
        return fuzzy_and(a.is_extended_real for a in self.args)

    def _eval_is_finite(self) -> bool | None:
        return fuzzy_and(a.is_finite for a in self.args)

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        # mpmath carries arbitrary exponents, so the expanded form is exact here: exp(1e4)
        # does not overflow at working precision.
        expanded = self.rewrite(sp.exp)
        if expanded == self:  # pragma: no cover - every subclass defines rewrite(exp)
            return None
        return expanded._eval_evalf(prec)

    def _latex_call(self, printer: Any, name: str) -> str:
        inner = ", ".join(printer._print(a) for a in self.args)
        return rf"{name}\left({inner}\right)"


def _on_block(cls: type, v: MatrixExpr) -> sp.Basic:
    """``cls`` applied to a block: elementwise, or the block reduction for ``logsumexp``."""
    if cls.__name__ == "logsumexp":
        if 1 not in v.shape:
            raise ShapeError(f"logsumexp({v}): {v} ({v.shape[0]} x {v.shape[1]}) is a matrix; "
                             "expected a vector")
        return LogSumExp(v)
    return Elementwise(sp.Lambda(ENTRY, cls(ENTRY)), v)


def _float_arg(u: sp.Expr) -> bool:
    return bool(u.is_Float)


class sigmoid(_MLFunction):  # noqa: N801 - lower case like sympy.exp
    r"""The logistic sigmoid :math:`\sigma(u) = 1/(1 + e^{-u})`.

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> sigmoid(0), sp.diff(sigmoid(u), u)
    (1/2, (1 - sigmoid(u))*sigmoid(u))
    """

    nargs = 1

    @classmethod
    def eval(cls, u: sp.Expr) -> sp.Expr | None:
        if u.is_zero:
            return sp.S.Half
        if u is sp.S.Infinity:
            return sp.S.One
        if u is sp.S.NegativeInfinity:
            return sp.S.Zero
        if _float_arg(u):
            return (1 / (1 + sp.exp(-u))).evalf(prec_to_dps(u._prec))
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return 1 / (1 + sp.exp(-u))

    def _eval_rewrite_as_tanh(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return (1 + sp.tanh(u / 2)) / 2

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex(self, printer: Any) -> str:
        return self._latex_call(printer, r"\sigma")


class softplus(_MLFunction):  # noqa: N801
    r"""The softplus :math:`\log(1 + e^{u})`, a smooth ReLU; its derivative is :func:`sigmoid`.

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> softplus(0), sp.diff(softplus(2*u), u)
    (log(2), 2*sigmoid(2*u))
    """

    nargs = 1

    @classmethod
    def eval(cls, u: sp.Expr) -> sp.Expr | None:
        if u.is_zero:
            return sp.log(2)
        if u is sp.S.Infinity:
            return sp.S.Infinity
        if u is sp.S.NegativeInfinity:
            return sp.S.Zero
        if _float_arg(u):
            return sp.log(1 + sp.exp(u)).evalf(prec_to_dps(u._prec))
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 + sp.exp(u))

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex(self, printer: Any) -> str:
        return self._latex_call(printer, r"\operatorname{softplus}")


class log_sigmoid(_MLFunction):  # noqa: N801
    r""":math:`\log \sigma(u) = -\operatorname{softplus}(-u)`; its derivative is :math:`1 - \sigma(u)`.

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> sp.diff(log_sigmoid(u), u)
    1 - sigmoid(u)
    """

    nargs = 1

    @classmethod
    def eval(cls, u: sp.Expr) -> sp.Expr | None:
        if u.is_zero:
            return -sp.log(2)
        if u is sp.S.Infinity:
            return sp.S.Zero
        if u is sp.S.NegativeInfinity:
            return sp.S.NegativeInfinity
        if _float_arg(u):
            return (-sp.log(1 + sp.exp(-u))).evalf(prec_to_dps(u._prec))
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return 1 - sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return -sp.log(1 + sp.exp(-u))

    def _eval_rewrite_as_softplus(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return -softplus(-u)

    def _eval_is_negative(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex(self, printer: Any) -> str:
        return self._latex_call(printer, r"\log\sigma")


class relu(_MLFunction):  # noqa: N801
    r"""The rectifier :math:`\max(0, u)`; its derivative is ``Heaviside(u, 0)`` (0 at the kink).

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> relu(-2), relu(3), sp.diff(relu(u), u)
    (0, 3, Heaviside(u, 0))
    """

    nargs = 1

    @classmethod
    def eval(cls, u: sp.Expr) -> sp.Expr | None:
        if u.is_number and u.is_extended_real:
            return sp.Max(0, u)
        if u.is_extended_nonnegative:
            return u
        if u.is_extended_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise ArgumentIndexError(self, argindex)
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Max(0, u)

    def _eval_rewrite_as_Piecewise(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Piecewise((u, u > 0), (0, True))

    def _eval_rewrite_as_exp(self, u: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Max(0, u)  # nothing to expand: evalf goes through Max

    def _eval_is_nonnegative(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex(self, printer: Any) -> str:
        return self._latex_call(printer, r"\operatorname{ReLU}")


class logsumexp(_MLFunction):  # noqa: N801
    r""":math:`\log \sum_k e^{z_k}` of its arguments; its partials are the softmax entries.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> sp.diff(logsumexp(a, b), a)
    softmax(a, b)[0]
    >>> logsumexp(a)
    a
    """

    @classmethod
    def eval(cls, *args: sp.Expr) -> sp.Expr | None:
        if not args:
            raise TypeError("logsumexp needs at least one argument")
        if len(args) == 1:
            return args[0]
        if all(a.is_Float or a.is_Integer or a.is_Rational for a in args) and any(
            a.is_Float for a in args
        ):
            dps = max(prec_to_dps(a._prec) for a in args if a.is_Float)
            return sp.log(sp.Add(*[sp.exp(a) for a in args])).evalf(dps)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if not 1 <= argindex <= len(self.args):
            raise ArgumentIndexError(self, argindex)
        return SoftmaxEntry(argindex - 1, *self.args)

    def _eval_rewrite_as_exp(self, *args: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(sp.Add(*[sp.exp(a) for a in args]))

    def _latex(self, printer: Any) -> str:
        return self._latex_call(printer, r"\operatorname{logsumexp}")


class SoftmaxEntry(_MLFunction):
    r"""Entry ``i`` of :math:`\operatorname{softmax}(z_1, \dots, z_K)`: :math:`e^{z_i}/\sum_k e^{z_k}`.

    The arguments are ``(i, z_1, ..., z_K)`` with ``i`` a 0-based integer index. Printed as
    ``softmax(z_1, ..., z_K)[i]``. Build all entries at once with :func:`softmax`.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> s0 = SoftmaxEntry(0, a, b)
    >>> sp.diff(s0, a)
    (1 - softmax(a, b)[0])*softmax(a, b)[0]
    >>> sp.diff(s0, b)
    -softmax(a, b)[0]*softmax(a, b)[1]
    """

    @classmethod
    def eval(cls, i: sp.Expr, *zs: sp.Expr) -> sp.Expr | None:
        if not zs:
            raise TypeError("SoftmaxEntry needs an index and at least one argument")
        if not (i.is_Integer and 0 <= int(i) < len(zs)):
            raise TypeError(f"SoftmaxEntry index must be an integer in [0, {len(zs)}); got {i}")
        if len(zs) == 1:
            return sp.S.One
        return None

    @property
    def index(self) -> int:
        return int(self.args[0])

    @property
    def logits(self) -> tuple[sp.Expr, ...]:
        return self.args[1:]

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        k = argindex - 2  # argument 1 is the index
        if not 0 <= k < len(self.logits):
            raise ArgumentIndexError(self, argindex)
        if k == self.index:
            return self * (1 - self)
        return -self * SoftmaxEntry(k, *self.logits)

    def _eval_rewrite_as_exp(self, i: sp.Expr, *zs: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.exp(zs[int(i)]) / sp.Add(*[sp.exp(z) for z in zs])

    def _eval_is_positive(self) -> bool | None:
        return fuzzy_and(z.is_extended_real for z in self.logits)

    def _sympystr(self, printer: Any) -> str:
        inner = ", ".join(printer._print(z) for z in self.logits)
        return f"softmax({inner})[{self.index}]"

    def _latex(self, printer: Any) -> str:
        inner = ", ".join(printer._print(z) for z in self.logits)
        return rf"\operatorname{{softmax}}\left({inner}\right)_{{{self.index}}}"


def softmax(*logits: Any) -> sp.Matrix:
    """All entries of the softmax of scalar logits, as a column ``Matrix`` of :class:`SoftmaxEntry`.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> softmax(a, b)
    Matrix([
    [softmax(a, b)[0]],
    [softmax(a, b)[1]]])
    """
    if not logits:
        raise TypeError("softmax needs at least one logit")
    _no_text("softmax", logits)
    if len(logits) == 1 and isinstance(logits[0], MatrixExpr):  # a vector: the vector softmax
        v = logits[0]
        if 1 not in v.shape:
            raise ShapeError(f"softmax({v}): {v} ({v.shape[0]} x {v.shape[1]}) is a matrix; "
                             "expected a vector")
        return Softmax(v)
    zs = [sp.sympify(z, strict=True) for z in logits]
    return sp.Matrix([SoftmaxEntry(i, *zs) for i in range(len(zs))])


#: The function classes of this module, by name (what the parser and the printers recognise).
ML_FUNCTIONS: dict[str, type[sp.Function]] = {
    "sigmoid": sigmoid,
    "softplus": softplus,
    "log_sigmoid": log_sigmoid,
    "relu": relu,
    "logsumexp": logsumexp,
    "SoftmaxEntry": SoftmaxEntry,
}
