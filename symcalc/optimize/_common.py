"""Input handling shared by the solvers: loss -> compiled loss, data -> PreparedData, x0."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import as_theta, describe
from ..compile import CompiledLoss, PreparedData
from ..errors import SymcalcError
from ..loss import Loss

__all__ = ["setup", "Counter", "best_index", "trim_history"]


def setup(loss: Any, data: Any, x0: Any, backend: str) -> tuple[CompiledLoss, PreparedData, np.ndarray]:
    """Compile ``loss`` (cached by :meth:`Loss.compile`), prepare ``data`` once, resolve ``x0``.

    ``loss`` may be a :class:`~symcalc.Loss` or an already compiled loss; ``x0`` an array in
    parameter order, a ``{Symbol or name: value}`` mapping naming every parameter, or ``None``
    for zeros.
    """
    if isinstance(loss, Loss):
        f = loss.compile(backend=backend)
    elif hasattr(loss, "evaluate") and hasattr(loss, "prepare") and hasattr(loss, "params"):
        f = loss
    else:
        raise SymcalcError(
            f"loss must be a symcalc.Loss (e.g. sc.Loss(expr, params=[...], data=[...])) or a "
            f"compiled loss; got {describe(loss)} of type {type(loss).__name__}"
        )
    params = f.params
    x = np.zeros(len(params)) if x0 is None else as_theta(x0, params, "x0")
    prepared = f.prepare(data)
    return f, prepared, np.array(x, dtype=np.float64)


class Counter:
    """Evaluation counts (loss, gradient, Hessian) of one run."""

    __slots__ = ("nfev", "njev", "nhev")

    def __init__(self) -> None:
        self.nfev = self.njev = self.nhev = 0

    def add(self, order: int, times: int = 1) -> None:
        self.nfev += times
        if order >= 1:
            self.njev += times
        if order >= 2:
            self.nhev += times

    def as_tuple(self) -> tuple[int, int, int]:
        return self.nfev, self.njev, self.nhev


def trim_history(history: dict[str, list[Any]]) -> int:
    """Cut the history lists to a common length (an interrupt may land between appends)."""
    n = min(len(v) for v in history.values())
    for v in history.values():
        del v[n:]
    return n


def best_index(losses: list[float]) -> int:
    """Index of the smallest finite loss (the last entry when none is finite)."""
    arr = np.asarray(losses, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return len(losses) - 1
    return int(np.argmin(np.where(finite, arr, np.inf)))
