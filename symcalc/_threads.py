"""Threads for the fused kernels: serial or parallel per call, chosen from the work.

A fused kernel (:mod:`symcalc.codegen.emit_numba`) adds up its rows in fixed blocks of
``block_rows``: ``fn(theta, cols, n, b0, b1, parts)`` writes the sums of blocks ``b0 .. b1-1`` into rows of
``parts`` (``blocks + 1`` rows), and the call with ``b0 == 0`` writes the terms that do not
depend on the rows into its last row. :class:`BlockRunner` runs the
blocks on the calling thread, or splits them into contiguous ranges over a few threads (the
kernels release the GIL). The blocks and the order they are added in do not depend on the
choice, so results are bit-identical whether a call ran serial or parallel, on any number
of threads.

The choice is made per call. Parallel pays a fixed cost (waking a worker and joining it,
tens of microseconds on an idle machine), so a call is a candidate only when its serial run
would take longer than :data:`PARALLEL_MIN_SECONDS` (the measured crossover), estimated from
the kernel's own serial calls (before the first measurement: calls of at least
:data:`GUESS_PARALLEL_ROWS` rows). On a machine busy with other work, a worker thread may
wait milliseconds for a core, and threads lose: so each runner also keeps the measured
seconds per row of its serial and of its parallel candidate calls (moving averages), uses the
faster mode, and retries the other one every :data:`RETRY_EVERY` candidate calls to notice
when the load changes.

BLAS threads: OpenBLAS keeps its worker threads spinning for a while after each call, which
takes cores from the kernel threads (measured: a threaded kernel right after a matrix product
ran at half speed). Parallel calls run inside :func:`limit_blas` (threadpoolctl, BLAS on one
thread), and code that mixes BLAS calls with threaded kernels can use it around both.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "PARALLEL_MIN_SECONDS", "GUESS_PARALLEL_ROWS", "RETRY_EVERY", "BlockRunner", "available_cores",
    "resolve_threads", "limit_blas",
]

#: A call is a candidate for threads once its estimated serial time exceeds this: handing
#: half the blocks to a worker and joining it was measured at 25-80 us on the 2-core
#: benchmark machine when quiet, so below ~0.2 ms of work two threads cannot win. Above it,
#: whether they do win is measured per kernel (``python -m benchmarks --only startup``,
#: thread crossover table: under heavy load they often do not).
PARALLEL_MIN_SECONDS = 2e-4
#: Before a kernel's per-row cost is measured, calls of at least this many rows are candidates.
GUESS_PARALLEL_ROWS = 16384
#: Candidate calls between two tries of the mode that is currently slower.
RETRY_EVERY = 16
_SMOOTHING = 0.3  # weight of the newest timing in the moving averages

_pool: Any = None
_pool_pid = -1
_pool_lock = threading.Lock()
_blas: Any = None
_blas_modules = 0


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
    """threadpoolctl's view of the loaded BLAS libraries, made again whenever modules were
    imported since (a new extension may have loaded another BLAS, e.g. SciPy's)."""
    global _blas, _blas_modules
    if _blas is None or (_blas and _blas_modules != len(sys.modules)):
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        except Exception:  # noqa: BLE001 - threadpoolctl missing or unable to inspect
            _blas = False
        _blas_modules = len(sys.modules)
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
        ``fn(theta, cols, n, b0, b1, parts)`` (see the module docstring).
    outputs : int
        Number of outputs (columns of ``parts``).
    block_rows : int
        Rows per block.
    threads : int or None
        At most this many threads (None: every available core).
    """

    def __init__(self, fn: Callable[..., Any], outputs: int, block_rows: int,
                 threads: int | None) -> None:
        self.fn = fn
        self.outputs = outputs
        self.block_rows = block_rows
        self.threads = resolve_threads(threads)
        self.row_seconds = 0.0  # lowest serial cost of one row seen (0: not measured yet)
        self.last_threads = 0  # threads the latest call used
        #: Moving averages of seconds per row of candidate calls, by mode, per size class
        #: (calls within a factor of two in rows share one: threads pay off differently at
        #: 3 blocks than at 300, so what was measured at 10^4 rows must not decide 10^6).
        self.costs: dict[int, dict[str, float | None]] = {}
        self._candidates: dict[int, int] = {}

    def cost(self, n: int) -> dict[str, float | None]:
        """The moving averages (``"serial"``, ``"parallel"``) of calls of about ``n`` rows."""
        return self.costs.setdefault(n.bit_length(), {"serial": None, "parallel": None})

    def candidate(self, n: int) -> bool:
        """Whether a call over ``n`` rows is big enough that threads could pay."""
        if self.threads < 2 or n <= self.block_rows:
            return False
        if self.row_seconds:
            return n * self.row_seconds > PARALLEL_MIN_SECONDS
        return n >= GUESS_PARALLEL_ROWS

    def parallel(self, n: int) -> int:
        """How many threads a call over ``n`` rows uses."""
        if not self.candidate(n):
            return 1
        threads = min(self.threads, -(-n // self.block_rows))
        cost = self.cost(n)
        serial, parallel = cost["serial"], cost["parallel"]
        if parallel is None:  # try threads first, then serial once, then the faster
            return threads
        if serial is None:
            return 1
        size = n.bit_length()
        self._candidates[size] = count = self._candidates.get(size, 0) + 1
        retry = count % RETRY_EVERY == 0
        return threads if (parallel < serial) != retry else 1

    def __call__(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int) -> np.ndarray:
        blocks = max(1, -(-n // self.block_rows))
        parts = np.zeros((blocks + 1, self.outputs))  # the last row: terms without rows
        candidate = self.candidate(n)
        threads = self.last_threads = self.parallel(n) if candidate else 1
        start = time.perf_counter()
        if threads == 1:
            self.fn(theta, cols, n, 0, blocks, parts)
        else:
            self._parallel_blas_limited(theta, cols, n, blocks, parts, threads)
        self._measured(n, time.perf_counter() - start, threads, candidate)
        return parts.sum(axis=0)

    def _parallel(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int, blocks: int,
                  parts: np.ndarray, threads: int) -> None:
        bounds = [blocks * i // threads for i in range(threads + 1)]
        pool = _executor(threads - 1)
        futures = [
            pool.submit(self.fn, theta, cols, n, bounds[i], bounds[i + 1], parts)
            for i in range(1, threads)
        ]
        try:
            self.fn(theta, cols, n, bounds[0], bounds[1], parts)
        finally:
            for fut in futures:
                fut.result()

    def _parallel_blas_limited(self, *args: Any) -> None:
        with limit_blas(1):
            self._parallel(*args)

    def _measured(self, n: int, seconds: float, threads: int, candidate: bool) -> None:
        per_row = seconds / n
        if threads == 1 and n >= 256 and (not self.row_seconds or per_row < self.row_seconds):
            self.row_seconds = per_row  # the least disturbed serial run sizes the crossover
        if candidate:
            mode, cost = ("serial" if threads == 1 else "parallel"), self.cost(n)
            old = cost[mode]
            cost[mode] = per_row if old is None else old + _SMOOTHING * (per_row - old)
