"""Row-wise functions (softmax, log-softmax, normalization), derived with SymPy.

Softmax is not elementwise: every output of a row depends on the whole row. It is, however,
an elementwise expression in two arguments, ``x_j`` and a *row reduction* ``R`` of the row:

* ``softmax(x)_j = exp(x_j - R)`` and ``log_softmax(x)_j = x_j - R`` with
  ``R = logsumexp(x) = log(sum_i exp(x_i))``;
* ``normalize(x)_j = x_j / R`` with ``R = sum_i x_i``.

So the chain rule needs three derivatives, all derived by :func:`sympy.diff`: ``df/dx`` and
``df/dR`` of the elementwise expression, and ``dR/dx_j`` of the reduction (derived from the
n-ary SymPy reduction and written back in terms of ``x_j`` and ``R``). For an upstream
gradient ``g`` (``dL/df``) the vector-Jacobian product is

    dL/dx_j = g_j * df/dx(x_j, R) + (sum_i g_i * df/dR(x_i, R)) * dR/dx(x_j, R),

which for softmax is ``p_j * (g_j - sum_i g_i p_i)`` and, with cross-entropy on top, the
familiar ``p - y``. The expressions are compiled through the one compile path (one CSE pass
for the value and its three derivatives); ``R`` itself is computed stably in NumPy (the row
maximum is subtracted before ``exp``).

>>> import numpy as np
>>> p, _ = SOFTMAX.forward(np.array([[0.0, np.log(3.0)]]))
>>> p.round(12).tolist()
[[0.25, 0.75]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from ..functions import SoftmaxEntry, logsumexp
from ._kernels import _compiled, _unchecked

__all__ = ["RowReduction", "RowwiseFunction", "RowActivation", "REDUCTIONS", "ROW_ACTIVATIONS",
           "SOFTMAX", "LOG_SOFTMAX", "NORMALIZE", "X", "R"]

#: The element symbol and the row-reduction symbol of every row-wise expression.
X = sp.Symbol("x", real=True)
R = sp.Symbol("R", real=True)


def _logsumexp_rows(x: np.ndarray) -> np.ndarray:
    """``log(sum(exp(x)))`` of each row (keepdims), with the row maximum subtracted first."""
    m = x.max(axis=1, keepdims=True)
    if not np.isfinite(m).all():  # an inf/nan row: the plain formula gives the right inf/nan
        m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def _sum_rows(x: np.ndarray) -> np.ndarray:
    return x.sum(axis=1, keepdims=True)


class RowReduction:
    """A reduction ``R(x_1, ..., x_k)`` of a row whose partial ``dR/dx_j`` depends on ``x_j``
    and ``R`` only; that partial is derived by SymPy from the n-ary expression.

    Parameters
    ----------
    name : str
    build : callable
        ``build(symbols) -> sympy.Expr``, the reduction of a row of symbols.
    rows : callable
        The NumPy evaluation of one reduction per row (keepdims).
    """

    def __init__(self, name: str, build: Callable[[Any], sp.Expr],
                 rows: Callable[[np.ndarray], np.ndarray]) -> None:
        self.name = name
        xs = sp.symbols("x1:4", real=True)
        self.expr: sp.Expr = build(xs)  # shown in the backprop equations (k = 3)
        self.partial: sp.Expr = _in_row_terms(sp.diff(self.expr, xs[0]), self.expr, xs)
        self.rows = rows

    def __repr__(self) -> str:
        return f"RowReduction({self.name!r}: dR/dx_j = {self.partial})"


def _in_row_terms(derivative: sp.Expr, full: sp.Expr, xs: tuple[sp.Symbol, ...]) -> sp.Expr:
    """Write ``dR/dx_1`` in terms of ``x_1`` and ``R``: a softmax entry is
    ``exp(x_i - logsumexp(x))``, and the reduction itself becomes ``R``; fails loudly if other
    elements of the row remain."""
    derivative = derivative.replace(
        lambda e: isinstance(e, SoftmaxEntry),
        lambda e: sp.exp(e.logits[e.index] - logsumexp(*e.logits)),
    )
    local = sp.powsimp(derivative.xreplace({full: R})).xreplace({xs[0]: X})
    if not local.free_symbols <= {X, R}:  # pragma: no cover - a reduction of another kind
        raise ValueError(f"dR/dx_j = {local} depends on other elements of the row")
    return local


#: The row reductions by name.
REDUCTIONS: dict[str, RowReduction] = {
    "logsumexp": RowReduction("logsumexp", lambda xs: logsumexp(*xs), _logsumexp_rows),
    "sum": RowReduction("sum", lambda xs: sp.Add(*xs), _sum_rows),
}


class RowwiseFunction:
    """``f(x)_j = expr(x_j, R(x))`` for each row of a batch, with its vector-Jacobian product.

    Parameters
    ----------
    expr : sympy.Expr
        An expression in :data:`X` and :data:`R`.
    reduction : {"logsumexp", "sum"}
    name : str

    Attributes
    ----------
    expr, d_x, d_r : sympy.Expr
        ``f``, ``df/dx`` and ``df/dR`` (by :func:`sympy.diff`).
    reduction : RowReduction
    """

    def __init__(self, expr: sp.Expr, reduction: str, name: str) -> None:
        self.name = name
        self.expr = sp.sympify(expr)
        self.reduction = REDUCTIONS[reduction]
        self.d_x = sp.diff(self.expr, X)
        self.d_r = sp.diff(self.expr, R)

    @functools.cached_property
    def _kernels(self) -> tuple[Any, Any]:
        outputs = (self.expr, self.d_x, self.d_r, self.reduction.partial)
        return (_unchecked(_compiled(outputs, (X, R))),
                _unchecked(_compiled((self.expr,), (X, R))))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The values only (prediction)."""
        return self._kernels[1](x, self.reduction.rows(x))[0]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """``(f(x), cache)``; the cache holds what :meth:`vjp` needs."""
        value, d_x, d_r, partial = self._kernels[0](x, self.reduction.rows(x))
        return value, (d_x, d_r, partial)

    @staticmethod
    def vjp(cache: tuple[np.ndarray, ...], g: np.ndarray) -> np.ndarray:
        """``dL/dx`` from ``g = dL/df`` (same shape as the batch)."""
        d_x, d_r, partial = cache
        through_r = (g * d_r).sum(axis=1, keepdims=True)
        return g * d_x + through_r * partial

    def latex(self) -> str:
        return sp.latex(self.expr)

    def __repr__(self) -> str:
        return f"RowwiseFunction({self.name!r}: {self.expr}, R = {self.reduction.name})"


#: ``softmax(x)_j = exp(x_j - logsumexp(x))``.
SOFTMAX = RowwiseFunction(sp.exp(X - R), "logsumexp", "softmax")
#: ``log_softmax(x)_j = log(softmax(x)_j)``, simplified by SymPy to ``x_j - logsumexp(x)``.
LOG_SOFTMAX = RowwiseFunction(sp.expand_log(sp.log(SOFTMAX.expr), force=True), "logsumexp",
                              "log_softmax")
#: ``normalize(x)_j = x_j / sum(x)`` (probabilities that do not sum to one, as Keras does).
NORMALIZE = RowwiseFunction(X / R, "sum", "normalize")


class RowActivation:
    """An activation applied to each row as a whole (softmax), for the output layer.

    It has the attributes of :class:`~symcalc.nn.Activation` that layers, summaries and
    saving use (``name``, ``expr``, ``is_identity``, ``rowwise``); the backward pass is the
    vector-Jacobian product of its :class:`RowwiseFunction` instead of an elementwise
    multiplication by ``sigma'(z)``.

    Examples
    --------
    >>> import numpy as np
    >>> act = ROW_ACTIVATIONS["softmax"]
    >>> act(np.array([[1.0, 1.0], [0.0, np.log(3.0)]])).round(12).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """

    rowwise = True
    is_identity = False

    def __init__(self, fn: RowwiseFunction) -> None:
        self.fn = fn
        self.name = fn.name
        self.expr = fn.expr
        self.symbol = X

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.fn(np.asarray(z, dtype=np.float64))

    def is_sigmoid(self) -> bool:
        return False

    def is_softmax(self) -> bool:
        return self.fn is SOFTMAX

    def latex(self) -> tuple[str, str]:
        """LaTeX of ``sigma(z)_j`` and of its Jacobian ``d a_j / d z_k``."""
        entry = sp.latex(self.expr.xreplace({X: sp.Symbol("z_j")}))
        value = rf"{entry}, \ R = \log\sum_i e^{{z_i}}"
        jacobian = r"\partial a_j / \partial z_k = a_j \left(\delta_{jk} - a_k\right)"
        return value, jacobian

    def __repr__(self) -> str:
        return f"RowActivation({self.name!r}: {self.expr}, R = {self.fn.reduction.name})"


#: Row-wise activations by Keras name.
ROW_ACTIVATIONS: dict[str, RowActivation] = {"softmax": RowActivation(SOFTMAX)}
