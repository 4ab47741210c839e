"""Input handling shared by the solvers: loss -> compiled loss, data -> PreparedData, x0."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codegen.compiled import setup

__all__ = ["setup", "Counter", "best_index", "trim_history", "quietly"]


def quietly(f: Any) -> Any:
    """Floating-point warnings ignored for a whole run (overflow is reported as divergence):
    set once for the compiled loss's calls when it supports it, else a plain errstate."""
    if hasattr(f, "ignoring_fp_warnings"):
        return f.ignoring_fp_warnings()
    return np.errstate(all="ignore")


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
