"""A picklable handle on one generated kernel, and chunked evaluation over the rows."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._threads import limit_blas
from .execution import NAMESPACES, exec_source

__all__ = ["Kernel", "sum_chunks", "BLAS_SERIAL_ROWS"]


#: Above this many rows, NumPy kernels run with BLAS on one thread: their reductions are many
#: small dot products, which OpenBLAS splits over threads above 10,000 elements, and waking
#: its threads for each cost more than the products (measured: 128 ms instead of 3-7 ms at
#: 32,768 rows, 8 features, on a loaded 2-core machine; 1.5-2.8 s instead of 0.12-0.16 s at
#: 10^6 rows).
BLAS_SERIAL_ROWS = 10_000


def sum_chunks(fn: Callable[..., tuple], theta: np.ndarray, cols: Sequence[np.ndarray], n: int,
               step: int, *, quiet: bool = False) -> np.ndarray:
    """Run a NumPy kernel over the rows in chunks of ``step`` and add the partial sums.

    Floating-point warnings are ignored (overflow becomes inf, reported by the caller);
    ``quiet=True`` means the caller already runs inside ``numpy.errstate(all="ignore")``,
    which then is not set again (it costs microseconds per call in an optimizer's loop).
    Above :data:`BLAS_SERIAL_ROWS` rows, BLAS runs on one thread.
    """
    if n > BLAS_SERIAL_ROWS:
        with limit_blas(1), (contextlib.nullcontext() if quiet else np.errstate(all="ignore")):
            return _chunks(fn, theta, cols, n, step)
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
    outputs: int = 0  # how many sums it returns
    threads: int | None = None  # numba: at most this many threads per call (None: all cores)
    fused: bool = False  # a fused numba loop over blocks of rows, else NumPy code in chunks

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
        if self.fused:  # serial or threaded, per call (symcalc._threads)
            from .emit_numba import run_kernel

            return run_kernel(self, theta, tuple(cols), n)
        return sum_chunks(self.function(), theta, cols, n, self.rows)
