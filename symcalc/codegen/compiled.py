"""CompiledLoss: value, gradient and Hessian of a Loss as fast generated code.

Every consumer (optimizers, convergence checks, the neural-network module) evaluates losses
through :class:`CompiledLoss`. The generated module is kept as text (``CompiledLoss.source``)
and registered with :mod:`linecache`, so tracebacks show the generated lines.

How a loss is compiled
----------------------
1. :func:`symcalc.codegen.stable.stabilize` rewrites the per-sample loss into overflow-free
   functions (``logaddexp``, ``expit``, ``log1p``, ...); gradients derived from the rewritten
   form are stable too.
2. Value, gradient and (on first use) the upper triangle of the Hessian go through ONE
   common-subexpression pass (:func:`symcalc.codegen.ir.run_cse`), so ``value_and_grad``
   costs little more than ``value``. Every backend emits its code from this same pass: the
   NumPy emitter (:mod:`symcalc.codegen.emit_numpy`) or the fused numba emitter
   (:mod:`symcalc.codegen.emit_numba`, ``backend="numba"``).
3. Each output is reduced over the rows inside the generated code (see
   :func:`symcalc.codegen.emit_numpy.reduce_code`).
4. Rows are processed in chunks of ``chunk_rows`` (:data:`DEFAULT_CHUNK_ROWS` by default),
   which bounds the extra memory of one call however large N is (each temporary is one
   chunk long: about ``chunk_rows * 8 bytes * (live temporaries)``), and keeps the
   temporaries in cache. The fused numba kernels need no temporaries at all.
5. Data given as Dask collections is evaluated blockwise
   (:mod:`symcalc.codegen.dask_blocks`): each block goes through the same kernel, and the
   blocks' partial sums are added.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np
from sympy.printing.codeprinter import PrintMethodNotImplementedError

from .._compile_time import CompileTime
from .._layout import ParamLayout, as_data_column, block_shape
from .._nonfinite import diagnose
from .._safety import check_expression
from .._validate import (bind_data, check_equal_lengths, check_int, describe, first_nonfinite,
                         nonfinite_entry)
from ..errors import MissingDependencyError, NonFiniteError, SymbolError, SymcalcError
from .build import ProgramBuilder
from .data import PreparedData, is_dask, is_dask_data
from .emit_numpy import NumpyEmitter
from .execution import overflow_error, own
from .ir import Program
from .kernel import Kernel, sum_chunks
from .stable import stabilize

__all__ = ["CompiledLoss", "compile_loss", "setup", "BACKENDS", "DEFAULT_CHUNK_ROWS"]

BACKENDS = ("numpy", "numba")
#: Rows per chunk when not given: about 256 KiB per temporary column, inside L2 cache.
DEFAULT_CHUNK_ROWS = 32768
_log = logging.getLogger("symcalc")

#: Rows per chunk of a loss with data blocks: the block's rows are read twice (the map and its
#: adjoint product), so the chunk must stay in cache, and BLAS calls on small chunks avoid
#: the thread start-up cost of big ones (measured: 0.6-0.9x a hand-written full-array
#: version at 4096 rows, up to 5x slower at 8192-16384 rows on a loaded 2-core machine).
DEFAULT_BLOCK_CHUNK_ROWS = 4096


# ------------------------------------------------------------------------------- compiled loss
class CompiledLoss:
    """Value, gradient and Hessian of a :class:`~symcalc.Loss` as fast NumPy functions.

    Made by ``loss.compile()``; do not construct directly. All methods take ``theta`` (1-D
    array in ``params`` order, blocks flattened row-major, or ``{Symbol or name: value}``
    with an array of the block's shape for a vector/matrix parameter) and ``data``
    (``{Symbol or name: array}``: 1-D per scalar symbol, (N, n) for a data block of length
    n; a pandas DataFrame; or a :class:`PreparedData`; omitted when the loss has no data
    symbols). For a loss with blocks given ``theta`` as a dict, gradients come back as a
    dict keyed the same way.

    Attributes
    ----------
    layout : ParamLayout
        Where each parameter lives in the flat theta (``size`` entries).
    program : Program
        The derived, stabilised, CSE'd program the kernels are printed from (the public IR).
    source : str
        The generated Python source (value, value+gradient, and Hessian once compiled).
    rewrites : list of str
        The numerically stable rewrites that fired.
    compile_time : CompileTime
        Seconds spent compiling: a float (the total) itemized by step, e.g.
        ``f.compile_time["derive"]`` (derivatives, stable rewrites, CSE, code generation),
        ``["value_and_grad"]`` (numba: compiling that kernel, or loading it from the disk
        cache) and ``["hessian"]`` once the Hessian kernel is built. Kernels built on first
        use (the Hessian, numba's value-only kernel) are added when they are built, and
        logged at INFO on the ``"symcalc"`` logger with their time.

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> w, x = sp.symbols("w x")
    >>> f = sc.Loss(sp.log(1 + sp.exp(-w*x)), params=[w], data=[x]).compile()
    >>> f.rewrites[-1]
    'log(1 + exp(u)) -> logaddexp(0, u)'
    >>> float(f.value([1000.0], {x: [-1.0]}))
    1000.0
    """

    def __init__(self, loss: Any, *, backend: str = "numpy", chunk_rows: int | None = None,
                 block_rows: int | None = None, threads: int | None = None,
                 hessian: bool = False) -> None:
        start = time.perf_counter()
        self.loss = loss
        self.params = loss.params
        self.data_symbols = loss.data
        self.reduce = loss.reduce
        self.backend = backend
        self.layout = ParamLayout(self.params)
        self.size = self.layout.size
        default = DEFAULT_BLOCK_CHUNK_ROWS if loss.has_blocks else DEFAULT_CHUNK_ROWS
        self.chunk_rows = (
            default if chunk_rows is None else check_int(chunk_rows, "chunk_rows", minimum=1)
        )
        self._emitter = _emitter(backend, self.chunk_rows, block_rows, threads)
        if backend == "numba":
            self.block_rows = self._emitter.rows
        # One derivation serves display and compilation: the loss is lowered to a scalar core
        # in a few variables (for a loss without blocks: itself, by its parameters), whose
        # exact derivatives (parameters and data taken as real) are rewritten into stable
        # functions; the Hessian is later derived from the stable gradient (whose
        # derivatives, e.g. sigmoid', stay stable).
        derivation = loss.derivation
        lowered = derivation.lowered
        check_expression(lowered.core, "the loss")  # after lowering: blocks become entries
        for r in lowered.reductions:
            if r.function is not None:
                check_expression(r.function.expr, "the loss")
        self._variables = lowered.variables
        stable, self.rewrites = stabilize([lowered.core, *derivation.gradient])
        self._expr, self._grad = stable[0], stable[1:]
        self._builder = ProgramBuilder(lowered, stable[0], stable[1:])
        self.program = self._builder.program()
        self._quiet = 0  # > 0 inside ignoring_fp_warnings()
        self._kernels: dict[str, Callable[..., Any]] = {}
        self._runners: dict[str, Kernel] = {}
        self._sources: dict[str, str] = {}
        self._build("first", self.program, {"value": 0, "value_and_grad": 1})
        self.compile_time = CompileTime({"derive": time.perf_counter() - start})
        self._ready = {"value", "value_and_grad"} if backend == "numpy" else set()
        self._ensure_kernel("value_and_grad")
        if hessian:
            self._ensure_kernel("hessian")

    def _ensure_kernel(self, name: str, *, lazy: bool = False) -> None:
        """Build kernel ``name`` if it is not ready (the Hessian's derivation included) and
        add its time to ``compile_time``; a build on first use is logged at INFO."""
        if name in self._ready:
            return
        start = time.perf_counter()
        if name == "hessian" and "hessian" not in self._kernels:
            self._build_hessian()
        fused = self._runners[name].fused
        cached = fused and self._emitter.prepare(self._kernels[name], self.program.data)
        seconds = time.perf_counter() - start
        self._ready.add(name)
        self.compile_time = self.compile_time.added(name, seconds, cached=cached)
        if lazy:
            names = [p.name for p in self.params]
            _log.info(
                "symcalc: built the %s kernel of the loss in %s (%s backend) on first use in "
                "%.2f s%s", name, ", ".join(names[:4]) + (", ..." if len(names) > 4 else ""),
                self.backend, seconds,
                "; compile(hessian=True) builds it up front" if name == "hessian" else "",
            )

    # -------------------------------------------------------------- generation
    def _build(self, tag: str, program: Program, kernels: dict[str, int]) -> None:
        """One generated function per kernel (name -> derivative order) of ``program``."""
        try:
            source, namespace = self._emitter.emit(tag, program, kernels)
        except PrintMethodNotImplementedError as exc:
            what = str(exc).splitlines()[0].rsplit(": ", 1)[-1]
            raise SymcalcError(
                f"the {self.backend} backend cannot generate code for {what} in the loss or its "
                "derivatives; unevaluated derivatives and re()/im() usually come from Abs or "
                "sign of complex symbols: declare them real, e.g. sympy.Symbol('w', real=True)"
            ) from None
        for kname, order in kernels.items():
            fused = self._emitter.fused(program, order)
            rows = self._emitter.rows if fused else self.chunk_rows
            self._kernels[kname] = namespace[f"_{kname}"]
            self._runners[kname] = Kernel(self.backend, source, f"_{kname}", rows,
                                          program.result_size(order), fused=fused,
                                          **self._emitter.kernel_options())
        own(self, (self.backend, source), namespace)
        self._sources[tag] = source

    def _build_hessian(self) -> None:
        program, fired = self._builder.hessian_program(self._variables)
        self.rewrites = sorted(set(self.rewrites) | set(fired))
        self._build("hessian", program, {"hessian": 2})

    @property
    def source(self) -> str:
        """The generated source code of every kernel built so far, after a comment that
        says which symbol each generated name (``_p0``, ``_d0``, ...) stands for."""
        inputs = (*self.program.params, *self.program.data)
        legend = ", ".join(f"{i.symbol.name} = {ascii(i.label)}" for i in inputs)
        return f"# {legend}\n" + "\n\n".join(self._sources.values())

    # -------------------------------------------------------------- inputs
    def prepare(self, data: Any = None) -> PreparedData:
        """Convert and check ``data`` once (float64, equal lengths, non-empty; a data block
        of length n as a 2-D array of shape (N, n))."""
        if isinstance(data, PreparedData) or is_dask_data(data):
            return data
        if not self.data_symbols:
            return PreparedData((), 1)
        try:
            raw = bind_data(data, self.data_symbols)
        except SymbolError as exc:
            blocks = [d.name for d in self.data_symbols if block_shape(d)]
            if not any(f"symbol {b!r}" in str(exc) for b in blocks):
                raise
            raise SymbolError(f"{exc} (a data block takes an (N, n) array, or DataFrame columns "
                              "through sc.columns(df, x=[...]) or x='*')") from None
        if any(is_dask(c) for c in raw):
            from .dask_blocks import prepare_dask

            return prepare_dask(raw, self.data_symbols)
        cols = {}
        for sym, col in zip(self.data_symbols, raw):
            arr = as_data_column(col, sym)
            row = first_nonfinite(arr)  # refused before any kernel runs, even if the loss
            if row is not None:         # would stay finite (tanh(inf), Heaviside(nan), ...)
                value, where = nonfinite_entry(arr, row)
                raise NonFiniteError(
                    f"data[{sym.name!r}] contains {value} at {where}; finite numbers are "
                    "required (drop or impute missing values first)"
                )
            cols[sym.name] = np.ascontiguousarray(arr)
        n = check_equal_lengths(cols)
        return PreparedData(tuple(cols.values()), n)

    def _theta(self, theta: Any) -> np.ndarray:
        return self.layout.flatten(theta)

    # -------------------------------------------------------------- evaluation core
    def _evaluate(self, kernel: str, theta: np.ndarray, data: PreparedData,
                  quiet: bool = False) -> np.ndarray:
        # the optimizers' hot path: plain try/except and in-place scaling keep the per-call
        # overhead small next to a kernel over a few thousand rows
        if kernel not in self._ready:
            self._ensure_kernel(kernel, lazy=True)
        run = self._runners[kernel]
        try:
            if isinstance(data, PreparedData):
                if run.fused:
                    total = run(theta, data.columns, data.n)
                else:  # (the function itself: one call less than through the handle)
                    total = sum_chunks(self._kernels[kernel], theta, data.columns, data.n,
                                       run.rows, quiet=quiet)
                n = data.n
            else:  # Dask collections: partial sums per block, combined
                from .dask_blocks import evaluate_blocks

                total, n = evaluate_blocks(run, theta, data)
        except OverflowError as exc:
            raise overflow_error(exc) from None
        if self.reduce == "mean" and self.data_symbols:
            total /= n
        if not quiet and not np.isfinite(total).all():  # (quiet: data checked by setup)
            self._explain_nonfinite(data)
        return total

    def _explain_nonfinite(self, data: PreparedData) -> None:
        """Raise when a non-finite result comes from non-finite data; else let it through."""
        if not isinstance(data, PreparedData):
            return  # Dask: each block's data was already checked where its result was non-finite
        for sym, col in zip(self.data_symbols, data.columns):
            bad = ~np.isfinite(col)
            if bad.any():
                at = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), col.shape))
                where = f"row {at[0]}" + (f", column {at[1]}" if col.ndim == 2 else
                                          f", entry {at[1:]}" if col.ndim > 2 else "")
                raise NonFiniteError(
                    f"data[{sym.name!r}] contains {col[at]} at {where}; finite numbers are "
                    "required (drop or impute missing values first)"
                )

    def evaluate(self, theta: Any, data: Any = None, *, order: int = 1) -> np.ndarray:
        """Value (order 0), value+gradient (order 1) or value+gradient+Hessian-upper (2), as
        one flat array (theta flat, blocks row-major). The fast path used by optimizers; most
        users want the named methods.
        """
        fast = isinstance(theta, np.ndarray) and theta.dtype == np.float64 and theta.ndim == 1
        th = theta if fast and len(theta) == self.size else self._theta(theta)
        prepared = self.prepare(data)
        quiet = self._quiet > 0
        if order == 0:
            return self._evaluate("value", th, prepared, quiet)
        if order == 1:
            return self._evaluate("value_and_grad", th, prepared, quiet)
        return self._evaluate("hessian", th, prepared, quiet)

    @contextlib.contextmanager
    def ignoring_fp_warnings(self) -> Iterator[None]:
        """Evaluate under ``numpy.errstate(all="ignore")`` set once for the whole block rather
        than once per call (an optimizer's loop: microseconds per epoch on small data)."""
        with np.errstate(all="ignore"):
            self._quiet += 1
            try:
                yield
            finally:
                self._quiet -= 1

    # -------------------------------------------------------------- public evaluation
    # Policy (no silent NaN): the named methods raise NonFiniteError when a requested
    # quantity is NaN (undefined, e.g. log of a negative number or inf - inf), naming it and
    # theta; +-inf (an overflowed or genuinely infinite loss) is returned as it is. ``evaluate``
    # (the optimizers' fast path) never raises for this: they report divergence instead.
    def _checked(self, theta: Any, data: Any, order: int, lo: int = 0, hi: int | None = None
                 ) -> np.ndarray:
        """``evaluate`` with the NaN check on the requested entries ``out[lo:hi]``."""
        th = self._theta(theta)
        out = self.evaluate(th, data, order=order)
        nan = np.isnan(out[lo:hi])
        if nan.any():
            self._raise_nan(th, out, lo + int(np.argmax(nan)), data)
        return out

    def _nan_hint(self, theta: np.ndarray, data: Any, i: int) -> str | None:
        """symcalc's own share of the blame for a NaN value/gradient entry (_nonfinite);
        losses without blocks only (theta is then the core's own variables)."""
        if self.layout.has_blocks or self.program.blocks:
            return None
        prepared = self.prepare(data)
        if i > len(self.params) or not isinstance(prepared, PreparedData):
            return None
        cols, syms = list(prepared.columns), self.data_symbols
        exact = self.loss.expr if i == 0 else self.loss.derivation.gradient[i - 1]
        stable = self._expr if i == 0 else self._grad[i - 1]
        return diagnose(exact, stable, [*self.params, *syms], theta, cols, lambda a, b: self.evaluate(
            theta, {s: c[a:b] for s, c in zip(syms, cols)} if syms else None, order=min(i, 1))[i])

    def _raise_nan(self, theta: np.ndarray, out: np.ndarray, i: int, data: Any = None) -> None:
        p = self.size
        names = self.layout.entry_names()
        if i == 0:
            what = "the loss value"
        elif i <= p:
            what = f"the gradient entry d/d{names[i - 1]}"
        else:
            r, c = np.triu_indices(p)
            what = f"the Hessian entry ({names[r[i - 1 - p]]}, {names[c[i - 1 - p]]})"
        at = ", ".join(f"{n}={v:.6g}" for n, v in zip(names[:12], theta))
        more = ", ..." if p > 12 else ""
        hint = self._nan_hint(theta, data, i)
        if hint:
            raise NonFiniteError(f"{what} is NaN at theta ({at}{more}) on this data, but {hint}")
        raise NonFiniteError(
            f"{what} is NaN at theta ({at}{more}) on this data: the loss is undefined there (e.g. "
            "log or sqrt of a negative number, 0/0 or inf - inf); choose parameters (or data) "
            "where it is defined"
        )

    def _shaped(self, flat: np.ndarray, theta: Any) -> Any:
        """A gradient in the form ``theta`` came in: a dict for a dict (losses with blocks),
        else the flat vector (scalar losses always return the flat vector)."""
        return self.layout.like(flat, theta) if self.layout.has_blocks else flat

    def value(self, theta: Any, data: Any = None) -> float:
        """The total loss (mean or sum over rows) at ``theta``.

        Raises :class:`~symcalc.errors.NonFiniteError` when it is NaN; ``+-inf`` is returned.
        """
        return float(self._checked(theta, data, 0, 0, 1)[0])

    def grad(self, theta: Any, data: Any = None) -> Any:
        """The gradient: flat, shape ``(size,)`` in ``params`` order (blocks row-major), or
        for a loss with blocks given ``theta`` as a dict, a dict of arrays keyed like it.
        NaN entries raise NonFiniteError."""
        return self._shaped(self._checked(theta, data, 1, 1)[1:], theta)

    def value_and_grad(self, theta: Any, data: Any = None) -> tuple[float, Any]:
        """Value and gradient (in the form of ``theta``, see :meth:`grad`) from one pass."""
        out = self._checked(theta, data, 1)
        return float(out[0]), self._shaped(out[1:], theta)

    def hessian(self, theta: Any, data: Any = None) -> np.ndarray:
        """The symmetric Hessian, shape ``(size, size)`` over the flat theta (blocks row-major),
        compiled on first use."""
        out = self._checked(theta, data, 2, 1 + self.size)
        return self._unpack_hessian(out)[2]

    def value_grad_hessian(self, theta: Any, data: Any = None) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, flat gradient and Hessian from one pass (what Newton's method needs)."""
        return self._unpack_hessian(self._checked(theta, data, 2))

    def _unpack_hessian(self, out: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        p = self.size
        h = np.empty((p, p))
        iu = np.triu_indices(p)
        h[iu] = out[1 + p :]
        h.T[iu] = out[1 + p :]
        return float(out[0]), out[1 : 1 + p], h

    def __repr__(self) -> str:
        return (
            f"CompiledLoss(params={[p.name for p in self.params]}, "
            f"data={[d.name for d in self.data_symbols]}, reduce={self.reduce!r}, "
            f"backend={self.backend!r}, rewrites={len(self.rewrites)})"
        )


def _emitter(backend: str, chunk_rows: int, block_rows: int | None, threads: int | None) -> Any:
    """The code emitter of ``backend`` (numba imported only when asked for)."""
    if backend == "numpy":
        return NumpyEmitter(chunk_rows)
    if backend == "numba":
        try:
            from .emit_numba import NumbaEmitter
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError(
                f"backend='numba' needs numba: pip install 'symcalc[fast]' ({exc})"
            ) from None
        return NumbaEmitter(block_rows, threads)
    raise SymcalcError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}")


def compile_loss(loss: Any, *, backend: str = "numpy", **options: Any) -> CompiledLoss:
    """Compile a :class:`~symcalc.Loss` (what ``loss.compile()`` calls).

    Parameters
    ----------
    loss : Loss
    backend : {"numpy", "numba"}
        ``"numpy"`` (default) generates chunked NumPy code; ``"numba"`` (extra
        ``symcalc[fast]``) a fused loop, compiled once per machine (cached on disk, in
        ``$SYMCALC_CACHE_DIR`` or the user cache folder) and run on threads when a call is
        big enough to gain from them.
    hessian : bool, default False
        Build the Hessian kernel now; otherwise it is built on first use (logged at INFO).
    chunk_rows : int, optional
        NumPy backend: rows per evaluation chunk (default :data:`DEFAULT_CHUNK_ROWS`).
    block_rows : int, optional
        numba backend: rows per block (default 4096).
    threads : int, optional
        numba backend: at most this many threads per call (default: every available core).

    Raises
    ------
    MissingDependencyError
        ``backend="numba"`` without numba installed (``pip install 'symcalc[fast]'``).
    """
    if backend not in BACKENDS:
        raise SymcalcError(
            f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}"
        )
    return CompiledLoss(loss, backend=backend, **options)


def setup(loss: Any, data: Any, x0: Any, backend: str) -> tuple[CompiledLoss, PreparedData, np.ndarray]:
    """Compile ``loss`` (cached by :meth:`Loss.compile`), prepare ``data`` once, resolve ``x0``.

    ``loss`` may be a :class:`~symcalc.Loss` or an already compiled loss; ``x0`` an array in
    parameter order, a ``{Symbol or name: value}`` mapping naming every parameter, or ``None``
    for zeros. (The Loss is recognised by what it offers, not imported: it imports this
    package.)
    """
    if hasattr(loss, "evaluate") and hasattr(loss, "prepare") and hasattr(loss, "params"):
        f = loss
    elif hasattr(loss, "compile") and hasattr(loss, "expr") and hasattr(loss, "params"):
        f = loss.compile(backend=backend)
    else:
        raise SymcalcError(
            f"loss must be a symcalc.Loss (e.g. sc.Loss(expr, params=[...], data=[...])) or a "
            f"compiled loss; got {describe(loss)} of type {type(loss).__name__}"
        )
    x = np.zeros(f.size) if x0 is None else f.layout.flatten(x0, "x0", start=True)
    prepared = f.prepare(data)
    if isinstance(f, CompiledLoss):  # once per run: the loop's calls skip the per-call check
        f._explain_nonfinite(prepared)
    return f, prepared, np.array(x, dtype=np.float64)
