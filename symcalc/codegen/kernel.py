"""A picklable handle on one generated kernel, and chunked evaluation over the rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .execution import NAMESPACES, exec_source

__all__ = ["Kernel", "sum_chunks"]


def sum_chunks(fn: Callable[..., tuple], theta: np.ndarray, cols: Sequence[np.ndarray], n: int,
               step: int, *, quiet: bool = False) -> np.ndarray:
    """Run a NumPy kernel over the rows in chunks of ``step`` and add the partial sums.

    Floating-point warnings are ignored (overflow becomes inf, reported by the caller);
    ``quiet=True`` means the caller already runs inside ``numpy.errstate(all="ignore")``,
    which then is not set again (it costs microseconds per call in an optimizer's loop).
    """
    if quiet:
        return _chunks(fn, theta, cols, n, step)
    with np.errstate(all="ignore"):
        return _chunks(fn, theta, cols, n, step)


def _chunks(fn: Callable[..., tuple], theta: np.ndarray, cols: Sequence[np.ndarray], n: int,
            step: int) -> np.ndarray:
    if n <= step:
        return np.asarray(fn(theta, tuple(cols), n), dtype=np.float64)
    total = None
    for lo in range(0, n, step):
        part_cols = tuple(c[lo : lo + step] for c in cols)
        part = np.asarray(fn(theta, part_cols, len(part_cols[0])), dtype=np.float64)
        total = part if total is None else total + part
    return total


@dataclass(frozen=True)
class Kernel:
    """A picklable handle on one generated kernel: ``run(theta, cols, n)`` -> row sums.

    Only the source text travels (e.g. to Dask workers in other processes); it is executed
    (and, for numba, compiled) once per process on first use.
    """

    backend: str
    source: str
    name: str
    rows: int  # chunk rows (chunked kernels) or block rows (fused numba kernels)
    fused: bool = False  # a fused numba loop over all rows, else NumPy code run in chunks

    def function(self) -> Callable[..., Any]:
        key = (self.backend, self.source)
        if key not in NAMESPACES:
            if self.backend == "numba":
                from .emit_numba import exec_numba_source

                NAMESPACES[key] = exec_numba_source(self.source)
            else:
                NAMESPACES[key] = exec_source(self.source, "kernel")
        return NAMESPACES[key][self.name]

    def __call__(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int) -> np.ndarray:
        fn = self.function()
        if self.fused:
            cols = tuple(np.ascontiguousarray(c, dtype=np.float64) for c in cols)
            return fn(np.ascontiguousarray(theta), cols, n)
        return sum_chunks(fn, theta, cols, n, self.rows)
