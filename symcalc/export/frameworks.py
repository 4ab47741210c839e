"""Exports of a loss to JAX and PyTorch: the stable expression printed as framework code.

The exported function computes the same total loss as :meth:`CompiledLoss.value` (the mean or
sum over the rows of the per-sample loss) from the same numerically stable expression (the
rewrites of ``CompiledLoss.rewrites``: ``logaddexp``, ``sigmoid``, ``log1p``, ``expm1``), but
in the framework's own operations, so its autodiff, ``jit``, ``vmap`` and devices apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .._validate import bind_data
from ..codegen.execution import exec_source
from ..errors import DataError, MissingDependencyError, ShapeError
from ._printer import ExportPrinter
from ._program import LossLike, stable_value

__all__ = ["ExportedLoss", "to_jax", "to_torch"]

#: SymPy function (class name) -> JAX callable, as named in the generated module's namespace.
JAX_FUNCTIONS: dict[str, str] = {
    **{f: f"jnp.{f}" for f in ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh",
                               "tanh", "sign", "log1p", "expm1")},
    **{f: f"jnp.arc{f[1:]}" for f in ("asin", "acos", "atan", "asinh", "acosh", "atanh")},
    "atan2": "jnp.arctan2", "Abs": "jnp.abs",
    "erf": "jsp.erf", "erfc": "jsp.erfc", "gamma": "jsp.gamma", "loggamma": "jsp.gammaln",
    "sigmoid": "jax.nn.sigmoid", "softplus": "_softplus", "log_sigmoid": "jax.nn.log_sigmoid", "relu": "jax.nn.relu",
    "logsumexp": "_logsumexp", "Heaviside": "_heaviside",
    "maximum": "jnp.maximum", "minimum": "jnp.minimum", "where": "jnp.where",
}

#: SymPy function (class name) -> PyTorch callable in the generated module's namespace.
TORCH_FUNCTIONS: dict[str, str] = {
    **{f: f"torch.{f}" for f in ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh",
                                 "tanh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
                                 "sign", "log1p", "expm1", "erf", "erfc", "atan2")},
    "Abs": "torch.abs", "loggamma": "torch.lgamma",
    "sigmoid": "torch.sigmoid", "softplus": "_softplus", "log_sigmoid": "torch.nn.functional.logsigmoid",
    "relu": "torch.relu", "logsumexp": "_logsumexp", "Heaviside": "_heaviside",
    "maximum": "_maximum", "minimum": "_minimum", "where": "_where",
}


@dataclass(frozen=True)
class _Framework:
    name: str
    functions: Mapping[str, str]
    namespace: dict[str, Any]
    asarray: Callable[[Any], Any]
    reduce: Callable[[Any, int, str], Any]


def _jax() -> _Framework:
    try:
        import jax
        import jax.numpy as jnp
        import jax.scipy.special as jsp
    except ImportError as exc:
        raise MissingDependencyError(
            f"to_jax needs JAX: pip install 'symcalc[export]' (or jax and jaxlib) ({exc})"
        ) from None

    def reduce(rows: Any, n: int, how: str) -> Any:
        rows = jnp.broadcast_to(rows, (n,))
        return jnp.mean(rows) if how == "mean" else jnp.sum(rows)

    def logsumexp(*xs: Any) -> Any:
        return jsp.logsumexp(jnp.stack(jnp.broadcast_arrays(*xs)), axis=0)

    namespace = {
        "jax": jax, "jnp": jnp, "jsp": jsp, "_logsumexp": logsumexp,
        "_softplus": lambda u: jnp.logaddexp(0.0, u),
        "_heaviside": lambda u, h0=0.5: jnp.heaviside(u, h0),
    }
    return _Framework("JAX", JAX_FUNCTIONS, namespace, jnp.asarray, reduce)


def _torch() -> _Framework:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            f"to_torch needs PyTorch: pip install 'symcalc[export]' (or torch) ({exc})"
        ) from None

    def tensors(*args: Any) -> list[Any]:
        """Python numbers next to tensors become tensors of the tensors' dtype and device."""
        like = next((a for a in args if isinstance(a, torch.Tensor)), None)
        if like is None:
            return [torch.as_tensor(a, dtype=torch.get_default_dtype()) for a in args]
        return [a if isinstance(a, torch.Tensor) else
                torch.as_tensor(a, dtype=like.dtype, device=like.device) for a in args]

    def softplus(u: Any) -> Any:
        (u,) = tensors(u)
        return torch.logaddexp(torch.zeros_like(u), u)

    def where(cond: Any, a: Any, b: Any) -> Any:
        a, b = tensors(a, b)
        return torch.where(torch.as_tensor(cond, device=a.device), a, b)

    def reduce(rows: Any, n: int, how: str) -> Any:
        (rows,) = tensors(rows)
        rows = rows.broadcast_to((n,))
        return rows.mean() if how == "mean" else rows.sum()

    def logsumexp(*xs: Any) -> Any:
        return torch.logsumexp(torch.stack(torch.broadcast_tensors(*tensors(*xs))), dim=0)

    def heaviside(u: Any, h0: Any = 0.5) -> Any:
        return torch.heaviside(*tensors(u, h0))

    namespace = {
        "torch": torch, "_softplus": softplus, "_where": where, "_logsumexp": logsumexp,
        "_heaviside": heaviside,
        "_maximum": lambda a, b: torch.maximum(*tensors(a, b)),
        "_minimum": lambda a, b: torch.minimum(*tensors(a, b)),
    }
    return _Framework("PyTorch", TORCH_FUNCTIONS, namespace, torch.as_tensor, reduce)


class ExportedLoss:
    """A loss as a function of ``(params, data)`` in JAX or PyTorch operations.

    Made by :meth:`symcalc.Loss.to_jax` and :meth:`symcalc.Loss.to_torch`. Calling it returns
    the total loss (mean or sum over the rows, as the loss's ``reduce`` says) as a framework
    scalar, differentiable by the framework.

    Parameters of a call
    --------------------
    params : 1-D array/tensor of shape (n_params,) in ``params`` order, or mapping
        ``{Symbol or name: scalar}``. For gradients, pass a framework array (``jax.grad``) or a
        tensor with ``requires_grad=True``.
    data : mapping {Symbol or name: 1-D array}, optional
        One column per data symbol, all the same length (NumPy arrays are converted).

    Attributes
    ----------
    framework : str
        ``"JAX"`` or ``"PyTorch"``.
    source : str
        The generated per-row function (symbols appear as ``_p0, ...`` for parameters and
        ``_d0, ...`` for data columns, in order).
    params, data : tuple of Symbol
        The loss's parameter and data symbols, in call order.
    reduce : str
        ``"mean"`` or ``"sum"``.
    """

    def __init__(self, loss: LossLike, framework: _Framework) -> None:
        self.params: tuple[sp.Symbol, ...] = tuple(loss.params)
        self.data: tuple[sp.Symbol, ...] = tuple(loss.data)
        self.reduce: str = loss.reduce
        self.framework = framework.name
        expr, names = stable_value(loss)
        body = ExportPrinter(framework.name, framework.functions).doprint(expr)
        args = ", ".join(names)
        self.source = f"def _loss_rows({args}):\n    return {body}\n"
        self._fw = framework
        tag = f"export-{framework.name.lower()}"
        self._rows = exec_source(self.source, tag, dict(framework.namespace))["_loss_rows"]

    def __call__(self, params: Any, data: Any = None) -> Any:
        theta = self._params(params)
        cols = self._columns(data)
        rows = self._rows(*theta, *cols)
        if not self.data:
            return self._fw.reduce(rows, 1, "sum")
        return self._fw.reduce(rows, int(cols[0].shape[0]), self.reduce)

    def _params(self, params: Any) -> list[Any]:
        names = [p.name for p in self.params]
        if isinstance(params, Mapping):
            return [self._fw.asarray(v) for v in bind_data(params, self.params, "params")]
        arr = params if hasattr(params, "shape") else self._fw.asarray(params)
        if tuple(arr.shape) != (len(names),):
            raise ShapeError(
                f"params has shape {tuple(arr.shape)}; expected ({len(names)},) in the order "
                f"{names}, or a mapping by name"
            )
        return [arr[i] for i in range(len(names))]

    def _columns(self, data: Any) -> list[Any]:
        cols = [self._fw.asarray(c) for c in bind_data(data, self.data)]
        lengths = set()
        for sym, col in zip(self.data, cols):
            if col.ndim != 1:
                raise ShapeError(
                    f"data[{sym.name!r}] must be 1-D (one value per row); got shape "
                    f"{tuple(col.shape)}"
                )
            lengths.add(int(col.shape[0]))
        if len(lengths) > 1:
            raise ShapeError(f"data columns have different lengths {sorted(lengths)}; "
                             "every column needs one value per row")
        if lengths == {0}:
            raise DataError("data has no rows; the loss is a mean or sum over at least one row")
        return cols

    def __repr__(self) -> str:
        return (
            f"ExportedLoss(framework={self.framework!r}, params={[p.name for p in self.params]}, "
            f"data={[d.name for d in self.data]}, reduce={self.reduce!r})"
        )


def to_jax(loss: LossLike) -> ExportedLoss:
    """The loss as a JAX function of ``(params, data)`` (what :meth:`Loss.to_jax` returns).

    Enable float64 in JAX (``jax.config.update("jax_enable_x64", True)``) for double
    precision; JAX computes in float32 by default.
    """
    return ExportedLoss(loss, _jax())


def to_torch(loss: LossLike) -> ExportedLoss:
    """The loss as a PyTorch function of ``(params, data)`` (what :meth:`Loss.to_torch` returns)."""
    return ExportedLoss(loss, _torch())
