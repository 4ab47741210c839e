"""Threads for the fused kernels: serial or parallel per call, chosen from the work.

A fused kernel (:mod:`symcalc._numba`) adds up its rows in fixed blocks of ``block_rows``:
``fn(theta, cols, n, b0, b1, parts)`` writes the sums of blocks ``b0 .. b1-1`` into rows of
``parts`` and returns the terms that do not depend on the rows. :class:`BlockRunner` runs the
blocks on the calling thread, or splits them into contiguous ranges over a few threads (the
kernels release the GIL). The blocks and the order they are added in do not depend on the
choice, so results are bit-identical whether a call ran serial or parallel, on any number
of threads.

The choice is made per call: parallel pays a fixed cost (waking a worker and joining it,
tens of microseconds), so a call goes parallel only when its serial run would take longer
than :data:`PARALLEL_MIN_SECONDS`. The per-row cost of each kernel is measured from its own
serial calls (before the first measurement, calls of at least :data:`GUESS_PARALLEL_ROWS`
rows go parallel).

BLAS threads: OpenBLAS keeps its worker threads spinning for a while after each call, which
takes cores from the kernel threads; :func:`limit_blas` (threadpoolctl) keeps BLAS on one
thread around code that runs kernels in parallel with BLAS calls of its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "PARALLEL_MIN_SECONDS", "GUESS_PARALLEL_ROWS", "BlockRunner", "available_cores",
    "resolve_threads", "limit_blas",
]

#: A call goes parallel once its estimated serial time exceeds this (the measured crossover:
#: on the 2-core benchmark machine two threads win from about 0.1 ms of work; see README).
PARALLEL_MIN_SECONDS = 2e-4
#: Before a kernel's per-row cost is measured, calls of at least this many rows go parallel.
GUESS_PARALLEL_ROWS = 16384

_pool: Any = None
_pool_pid = -1
_pool_lock = threading.Lock()
_blas: Any = None


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None) -> int:
    """The thread count to use for ``threads=None`` (every available core) or an int."""
    return available_cores() if threads is None else max(1, int(threads))


def _executor(workers: int) -> Any:
    """The shared worker pool (re-created in a forked child, whose copy has no threads)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid() or _pool._max_workers < workers:
            from concurrent.futures import ThreadPoolExecutor

            if _pool is not None and _pool_pid == os.getpid():
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symcalc-kernel")
            _pool_pid = os.getpid()
        return _pool


def _blas_controller() -> Any:
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        except Exception:  # noqa: BLE001 - threadpoolctl missing or unable to inspect
            _blas = False
    return _blas


@contextlib.contextmanager
def limit_blas(threads: int = 1) -> Iterator[None]:
    """Keep BLAS libraries (OpenBLAS, MKL) to ``threads`` threads inside the block.

    A no-op without threadpoolctl (extra ``symcalc[fast]``).
    """
    ctl = _blas_controller()
    if not ctl:
        yield
        return
    with ctl.limit(limits=threads, user_api="blas"):
        yield


class BlockRunner:
    """Runs one block kernel over all rows, serial or on up to ``threads`` threads.

    Parameters
    ----------
    fn : callable
        ``fn(theta, cols, n, b0, b1, parts) -> constant terms`` (see the module docstring).
    outputs : int
        Number of outputs (columns of ``parts``).
    block_rows : int
        Rows per block.
    threads : int or None
        At most this many threads (None: every available core).
    """

    def __init__(self, fn: Callable[..., np.ndarray], outputs: int, block_rows: int,
                 threads: int | None) -> None:
        self.fn = fn
        self.outputs = outputs
        self.block_rows = block_rows
        self.threads = resolve_threads(threads)
        self.row_seconds = 0.0  # measured cost of one row (0: not measured yet)
        self.last_threads = 0  # threads the latest call used

    def parallel(self, n: int) -> int:
        """How many threads a call over ``n`` rows uses."""
        blocks = -(-n // self.block_rows)
        if self.threads < 2 or blocks < 2:
            return 1
        if self.row_seconds:
            go = n * self.row_seconds > PARALLEL_MIN_SECONDS
        else:
            go = n >= GUESS_PARALLEL_ROWS
        return min(self.threads, blocks) if go else 1

    def __call__(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int) -> np.ndarray:
        blocks = max(1, -(-n // self.block_rows))
        parts = np.zeros((blocks, self.outputs))
        threads = self.last_threads = self.parallel(n)
        if threads == 1:
            start = time.perf_counter()
            const = self.fn(theta, cols, n, 0, blocks, parts)
            self._measured(n, time.perf_counter() - start)
        else:
            const = self._parallel(theta, cols, n, blocks, parts, threads)
        return parts.sum(axis=0) + const

    def _parallel(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int, blocks: int,
                  parts: np.ndarray, threads: int) -> np.ndarray:
        bounds = [blocks * i // threads for i in range(threads + 1)]
        pool = _executor(threads - 1)
        futures = [
            pool.submit(self.fn, theta, cols, n, bounds[i], bounds[i + 1], parts)
            for i in range(1, threads)
        ]
        try:
            const = self.fn(theta, cols, n, bounds[0], bounds[1], parts)
        finally:
            for fut in futures:
                fut.result()
        return const

    def _measured(self, n: int, seconds: float) -> None:
        """Keep the lowest per-row cost seen (the least disturbed by other load)."""
        if n >= 256:
            per_row = seconds / n
            if not self.row_seconds or per_row < self.row_seconds:
                self.row_seconds = per_row
