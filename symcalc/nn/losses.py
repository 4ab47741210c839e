"""Losses as SymPy expressions in ``(y_pred, y_true)``, compiled with their derivative.

An elementwise loss is an expression ``l(y_pred, y_true)``; a sample's loss is its mean over
the outputs and the network's loss the mean over samples (as Keras reduces), optionally
weighted per sample (Keras's ``sample_weight``: ``sum(w_i * l_i) / n``). ``dl/dy_pred`` is
derived by :func:`sympy.diff` and compiled together with ``l`` through
:func:`symcalc.codegen.compile_elementwise`.

Cross-entropies are evaluated in stable combined forms, each derived by SymPy:

* binary, after a sigmoid output (or ``from_logits=True``): ``l = softplus(z) - y*z``
  (compiled as ``logaddexp``), whose derivative SymPy gives as ``sigmoid(z) - y``;
* categorical, after a softmax output (or ``from_logits=True``): ``-y*log(softmax(z))``,
  which SymPy simplifies to ``y*(R - z)`` with ``R = logsumexp(z)`` computed with the row
  maximum subtracted; the chain rule through ``R`` gives ``softmax(z)*sum(y) - y``, i.e.
  ``p - y`` for one-hot or probability targets. Summed over classes, as Keras does.

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
from ..errors import DataError, ShapeError, SymbolError, SymcalcError
from ..functions import softplus
from ._kernels import _compiled, _unchecked
from .rowwise import LOG_SOFTMAX, NORMALIZE

__all__ = ["LossFunction", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "LOSSES", "get_loss", "Y_PRED", "Y_TRUE"]

Y_PRED = sp.Symbol("y_pred", real=True)
Y_TRUE = sp.Symbol("y_true", real=True)
#: A log-probability (the output of log-softmax).
_LOG_P = sp.Symbol("log_p", real=True)

#: Built-in losses by name (Keras names), per output element. The categorical ones are
#: summed over the classes of a sample (the others averaged over the outputs).
LOSSES: dict[str, sp.Expr] = {
    "mse": (Y_PRED - Y_TRUE) ** 2,
    "mae": sp.Abs(Y_PRED - Y_TRUE),
    "binary_crossentropy": -(Y_TRUE * sp.log(Y_PRED) + (1 - Y_TRUE) * sp.log(1 - Y_PRED)),
    "categorical_crossentropy": -Y_TRUE * sp.log(Y_PRED),
    "sparse_categorical_crossentropy": -Y_TRUE * sp.log(Y_PRED),
}
_ALIASES = {"mean_squared_error": "mse", "mean_absolute_error": "mae"}

#: Keras clips probabilities to [eps, 1 - eps] in the cross-entropies.
_EPSILON = 1e-7

LossLike = Union[str, sp.Expr, "LossFunction", "CategoricalCrossentropy"]


def _as_2d_target(y: np.ndarray, k: int, name: str, loss: str) -> np.ndarray:
    """``y`` as (n_samples, k), the output layer's shape."""
    if y.ndim == 1 and k == 1:
        y = y.reshape(-1, 1)
    if y.ndim != 2 or y.shape[1] != k:
        alt = " or (n_samples,)" if k == 1 else ""
        hint = (" (integer class labels need loss='sparse_categorical_crossentropy')"
                if y.ndim == 1 and loss == "categorical_crossentropy" else "")
        raise ShapeError(
            f"{name} must have shape (n_samples, {k}){alt} to match the output layer's {k} "
            f"unit(s); got shape {y.shape}{hint}"
        )
    return y


def _weighted_mean(per_element: np.ndarray, weights: np.ndarray | None) -> float:
    if weights is None:
        return float(per_element.mean())
    return float((per_element * weights[:, None]).mean())


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
    from_logits : bool
        True when ``y_pred`` is a logit (the stable binary cross-entropy form).
    """

    from_logits = False

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
        self._clip = self.name == "binary_crossentropy" and not self.from_logits
        self._both = self._value = None

    # -------------------------------------------------------------- targets
    def prepare_target(self, y: np.ndarray, k: int, name: str = "y") -> np.ndarray:
        """``y`` (float64) as (n_samples, k); binary cross-entropy also checks [0, 1]."""
        y = _as_2d_target(y, k, name, self.name)
        if self.name == "binary_crossentropy":
            outside = (y < 0) | (y > 1)
            if outside.any():
                i = tuple(int(v) for v in np.argwhere(outside)[0])
                raise DataError(
                    f"{name} must hold labels (or probabilities) in [0, 1] for "
                    f"binary_crossentropy; found {y[i]:g} at index {i}"
                )
        return y

    # -------------------------------------------------------------- evaluation on outputs
    def _prepare(self, y_pred: Any) -> tuple[np.ndarray, np.ndarray | None]:
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if not self._clip:
            return y_pred, None
        clipped = np.clip(y_pred, _EPSILON, 1 - _EPSILON)
        return clipped, clipped != y_pred

    def value_and_delta(self, y_pred: Any, y_true: Any,
                        weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The mean loss and its gradient with respect to ``y_pred`` (same shape as y_pred).

        ``weights`` (n_samples,) weighs each sample as Keras's ``sample_weight``. Both arrays
        must have the same shape (float64); call inside ``np.errstate`` when the values may
        overflow.
        """
        y_pred, clipped = self._prepare(y_pred)
        y_true = np.asarray(y_true, dtype=np.float64)
        if self._both is None:
            self._both = _unchecked(_compiled((self.expr, self.derivative), (Y_PRED, Y_TRUE)))
        values, delta = self._both(y_pred, y_true)
        if weights is None:
            value = float(values.mean())
            delta = delta * (1.0 / delta.size)  # a new array: outputs may alias inputs
        else:
            value = _weighted_mean(values, weights)
            delta = delta * (weights[:, None] / delta.size)
        if clipped is not None and clipped.any():
            delta[clipped] = 0.0  # the clipped loss is flat there
        return value, delta

    def value(self, y_pred: Any, y_true: Any, weights: np.ndarray | None = None) -> float:
        """The mean loss (same conventions as :meth:`value_and_delta`)."""
        y_pred, _ = self._prepare(y_pred)
        y_true = np.asarray(y_true, dtype=np.float64)
        if self._value is None:
            self._value = _unchecked(_compiled((self.expr,), (Y_PRED, Y_TRUE)))
        return _weighted_mean(self._value(y_pred, y_true)[0], weights)

    # ------------------------------------------------------- stable form on logits
    def fused_with(self, activation: Any) -> LossFunction | None:
        """The loss on the output layer's logits when ``activation`` and this loss combine
        into a stable form (sigmoid + binary cross-entropy), else None."""
        if self.name == "binary_crossentropy" and not self.from_logits and activation.is_sigmoid():
            return _bce_on_logits()
        return None

    def latex(self) -> tuple[str, str]:
        """LaTeX of ``l`` and ``dl/dy_pred`` in the symbols ``\\hat y`` and ``y``."""
        sub = {Y_PRED: sp.Symbol(r"\hat{y}"), Y_TRUE: sp.Symbol("y")}
        return sp.latex(self.expr.xreplace(sub)), sp.latex(self.derivative.xreplace(sub))

    def config(self) -> dict[str, Any]:
        """What a model file stores about this loss (see :mod:`symcalc.nn.saving`)."""
        if isinstance(self, BinaryCrossentropy):
            return {"name": self.name, "from_logits": self.from_logits}
        if self.name in LOSSES and self.expr == LOSSES[self.name]:
            return {"name": self.name}
        return {"name": self.name, "srepr": sp.srepr(self.expr)}

    def __repr__(self) -> str:
        return f"LossFunction({self.name!r}: {self.expr})"


class BinaryCrossentropy(LossFunction):
    """Binary cross-entropy, as Keras's ``BinaryCrossentropy(from_logits=...)``.

    With ``from_logits=True`` the outputs are logits ``z`` and the loss is the stable
    ``softplus(z) - y*z`` (derivative ``sigmoid(z) - y``); otherwise the outputs are
    probabilities, clipped to ``[1e-7, 1 - 1e-7]`` as Keras does.

    Examples
    --------
    >>> BinaryCrossentropy(from_logits=True).derivative
    -y_true + sigmoid(y_pred)
    """

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = _check_bool(from_logits, "from_logits")
        expr = (softplus(Y_PRED) - Y_TRUE * Y_PRED if self.from_logits
                else LOSSES["binary_crossentropy"])
        super().__init__(expr, name="binary_crossentropy")

    def __repr__(self) -> str:
        return f"BinaryCrossentropy(from_logits={self.from_logits})"


@functools.lru_cache(maxsize=None)
def _bce_on_logits() -> BinaryCrossentropy:
    return BinaryCrossentropy(from_logits=True)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise SymcalcError(f"{name} must be True or False; got {describe(value)}")
    return bool(value)


class CategoricalCrossentropy:
    """Categorical cross-entropy ``-sum_j y_j log p_j`` per sample, as Keras's
    ``CategoricalCrossentropy(from_logits=...)``; targets are one-hot rows or probabilities.

    The per-element expression ``-y*log(p)`` is SymPy's; on logits (``from_logits=True``, or
    after a softmax output layer, which the model fuses) it is applied to log-softmax, where
    SymPy simplifies it to ``y*(R - z)`` and the gradient becomes ``p*sum(y) - y`` (``p - y``
    for one-hot targets). On probabilities (other output activations), each row is divided
    by its sum and clipped to ``[1e-7, 1 - 1e-7]`` first, as Keras does.

    Examples
    --------
    >>> import numpy as np
    >>> loss = CategoricalCrossentropy(from_logits=True)
    >>> value, delta = loss.value_and_delta(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]))
    >>> round(value, 12), delta.tolist()
    (0.69314718056, [[-0.5, 0.5]])
    """

    sparse = False

    def __init__(self, from_logits: bool = False) -> None:
        self.from_logits = _check_bool(from_logits, "from_logits")
        self.name = "sparse_categorical_crossentropy" if self.sparse else "categorical_crossentropy"
        #: ``-y*log(p)``: the per-element loss on probabilities, and its derivative in p.
        self.expr: sp.Expr = LOSSES[self.name]
        self.derivative: sp.Expr = sp.diff(self.expr, Y_PRED)
        #: The same on log-probabilities: ``-y*log_p``, derived by substituting p = exp(log_p).
        self.expr_log_p: sp.Expr = sp.expand_log(self.expr.xreplace({Y_PRED: sp.exp(_LOG_P)}),
                                                 force=True)
        self.derivative_log_p: sp.Expr = sp.diff(self.expr_log_p, _LOG_P)

    @functools.cached_property
    def _kernels(self) -> dict[str, Any]:
        on = (_LOG_P, Y_TRUE) if self.from_logits else (Y_PRED, Y_TRUE)
        expr, deriv = ((self.expr_log_p, self.derivative_log_p) if self.from_logits
                       else (self.expr, self.derivative))
        return {"both": _unchecked(_compiled((expr, deriv), on)),
                "value": _unchecked(_compiled((expr,), on))}

    # -------------------------------------------------------------- targets
    def prepare_target(self, y: np.ndarray, k: int, name: str = "y") -> np.ndarray:
        """One-hot or probability rows (n_samples, k) as float64."""
        return _as_2d_target(y, k, name, self.name)

    # -------------------------------------------------------------- evaluation
    def _inputs(self, out: np.ndarray, *, grad: bool) -> tuple[np.ndarray, Any, Any]:
        """The kernel's first argument (log-probabilities or clipped probabilities), the row
        function's cache and the mask of clipped entries."""
        if self.from_logits:
            if not grad:
                return LOG_SOFTMAX(out), None, None
            log_p, cache = LOG_SOFTMAX.forward(out)
            return log_p, cache, None
        if grad:
            q, cache = NORMALIZE.forward(out)
        else:
            q, cache = NORMALIZE(out), None
        clipped = np.clip(q, _EPSILON, 1 - _EPSILON)
        return clipped, cache, clipped != q

    def value_and_delta(self, y_pred: Any, y_true: Any,
                        weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The mean (over samples) of the per-sample cross-entropy and its gradient in the
        outputs (logits when ``from_logits``)."""
        out = np.asarray(y_pred, dtype=np.float64)
        y = np.asarray(y_true, dtype=np.float64)
        first, cache, clipped = self._inputs(out, grad=True)
        values, g = self._kernels["both"](first, y)
        n = len(out)
        per_sample = values.sum(axis=1)
        if weights is None:
            value, g = float(per_sample.sum() / n), g * (1.0 / n)
        else:
            value, g = float((per_sample * weights).sum() / n), g * (weights[:, None] / n)
        if clipped is not None and clipped.any():
            g = np.where(clipped, 0.0, g)  # the clipped loss is flat there
        rows = LOG_SOFTMAX if self.from_logits else NORMALIZE
        return value, rows.vjp(cache, g)

    def value(self, y_pred: Any, y_true: Any, weights: np.ndarray | None = None) -> float:
        out = np.asarray(y_pred, dtype=np.float64)
        first, _, _ = self._inputs(out, grad=False)
        per_sample = self._kernels["value"](first, np.asarray(y_true, dtype=np.float64))[0]
        per_sample = per_sample.sum(axis=1)
        if weights is not None:
            per_sample = per_sample * weights
        return float(per_sample.sum() / len(out))

    def fused_with(self, activation: Any) -> CategoricalCrossentropy | None:
        """The loss on the logits after a softmax output layer (the stable form), else None."""
        if self.from_logits or not activation.is_softmax():
            return None
        return type(self)(from_logits=True)

    def latex(self) -> tuple[str, str]:
        sub = {Y_PRED: sp.Symbol(r"\hat{y}"), Y_TRUE: sp.Symbol("y")}
        return sp.latex(self.expr.xreplace(sub)), sp.latex(self.derivative.xreplace(sub))

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "from_logits": self.from_logits}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels ``0..k-1`` as targets (shape
    (n_samples,) or (n_samples, 1)), as Keras's ``SparseCategoricalCrossentropy``.

    Examples
    --------
    >>> import numpy as np
    >>> SparseCategoricalCrossentropy().prepare_target(np.array([2.0, 0.0]), 3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """

    sparse = True

    def prepare_target(self, y: np.ndarray, k: int, name: str = "y") -> np.ndarray:
        """Integer labels -> one-hot rows (n_samples, k)."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ShapeError(
                f"{name} must hold one integer class label per sample, shape (n_samples,) or "
                f"(n_samples, 1), for sparse_categorical_crossentropy; got shape {y.shape}"
            )
        bad = (y != np.round(y)) | (y < 0) | (y >= k)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{name} must hold integer class labels 0..{k - 1} (the output layer has {k} "
                f"units) for sparse_categorical_crossentropy; found {y[i]:g} at index {i}"
            )
        onehot = np.zeros((len(y), k))
        onehot[np.arange(len(y)), y.astype(np.intp)] = 1.0
        return onehot


_CLASSES = {"categorical_crossentropy": CategoricalCrossentropy,
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
            "binary_crossentropy": BinaryCrossentropy}


def get_loss(spec: LossLike, *, from_logits: bool | None = None
             ) -> LossFunction | CategoricalCrossentropy:
    """A loss from a name, a SymPy expression or a loss object.

    Parameters
    ----------
    spec : str, sympy.Expr, LossFunction or CategoricalCrossentropy
        Names: ``"mse"`` (``"mean_squared_error"``), ``"mae"`` (``"mean_absolute_error"``),
        ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
        ``"sparse_categorical_crossentropy"``.
    from_logits : bool, optional
        For the cross-entropy names (Keras's ``from_logits``).

    Raises
    ------
    SymcalcError
        For an unknown name (the allowed names are listed) or another type.
    SymbolError
        For an expression not written in ``y_pred`` (and optionally ``y_true``).
    """
    if isinstance(spec, (LossFunction, CategoricalCrossentropy)):
        return spec
    if isinstance(spec, str):
        name = _ALIASES.get(spec, spec)
        if name not in LOSSES:
            raise SymcalcError(
                f"loss must be one of {', '.join(map(repr, [*LOSSES, *_ALIASES]))} or a SymPy "
                f"expression in y_pred and y_true; got {spec!r}"
            )
        if name in _CLASSES:
            return _CLASSES[name](from_logits=bool(from_logits))
        if from_logits is not None:
            raise SymcalcError(
                f"from_logits applies to the cross-entropy losses only; got loss={spec!r}"
            )
        return LossFunction(LOSSES[name], name=name)
    if isinstance(spec, sp.Basic):
        return LossFunction(spec)
    raise SymcalcError(
        f"loss must be a name ({', '.join(map(repr, LOSSES))}) or a SymPy expression in y_pred "
        f"and y_true; got {describe(spec)} of type {type(spec).__name__}"
    )
