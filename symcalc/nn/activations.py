"""Activation functions as SymPy expressions in one symbol, compiled with their derivatives.

Every activation is a SymPy expression ``sigma(z)``; its derivative ``sigma'(z)`` is derived
by :func:`sympy.diff` (never written by hand), and the pair is compiled together through the
one compile path, :func:`symcalc.codegen.compile_elementwise`, so that e.g. ``tanh(z)`` is
evaluated once for both. Users may pass any SymPy expression in exactly one free symbol.

>>> import sympy as sp
>>> act = get_activation("tanh")
>>> act.derivative
1 - tanh(z)**2
>>> a, da = act.value_and_derivative([0.0])
>>> float(a[0]), float(da[0])
(0.0, 1.0)
"""

from __future__ import annotations

import functools
from typing import Any, Union

import numpy as np
import sympy as sp

from .._validate import describe
from ..errors import SymbolError, SymcalcError
from ..functions import relu, sigmoid, softplus
from ._kernels import _compiled, _unchecked
from .rowwise import ROW_ACTIVATIONS, RowActivation

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "Z"]

#: The symbol every built-in activation is written in (real, so ``|z|`` differentiates to sign).
Z = sp.Symbol("z", real=True)

_SIGMOID = sigmoid(Z)

#: Built-in activations by name (Keras names), written with the folded SymPy functions of
#: :mod:`symcalc.functions` so derivatives read as in a textbook. ``elu`` uses ``alpha = 1``.
ACTIVATIONS: dict[str, sp.Expr] = {
    "linear": Z,
    "relu": relu(Z),
    "tanh": sp.tanh(Z),
    "sigmoid": _SIGMOID,
    "softplus": softplus(Z),
    "elu": sp.Piecewise((Z, Z > 0), (sp.exp(Z) - 1, True)),
    "swish": Z * _SIGMOID,
}

ActivationLike = Union[str, sp.Expr, "Activation", RowActivation, None]


def _for_evaluation(expr: sp.Expr) -> sp.Expr:
    """The same function in a form the compile path evaluates fast: ``Heaviside(u, 0)``
    becomes ``Max(0, sign(u))`` (equal for every real u, NaN for NaN), which compiles to two
    ufunc passes where the Heaviside printer emits ``numpy.select`` (about 5x slower on
    ReLU's hidden layers). Display and saving keep the Heaviside form."""
    return expr.replace(
        lambda e: isinstance(e, sp.Heaviside) and len(e.args) == 2 and e.args[1] == 0,
        lambda e: sp.Max(0, sp.sign(e.args[0])),
    )


def _heaviside_zero_at_zero(expr: sp.Expr) -> sp.Expr:
    """Give every ``Heaviside(u)`` the explicit value ``H(0) = 0`` (the subgradient Keras and
    PyTorch use for relu at the kink)."""
    return expr.replace(
        lambda e: isinstance(e, sp.Heaviside) and (len(e.args) == 1 or e.args[1] == sp.S.Half),
        lambda e: sp.Heaviside(e.args[0], 0),
    )


class Activation:
    """An elementwise activation ``sigma(z)`` with its symbolic derivative ``sigma'(z)``.

    Parameters
    ----------
    expr : sympy.Expr
        An expression in exactly one free symbol.
    name : str, optional
        Shown in summaries; defaults to the expression's text.

    Attributes
    ----------
    expr, derivative : sympy.Expr
        ``sigma`` and ``d sigma / d symbol`` (``Heaviside`` is taken with ``H(0) = 0``).
    symbol : sympy.Symbol
        The free symbol (replaced by a real symbol of the same name).
    is_identity : bool
        True for ``sigma(z) = z``; the network then skips the activation entirely.

    Examples
    --------
    >>> import sympy as sp
    >>> t = sp.Symbol("t")
    >>> Activation(t * sp.tanh(sp.log(1 + sp.exp(t)))).derivative  # doctest: +ELLIPSIS
    t*(1 - tanh(log(exp(t) + 1))**2)*exp(t)/(exp(t) + 1) + tanh(log(exp(t) + 1))
    """

    def __init__(self, expr: sp.Expr, name: str | None = None) -> None:
        if not isinstance(expr, sp.Basic):
            raise SymcalcError(f"activation must be a SymPy expression; got {describe(expr)}")
        expr = sp.sympify(expr)
        free = sorted(expr.free_symbols, key=str)
        if len(free) != 1:
            found = ", ".join(map(str, free)) if free else "none"
            raise SymbolError(
                f"activation expression {expr} must have exactly one free symbol (the "
                f"pre-activation z); found {len(free)}: {found}"
            )
        old = free[0]
        sym = old if old.is_real else sp.Symbol(old.name, real=True)
        self.symbol: sp.Symbol = sym
        self.expr: sp.Expr = expr.xreplace({old: sym})
        derivative = _heaviside_zero_at_zero(sp.diff(self.expr, sym))
        if derivative.has(sp.Derivative, sp.Subs):
            raise SymbolError(
                f"activation {expr} could not be differentiated symbolically (got {derivative}); "
                "use SymPy functions with known derivatives"
            )
        self.derivative: sp.Expr = derivative
        self._derivative_eval = _for_evaluation(derivative)
        self.name: str = name if name is not None else str(expr)
        self.is_identity: bool = self.expr == sym
        self.rowwise = False
        self._is_sigmoid: bool | None = None
        self._both = self._value = self._fast_both = self._fast_value = None

    def value_and_derivative(self, z: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(sigma(z), sigma'(z))`` elementwise, from one compiled function."""
        if self._both is None:
            self._both = _compiled((self.expr, self._derivative_eval), (self.symbol,))
        return self._both(z)

    def __call__(self, z: Any) -> np.ndarray:
        """``sigma(z)`` elementwise (the forward pass of prediction)."""
        if self._value is None:
            self._value = _compiled((self.expr,), (self.symbol,))
        return self._value(z)[0]

    def _kernels(self) -> tuple[Any, Any]:
        """Unchecked ``(sigma, sigma')`` and ``sigma`` kernels for the layers' hot loop."""
        if self._fast_both is None:
            self._fast_both = _unchecked(_compiled((self.expr, self._derivative_eval),
                                                   (self.symbol,)))
            self._fast_value = _unchecked(_compiled((self.expr,), (self.symbol,)))
        return self._fast_both, self._fast_value

    def is_softmax(self) -> bool:
        """False: softmax is row-wise (:class:`~symcalc.nn.rowwise.RowActivation`)."""
        return False

    def is_sigmoid(self) -> bool:
        """Whether this is the logistic sigmoid (enables the stable cross-entropy form)."""
        if self._is_sigmoid is None:
            expr = self.expr.xreplace({self.symbol: Z})
            # other spellings, e.g. exp(z)/(1 + exp(z)); only small expressions are simplified
            self._is_sigmoid = expr == _SIGMOID or (sp.count_ops(expr) <= 20 and sp.simplify(
                (expr - _SIGMOID).rewrite(sp.exp)) == 0)
        return bool(self._is_sigmoid)

    def latex(self) -> tuple[str, str]:
        """LaTeX of ``sigma(z)`` and ``sigma'(z)`` (written in the symbol ``z``)."""
        sub = {self.symbol: sp.Symbol("z")}
        return sp.latex(self.expr.xreplace(sub)), sp.latex(self.derivative.xreplace(sub))

    def __repr__(self) -> str:
        return f"Activation({self.name!r}: {self.expr}, derivative {self.derivative})"


@functools.lru_cache(maxsize=None)
def _builtin(name: str) -> Activation:
    return Activation(ACTIVATIONS[name], name=name)


def _names() -> str:
    return ", ".join(map(repr, [*ACTIVATIONS, *ROW_ACTIVATIONS]))


def get_activation(spec: ActivationLike) -> Activation | RowActivation:
    """An :class:`Activation` from a name, a SymPy expression, an Activation or None (linear);
    ``"softmax"`` gives the row-wise :class:`~symcalc.nn.rowwise.RowActivation`.

    Raises
    ------
    SymcalcError
        For an unknown name (the allowed names are listed).
    SymbolError
        For an expression whose number of free symbols is not one.
    """
    if spec is None:
        return _builtin("linear")
    if isinstance(spec, (Activation, RowActivation)):
        return spec
    if isinstance(spec, str):
        if spec in ROW_ACTIVATIONS:
            return ROW_ACTIVATIONS[spec]
        if spec not in ACTIVATIONS:
            raise SymcalcError(
                f"activation must be one of {_names()} or a SymPy expression in one symbol; "
                f"got {spec!r}"
            )
        return _builtin(spec)
    if isinstance(spec, sp.Basic):
        return Activation(spec)
    raise SymcalcError(
        f"activation must be a name ({_names()}), a SymPy expression in one symbol or None; "
        f"got {describe(spec)} of type {type(spec).__name__}"
    )
