"""The fused backend: one numba loop over the rows per kernel (extra ``symcalc[fast]``).

The kernels are generated from the SAME stable rewrites and the SAME CSE pass as the NumPy
backend (:func:`symcalc.codegen.ir.run_cse`); only the emitter differs. Where the NumPy code
materializes one temporary array per subexpression, the fused kernel computes every
subexpression of one row in registers and adds the row's value, gradient (and Hessian upper
triangle) into per-block scalar accumulators: one pass over the data, no temporaries.

Each kernel sums blocks ``b0 .. b1-1`` of ``block_rows`` rows into its own rows of a
``(blocks + 1, outputs)`` array, and the call whose range starts at block 0 writes the terms
that do not depend on the rows into its last row (a kernel allocates nothing); it is
compiled serial (``nogil=True``: a quarter of the compile time of a ``parallel=True`` loop)
and :class:`symcalc._threads.BlockRunner` spreads the blocks over threads when a call is big
enough to gain from it. Blocks and their order are fixed, so results do not depend on the
thread count. The generated module is cached on disk (:mod:`symcalc._kernel_cache`): a second
process loads the machine code instead of compiling it, linked as a plain C entry point when
the kernel allocates nothing (:mod:`symcalc._native`), else through numba's own cache.

Generated code (``f.source``) for ``log(1 + exp(-y*(w*x + b)))``, value+gradient (every
symbol renamed: the legend comment says which is which)::

    # _p0 = 'w', _p1 = 'b', _d0 = 'x', _d1 = 'y'
    @numba.njit(nogil=True, fastmath={"contract"}, cache=_CACHE, error_model="numpy")
    def _value_and_grad(_theta, _cols, _n, _b0, _b1, _parts):
        _p0 = _theta[0]
        _p1 = _theta[1]
        _col0 = _cols[0]
        ...
        for _k in range(_b0, _b1):
            ...
            for _i in range(_lo, _hi):
                _d0 = _col0[_i]
                _d1 = _col1[_i]
                _t0 = -_d1*(_p1 + _d0*_p0)
                _s0 += _softplus_e(_t0, _e0, _w0, _r0)
                ...
            _parts[_k, 0] = _s0
            ...
        if _b0 == 0:
            _last = len(_parts) - 1
            ...
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._native import build as _native_build, load as _native_load
from .._kernel_cache import compile_kernel as _cache_compile, load as _cache_load
from .._threads import BlockRunner
from .._validate import check_int
from ..errors import MissingDependencyError
from .emit_blocks import emit_block_function
from .execution import full, logsumexp
from .ir import Program
from .numba_source import emit_block_kernel, emit_kernel

try:
    import numba
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(
        f"backend='numba' needs numba: pip install 'symcalc[fast]' ({exc})"
    ) from None

__all__ = ["NumbaEmitter", "DEFAULT_BLOCK_ROWS", "exec_numba_source", "compile_kernel", "run_kernel"]

#: Rows per block: big enough to amortize the loop set-up, small enough to balance threads.
DEFAULT_BLOCK_ROWS = 4096


# ------------------------------------------------------------------------------- scalar helpers
@numba.njit(error_model="numpy", inline="always")
def _expit(u: float) -> float:
    if u >= 0.0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


@numba.njit(error_model="numpy", inline="always")
def _softplus(u: float) -> float:  # log(1 + exp(u)) = max(u, 0) + log1p(exp(-|u|))
    if u != u:
        return u
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


@numba.njit(error_model="numpy", inline="always")
def _logaddexp(a: float, b: float) -> float:  # log(exp(a) + exp(b)) without overflow
    if a == b:  # also +-inf: no inf - inf
        return a + math.log(2.0)
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


@numba.njit(error_model="numpy", inline="always")
def _maximum(a: float, b: float) -> float:  # NaN-propagating, like numpy.maximum
    return a if (a >= b or a != a) else b


@numba.njit(error_model="numpy", inline="always")
def _minimum(a: float, b: float) -> float:
    return a if (a <= b or a != a) else b


@numba.njit(error_model="numpy", inline="always")
def _sign(u: float) -> float:
    if u > 0.0:
        return 1.0
    if u < 0.0:
        return -1.0
    return u  # 0.0 or NaN


@numba.njit(error_model="numpy", inline="always")
def _heaviside(u: float, at_zero: float) -> float:
    if u > 0.0:
        return 1.0
    if u < 0.0:
        return 0.0
    return at_zero if u == 0.0 else u


@numba.njit(error_model="numpy", inline="always")
def _expit_e(u: float, e: float, r: float) -> float:
    """expit(u) given e = exp(-|u|) and r = 1/(1 + e) (branch-free select)."""
    return (1.0 if u >= 0.0 else e) * r


@numba.njit(error_model="numpy", inline="always")
def _softplus_e(u: float, e: float, w: float, r: float) -> float:
    """log(1 + exp(u)) = max(u, 0) + log1p(e), given e = exp(-|u|), w = 1 + e, r = 1/w.

    ``log(w)`` plus the first-order correction for the rounding of ``w = 1 + e`` equals
    ``log1p(e)`` within one ulp, and costs half as much as ``log1p`` (``r`` is shared with
    ``expit``).
    """
    return max(u, 0.0) + (math.log(w) - ((w - 1.0) - e) * r)


_HELPERS = {
    "_expit": _expit, "_softplus": _softplus, "_logaddexp": _logaddexp, "_expit_e": _expit_e, "_softplus_e": _softplus_e, "_maximum": _maximum, "_minimum": _minimum,
    "_sign": _sign, "_heaviside": _heaviside,
}


_SALT: list[str] = []


def exec_numba_source(source: str) -> dict[str, Any]:
    """Execute generated kernel source with numba and the scalar helpers in scope, as a
    module cached on disk (:func:`symcalc._kernel_cache.load`)."""
    if not _SALT:  # the helpers the kernels call are part of what a cache entry depends on
        _SALT.append("helpers " + hashlib.sha256(Path(__file__).read_bytes()).hexdigest())
    import scipy  # the NumPy code of a block Hessian may call scipy.special

    scope = {"math": math, "numpy": np, "scipy": scipy, "numba": numba, "_full": full,
             "_logsumexp": logsumexp, **_HELPERS}
    return _cache_load(source, scope, salt=_SALT[0]).__dict__


def _signature(ndims: tuple[int, ...]) -> Any:
    """``f(theta, cols, n, b0, b1, parts)``: C-contiguous float64 columns of ``ndims``
    dimensions (the row axis and a block's own axes)."""
    arr = numba.types.float64[::1]
    kinds = [numba.types.Array(numba.types.float64, nd, "C") for nd in ndims]
    if not kinds:
        cols = numba.types.Tuple(())
    elif len(set(kinds)) == 1:
        cols = numba.types.UniTuple(kinds[0], len(kinds))
    else:
        cols = numba.types.Tuple(kinds)
    intp = numba.types.intp
    return numba.types.none(arr, cols, intp, intp, intp, numba.types.float64[:, ::1])


def compile_kernel(fn: Any, ndims: tuple[int, ...]) -> bool:
    """Make kernel ``fn`` callable for data columns of these dimensions (1 per scalar symbol,
    2 per vector block, ...); True when it came from the disk cache. Its machine code is
    linked from the cache without numba's compiler where it can be (:mod:`symcalc._native`),
    else loaded from numba's own cache or compiled."""
    key = (fn, ndims)
    if key not in _ENTRIES:
        native = _native_load(fn, ndims)
        if native is not None:
            _ENTRIES[key] = (native, True)
        elif (native := _native_build(fn, ndims)) is not None:
            _ENTRIES[key] = (native, False)
        else:
            _ENTRIES[key] = (fn, _cache_compile(fn, _signature(ndims)))
    return _ENTRIES[key][1]


#: (kernel, ndims) -> (what to call: its native entry or the numba dispatcher, from the cache)
_ENTRIES: dict[tuple[Any, tuple[int, ...]], tuple[Any, bool]] = {}
_RUNNERS: dict[Any, BlockRunner] = {}  # by symcalc.codegen.kernel.Kernel


def run_kernel(kernel: Any, theta: np.ndarray, cols: tuple[np.ndarray, ...], n: int
               ) -> np.ndarray:
    """Row sums of a numba kernel: serial or threaded, per call (see :mod:`symcalc._threads`)."""
    runner = _RUNNERS.get(kernel)
    cols = tuple(np.ascontiguousarray(c, dtype=np.float64) for c in cols)
    if runner is None:  # first use in this process (e.g. on a Dask worker): compile or load
        fn, ndims = kernel.function(), tuple(c.ndim for c in cols)
        compile_kernel(fn, ndims)
        runner = _RUNNERS[kernel] = BlockRunner(_ENTRIES[fn, ndims][0], kernel.outputs,
                                                kernel.rows, kernel.threads)
    return runner(np.ascontiguousarray(theta, dtype=np.float64), cols, n)


class NumbaEmitter:
    """Emits fused numba kernels (``loss.compile(backend="numba")``).

    Same methods, results and errors as the NumPy backend (equal within about 1e-12
    relative: only the summation order differs). The value+gradient kernel is compiled when
    the loss is (or loaded from the on-disk cache, see :mod:`symcalc._kernel_cache`); the
    value-only and Hessian kernels on first use (logged at INFO), or up front with
    ``compile(hessian=True)``. ``compile_time`` itemizes what was built.

    Parameters
    ----------
    block_rows : int, optional
        Rows per block (default :data:`DEFAULT_BLOCK_ROWS`); blocks are the unit of work
        threads share, and their sums are added in a fixed order.
    threads : int, optional
        At most this many threads per call (default: every core this process may use). Each
        call runs serial unless its work is big enough to gain from threads.

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> w, x = sp.symbols("w x")
    >>> f = sc.Loss((w * x - 1) ** 2, params=[w], data=[x]).compile(backend="numba")
    >>> f.value_and_grad([2.0], {"x": [1.0, 0.5]})
    (0.5, array([1.]))
    """

    backend = "numba"

    def __init__(self, block_rows: int | None = None, threads: int | None = None) -> None:
        self.rows = (
            DEFAULT_BLOCK_ROWS if block_rows is None
            else check_int(block_rows, "block_rows", minimum=1)
        )
        self.threads = None if threads is None else check_int(threads, "threads", minimum=1)

    def kernel_options(self) -> dict[str, Any]:
        """What every kernel handle of this emitter carries (see :class:`.kernel.Kernel`)."""
        return {"threads": self.threads}

    def prepare(self, fn: Any, data: Any) -> bool:
        """Compile a kernel for the program's data inputs (or load it from the disk cache);
        True when it was loaded."""
        return compile_kernel(fn, tuple(1 + len(d.shape) for d in data))

    def fused(self, program: Program, order: int = 1) -> bool:
        """Fused loops, except the Hessian of a program with blocks (NumPy/BLAS in chunks)."""
        return not (program.blocks and order >= 2)

    def emit(self, tag: str, program: Program, kernels: dict[str, int]) -> tuple[str, dict[str, Any]]:
        """Generate and execute the kernels ``_<name>`` (compiled by :meth:`prepare`)."""
        chunks = []
        for k, order in kernels.items():
            sub = program.select(order)
            if program.blocks and order >= 2:  # the Hessian blocks: BLAS on chunks
                chunks.append(emit_block_function(f"_{k}", sub, order))
            elif program.blocks:
                chunks.append(emit_block_kernel(f"_{k}", sub, order, self.rows))
            else:
                outs = [sub.cse.outputs[o.index] for o in sub.outputs]
                params = [p.symbol for p in program.params]
                data = [d.symbol for d in program.data]
                chunks.append(emit_kernel(f"_{k}", program.cse, outs, params, data, self.rows))
        source = "\n\n\n".join(chunks) + "\n"
        return source, exec_numba_source(source)
