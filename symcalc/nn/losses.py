"""Losses as SymPy expressions in ``(y_pred, y_true)``, compiled with their derivative.

A loss is a per-element expression ``l(y_pred, y_true)``; the network's loss is its mean over
samples and outputs (as Keras averages). ``dl/dy_pred`` is derived by :func:`sympy.diff` and
compiled together with ``l`` through :func:`symcalc.codegen.compile_elementwise`.

Binary cross-entropy after a sigmoid output layer is evaluated in the combined stable form on
the logits ``z``: ``l = logaddexp(0, z) - y*z`` and ``dl/dz = sigmoid(z) - y`` (no ``log(0)``).

>>> loss = get_loss("mse")
>>> loss.derivative
2*y_pred - 2*y_true
>>> value, delta = loss.value_and_delta([[1.0], [3.0]], [[0.0], [0.0]])
>>> value, delta.ravel().tolist()
(5.0, [1.0, 3.0])
"""

from __future__ import annotations

import functools
from typing import Any, Union

import numpy as np
import sympy as sp

from .._validate import describe
from ..errors import SymbolError, SymcalcError
from .activations import Z, _compiled, _unchecked

__all__ = ["LossFunction", "LOSSES", "get_loss", "Y_PRED", "Y_TRUE"]

Y_PRED = sp.Symbol("y_pred", real=True)
Y_TRUE = sp.Symbol("y_true", real=True)

#: Built-in losses by name (Keras names), per output element.
LOSSES: dict[str, sp.Expr] = {
    "mse": (Y_PRED - Y_TRUE) ** 2,
    "mae": sp.Abs(Y_PRED - Y_TRUE),
    "binary_crossentropy": -(Y_TRUE * sp.log(Y_PRED) + (1 - Y_TRUE) * sp.log(1 - Y_PRED)),
}

#: Binary cross-entropy written on the logit z of a sigmoid output (stable after rewriting).
_BCE_ON_LOGITS = sp.log(1 + sp.exp(Z)) - Y_TRUE * Z
_BCE_ON_LOGITS_DZ = sp.diff(_BCE_ON_LOGITS, Z)
#: Keras clips probabilities to [eps, 1 - eps] in binary cross-entropy.
_BCE_EPSILON = 1e-7

@functools.lru_cache(maxsize=None)
def _logit_kernels() -> tuple[Any, Any]:
    both = _compiled((_BCE_ON_LOGITS, _BCE_ON_LOGITS_DZ), (Z, Y_TRUE))
    return _unchecked(both), _unchecked(_compiled((_BCE_ON_LOGITS,), (Z, Y_TRUE)))


LossLike = Union[str, sp.Expr, "LossFunction"]


class LossFunction:
    """A per-element loss ``l(y_pred, y_true)`` with its symbolic derivative in ``y_pred``.

    Parameters
    ----------
    expr : sympy.Expr
        Free symbols named ``y_pred`` (required) and ``y_true`` (optional); any Symbols with
        these names are accepted (they are replaced by real symbols of the same names).
    name : str, optional

    Attributes
    ----------
    expr, derivative : sympy.Expr
        ``l`` and ``dl/dy_pred``.
    """

    def __init__(self, expr: sp.Expr, name: str | None = None) -> None:
        if not isinstance(expr, sp.Basic):
            raise SymcalcError(f"loss must be a SymPy expression; got {describe(expr)}")
        expr = sp.sympify(expr)
        by_name = {s.name: s for s in expr.free_symbols}
        extra = sorted(set(by_name) - {"y_pred", "y_true"})
        if extra or "y_pred" not in by_name:
            raise SymbolError(
                f"loss expression {expr} must be written in the symbols y_pred and y_true "
                f"(y_pred required); found {sorted(by_name) or 'no symbols'}"
            )
        swap = {by_name[k]: s for k, s in (("y_pred", Y_PRED), ("y_true", Y_TRUE)) if k in by_name}
        self.expr: sp.Expr = expr.xreplace(swap)
        self.derivative: sp.Expr = sp.diff(self.expr, Y_PRED)
        if self.derivative.has(sp.Derivative, sp.Subs):
            raise SymbolError(f"loss {expr} could not be differentiated in y_pred symbolically")
        self.name: str = name if name is not None else str(expr)
        self._clip = self.name == "binary_crossentropy"
        self._both = self._value = None

    # -------------------------------------------------------------- evaluation on outputs
    def _prepare(self, y_pred: Any) -> tuple[np.ndarray, np.ndarray | None]:
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if not self._clip:
            return y_pred, None
        clipped = np.clip(y_pred, _BCE_EPSILON, 1 - _BCE_EPSILON)
        return clipped, clipped != y_pred

    def value_and_delta(self, y_pred: Any, y_true: Any) -> tuple[float, np.ndarray]:
        """The mean loss and its gradient with respect to ``y_pred`` (same shape as y_pred).

        Both arrays must have the same shape (float64); call inside ``np.errstate`` when the
        values may overflow.
        """
        y_pred, clipped = self._prepare(y_pred)
        y_true = np.asarray(y_true, dtype=np.float64)
        if self._both is None:
            self._both = _unchecked(_compiled((self.expr, self.derivative), (Y_PRED, Y_TRUE)))
        values, delta = self._both(y_pred, y_true)
        value = float(values.mean())
        delta = delta * (1.0 / delta.size)  # a new array: outputs may alias inputs
        if clipped is not None and clipped.any():
            delta[clipped] = 0.0  # the clipped loss is flat there
        return value, delta

    def value(self, y_pred: Any, y_true: Any) -> float:
        """The mean loss (same conventions as :meth:`value_and_delta`)."""
        y_pred, _ = self._prepare(y_pred)
        y_true = np.asarray(y_true, dtype=np.float64)
        if self._value is None:
            self._value = _unchecked(_compiled((self.expr,), (Y_PRED, Y_TRUE)))
        return float(self._value(y_pred, y_true)[0].mean())

    # ------------------------------------------------------- stable form on sigmoid logits
    def fuses_with(self, activation: Any) -> bool:
        """Whether ``activation`` (the output layer's) and this loss use the combined form."""
        return self.name == "binary_crossentropy" and activation.is_sigmoid()

    @staticmethod
    def logit_value_and_delta(z: np.ndarray, y_true: np.ndarray) -> tuple[float, np.ndarray]:
        """Binary cross-entropy of ``sigmoid(z)`` and its gradient in ``z``: ``sigmoid(z) - y``
        (divided by the number of elements, like every delta here)."""
        values, delta = _logit_kernels()[0](z, y_true)
        return float(values.mean()), delta * (1.0 / delta.size)

    @staticmethod
    def logit_value(z: np.ndarray, y_true: np.ndarray) -> float:
        """Binary cross-entropy of ``sigmoid(z)``, evaluated with ``logaddexp``."""
        return float(_logit_kernels()[1](z, y_true)[0].mean())

    def latex(self) -> tuple[str, str]:
        """LaTeX of ``l`` and ``dl/dy_pred`` in the symbols ``\\hat y`` and ``y``."""
        sub = {Y_PRED: sp.Symbol(r"\hat{y}"), Y_TRUE: sp.Symbol("y")}
        return sp.latex(self.expr.xreplace(sub)), sp.latex(self.derivative.xreplace(sub))

    def __repr__(self) -> str:
        return f"LossFunction({self.name!r}: {self.expr})"


def get_loss(spec: LossLike) -> LossFunction:
    """A :class:`LossFunction` from a name, a SymPy expression or a LossFunction.

    Raises
    ------
    SymcalcError
        For an unknown name (the allowed names are listed) or another type.
    SymbolError
        For an expression not written in ``y_pred`` (and optionally ``y_true``).
    """
    if isinstance(spec, LossFunction):
        return spec
    if isinstance(spec, str):
        if spec not in LOSSES:
            raise SymcalcError(
                f"loss must be one of {', '.join(map(repr, LOSSES))} or a SymPy expression in "
                f"y_pred and y_true; got {spec!r}"
            )
        return LossFunction(LOSSES[spec], name=spec)
    if isinstance(spec, sp.Basic):
        return LossFunction(spec)
    raise SymcalcError(
        f"loss must be a name ({', '.join(map(repr, LOSSES))}) or a SymPy expression in y_pred "
        f"and y_true; got {describe(spec)} of type {type(spec).__name__}"
    )
