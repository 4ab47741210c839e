"""The one compile path: stable rewrites, one CSE pass, generated NumPy code, CompiledLoss.

Every consumer (optimizers, convergence checks, the neural-network module) evaluates losses
through :class:`CompiledLoss`. The generated module is kept as text (``CompiledLoss.source``)
and registered with :mod:`linecache`, so tracebacks show the generated lines.

How a loss is compiled
----------------------
1. :func:`symcalc._stable.stabilize` rewrites the per-sample loss into overflow-free
   functions (``logaddexp``, ``expit``, ``log1p``, ...); gradients derived from the rewritten
   form are stable too.
2. Value, gradient and (on first use) the upper triangle of the Hessian go through ONE
   common-subexpression pass (SymEngine's ``cse`` when the optional ``symengine`` is installed,
   else :func:`sympy.cse`), so ``value_and_grad`` costs little more than ``value``. Every
   backend emits its code from this same pass: the NumPy emitter here, the fused numba
   emitter in :mod:`symcalc._numba` (``backend="numba"``).
3. Each output is reduced over the rows inside the generated code: a term linear in two
   data-dependent factors becomes ``numpy.dot``, a term that does not depend on the data is
   multiplied by the row count (so ``2*b`` summed over N rows is ``N*2*b``).
4. Rows are processed in chunks of ``chunk_rows`` (:data:`DEFAULT_CHUNK_ROWS` by default),
   which bounds the extra memory of one call however large N is (each temporary is one
   chunk long: about ``chunk_rows * 8 bytes * (live temporaries)``), and keeps the
   temporaries in cache. The fused numba kernels need no temporaries at all.
5. Data given as Dask collections is evaluated blockwise (:mod:`symcalc._dask`): each block
   goes through the same kernel, and the blocks' partial sums are added.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import scipy.special
import sympy as sp
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.simplify.cse_main import tree_cse

from ._stable import stabilize
from ._validate import as_float_array, as_theta, bind_data, check_equal_lengths, check_int
from .errors import MissingDependencyError, NonFiniteError, SymcalcError

if TYPE_CHECKING:  # pragma: no cover
    from .loss import Loss

__all__ = [
    "CompiledLoss",
    "PreparedData",
    "ElementwiseFunction",
    "compile_elementwise",
    "compile_loss",
    "BACKENDS", "DEFAULT_CHUNK_ROWS"]

BACKENDS = ("numpy", "numba")
#: Rows per chunk when not given: about 256 KiB per temporary column, inside L2 cache.
DEFAULT_CHUNK_ROWS = 32768
_FULL_CSE_NODES = 20_000  # above this many tree nodes, the cheaper tree CSE is used
_MAX_FLAT_ARGS = 48  # longer sums/products are printed as balanced groups (no deep ASTs)
_counter = itertools.count()


# ------------------------------------------------------------------------------- printing
class _Shallow:
    """Printer mixin: long sums/products printed as balanced groups (no deep Python ASTs)."""

    _print: Callable[[Any], str]

    def _fold(self, fn: str, args: Sequence[sp.Expr]) -> str:
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{fn}({out}, {self._print(a)})"
        return out

    def _print_Add(self, e: sp.Expr, order: str | None = None) -> str:
        if len(e.args) > _MAX_FLAT_ARGS:
            return self._grouped(e.args, " + ")
        # positive terms first, then subtractions: "s - y" is one array operation where
        # SymPy's "-y + s" is two (a negation, then an addition)
        pos = [t for t in e.args if not t.could_extract_minus_sign()]
        neg = [t for t in e.args if t.could_extract_minus_sign()]
        if not pos:
            return super()._print_Add(e, order="none")
        out = " + ".join(self.parenthesize(t, PRECEDENCE["Add"]) for t in pos)
        for t in neg:
            out += " - " + self.parenthesize(-t, PRECEDENCE["Add"])
        return out

    def _print_Mul(self, e: sp.Expr) -> str:
        if len(e.args) <= _MAX_FLAT_ARGS:
            return super()._print_Mul(e)
        return self._grouped(e.args, "*")

    def _grouped(self, args: Sequence[sp.Expr], op: str) -> str:
        parts = [f"({self._print(a)})" for a in args]
        while len(parts) > _MAX_FLAT_ARGS:
            parts = [
                "(" + op.join(parts[i : i + _MAX_FLAT_ARGS]) + ")"
                for i in range(0, len(parts), _MAX_FLAT_ARGS)
            ]
        return "(" + op.join(parts) + ")"


class _Printer(_Shallow, SciPyPrinter):
    """SciPy printer with the stable helper functions (vectorized NumPy code)."""

    def _print_sigmoid(self, e: sp.Expr) -> str:
        return f"scipy.special.expit({self._print(e.args[0])})"

    def _print_softplus(self, e: sp.Expr) -> str:
        return f"numpy.logaddexp(0, {self._print(e.args[0])})"

    def _print_logsumexp(self, e: sp.Expr) -> str:
        args = ", ".join(self._print(a) for a in e.args)
        return f"numpy.logaddexp({args})" if len(e.args) == 2 else f"_logsumexp({args})"

    def _print_Max(self, e: sp.Expr) -> str:
        return self._fold("numpy.maximum", e.args)

    def _print_Min(self, e: sp.Expr) -> str:
        return self._fold("numpy.minimum", e.args)


# ------------------------------------------------------------------------------- codegen
@dataclass
class _CSE:
    """One common-subexpression pass over a list of outputs."""

    assignments: list[tuple[sp.Symbol, sp.Expr]]
    outputs: list[sp.Expr]
    data_dependent: set[sp.Symbol]


def _run_cse(outputs: list[sp.Expr], data_symbols: set[sp.Symbol], prefix: str = "_t") -> _CSE:
    """The one CSE pass every backend's code is generated from (SymEngine's when installed)."""
    from ._symengine import cse as symengine_cse

    # Pull common factors out of sums first (x*s - x*y -> x*(s - y)): one reduction per
    # gradient entry instead of two, and the shared (s - y) becomes one temporary.
    outputs = [_pull_common_factors(o) for o in outputs]
    fast = symengine_cse(outputs, prefix)
    temps = sp.numbered_symbols(prefix)
    if fast is not None:
        assignments, reduced = fast
    elif sum(_node_count(o) for o in outputs) <= _FULL_CSE_NODES:
        assignments, reduced = sp.cse(outputs, symbols=temps, order="none", list=True)
    else:  # big losses: repeated-subtree CSE only (SymPy's Add/Mul matching is superlinear)
        assignments, reduced = tree_cse(outputs, temps, opt_subs={}, order="none")
    dependent = set(data_symbols)
    for sym, rhs in assignments:
        if rhs.free_symbols & dependent:
            dependent.add(sym)
    return _CSE(list(assignments), list(reduced), dependent)


def _pull_common_factors(e: sp.Expr) -> sp.Expr:
    """``x*s - x*y -> x*(s - y)``: factors every term of a top-level sum shares, pulled out.

    A linear-time look at the top level only (``sympy.factor_terms`` does far more and costs
    seconds on a 256-parameter gradient).
    """
    if not e.is_Add:
        return e
    terms = [sp.Mul.make_args(t) for t in e.args]
    common = set(terms[0]).intersection(*terms[1:]) - {sp.S.NegativeOne}
    common = {f for f in common if not f.is_Number}
    if not common:
        return e
    rest = [sp.Mul(*[f for f in t if f not in common]) for t in terms]
    return sp.Mul(*common, sp.Add(*rest))


def _node_count(e: sp.Basic, limit: int = 10**6) -> int:
    count = 0
    for _ in sp.preorder_traversal(e):
        count += 1
        if count >= limit:
            break
    return count


def _needed(cse: _CSE, outputs: list[sp.Expr]) -> list[tuple[sp.Symbol, sp.Expr]]:
    """The assignments that ``outputs`` need (dead-code elimination), in order."""
    need: set[sp.Basic] = set()
    for out in outputs:
        need |= out.free_symbols
    keep = []
    for sym, rhs in reversed(cse.assignments):
        if sym in need:
            keep.append((sym, rhs))
            need |= rhs.free_symbols
    return keep[::-1]


def _reduce_code(e: sp.Expr, dependent: set[sp.Symbol], pr: _Printer) -> str:
    """Code for the sum over the rows of the chunk of the per-row expression ``e``."""
    if not (e.free_symbols & dependent):
        return "0.0" if e == 0 else f"_n*({pr.doprint(e)})"
    if e.is_Add:
        const = [t for t in e.args if not (t.free_symbols & dependent)]
        terms = [t for t in e.args if t.free_symbols & dependent]
        if len(terms) > 8:  # many terms: one pass over their sum beats one pass per term
            parts = [f"numpy.sum({pr.doprint(sp.Add(*terms))})"]
        else:
            parts = [_reduce_code(t, dependent, pr) for t in terms]
        if const:
            parts.append(f"_n*({pr.doprint(sp.Add(*const))})")
        return " + ".join(parts)
    if e.is_Mul:
        scal = [f for f in e.args if not (f.free_symbols & dependent)]
        arrs = [f for f in e.args if f.free_symbols & dependent]
        lead = f"({pr.doprint(sp.Mul(*scal))})*" if scal else ""
        if len(arrs) == 1:
            return f"{lead}numpy.sum({pr.doprint(arrs[0])})"
        left = pr.doprint(sp.Mul(*arrs[:-1]))
        return f"{lead}numpy.dot({left}, {pr.doprint(arrs[-1])})"
    return f"numpy.sum({pr.doprint(e)})"


def _identifiers(symbols: Sequence[sp.Symbol], prefix: str) -> dict[sp.Symbol, sp.Symbol]:
    """Readable, valid Python names for user symbols (original name when it is safe)."""
    out = {}
    for i, s in enumerate(symbols):
        name = s.name
        ok = name.isidentifier() and not keyword.iskeyword(name) and name.isascii()
        ok = ok and not name.startswith("_") and name not in {"numpy", "scipy", "math"}
        out[s] = sp.Symbol(name if ok else f"_{prefix}{i}")
    return out


def _emit_function(
    name: str,
    cse: _CSE,
    outputs: list[sp.Expr],
    params: Sequence[sp.Symbol],
    data: Sequence[sp.Symbol],
    *,
    reduce: bool = True,
) -> str:
    pr = _Printer({"fully_qualified_modules": True, "allow_unknown_functions": False})
    lines = [f"def {name}(_theta, _cols, _n):"]
    if params:
        lines.append(f"    {', '.join(p.name for p in params)}, = _theta")
    if data:
        lines.append(f"    {', '.join(d.name for d in data)}, = _cols")
    for sym, rhs in _needed(cse, outputs):
        lines.append(f"    {sym.name} = {pr.doprint(rhs)}")
    if reduce:
        reduced = [_reduce_code(o, cse.data_dependent, pr) for o in outputs]
    else:  # elementwise: broadcast every output to the row shape
        reduced = [
            pr.doprint(o) if o.free_symbols & cse.data_dependent else f"_full(_n, {pr.doprint(o)})"
            for o in outputs
        ]
    lines.append("    return (")
    lines += [f"        {r}," for r in reduced]
    lines.append("    )")
    return "\n".join(lines)


def _full(n: Any, v: float) -> np.ndarray:
    return np.full(n, v, dtype=np.float64)


def _logsumexp(*xs: Any) -> Any:
    """``log(sum(exp(x)))`` of several arrays, with their elementwise maximum subtracted."""
    top = xs[0]
    for x in xs[1:]:
        top = np.maximum(top, x)
    shift = np.where(np.isfinite(top), top, 0.0)
    total = sum(np.exp(x - shift) for x in xs)
    return shift + np.log(total)


def _exec_source(source: str, tag: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    filename = f"<symcalc-generated-{tag}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {
        "numpy": np,
        "scipy": scipy,
        "math": __import__("math"),
        "_full": _full,
        "_logsumexp": _logsumexp,
        **(extra or {}),
    }
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace


def _overflow_error(exc: OverflowError) -> NonFiniteError:
    """Python-float constants of the generated code (e.g. ``math.pi**4000``) raise
    OverflowError instead of giving inf: report that as a NonFiniteError."""
    return NonFiniteError(f"a constant in the loss overflows float64 ({exc}); rescale the formula")


def _sum_chunks(fn: Callable[..., tuple], theta: np.ndarray, cols: Sequence[np.ndarray], n: int,
                step: int) -> np.ndarray:
    """Run a NumPy kernel over the rows in chunks of ``step`` and add the partial sums."""
    with np.errstate(all="ignore"):
        if n <= step:
            return np.asarray(fn(theta, tuple(cols), n), dtype=np.float64)
        total = None
        for lo in range(0, n, step):
            part_cols = tuple(c[lo : lo + step] for c in cols)
            part = np.asarray(fn(theta, part_cols, len(part_cols[0])), dtype=np.float64)
            total = part if total is None else total + part
        return total


#: Generated sources already executed in this process, by (backend, source).
_NAMESPACES: dict[tuple[str, str], dict[str, Any]] = {}


@dataclass(frozen=True)
class _Kernel:
    """A picklable handle on one generated kernel: ``run(theta, cols, n)`` -> row sums.

    Only the source text travels (e.g. to Dask workers in other processes); it is executed
    (and, for numba, compiled) once per process on first use.
    """

    backend: str
    source: str
    name: str
    rows: int  # chunk rows (numpy) or block rows (numba)

    def function(self) -> Callable[..., Any]:
        key = (self.backend, self.source)
        if key not in _NAMESPACES:
            if self.backend == "numba":
                from ._numba import exec_numba_source

                _NAMESPACES[key] = exec_numba_source(self.source)
            else:
                _NAMESPACES[key] = _exec_source(self.source, "kernel")
        return _NAMESPACES[key][self.name]

    def __call__(self, theta: np.ndarray, cols: Sequence[np.ndarray], n: int) -> np.ndarray:
        fn = self.function()
        if self.backend == "numba":
            cols = tuple(np.ascontiguousarray(c, dtype=np.float64) for c in cols)
            return fn(np.ascontiguousarray(theta), cols, n)
        return _sum_chunks(fn, theta, cols, n, self.rows)


# ------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class PreparedData:
    """Data columns already converted to contiguous float64 arrays for one CompiledLoss.

    Made by :meth:`CompiledLoss.prepare`; passing it instead of a raw mapping skips the
    conversion on every call (optimizers do this once per run).
    """

    columns: tuple[np.ndarray, ...]
    n: int

    def take(self, index: np.ndarray) -> PreparedData:
        """The rows ``index`` (a mini-batch)."""
        return PreparedData(tuple(c[index] for c in self.columns), len(index))


def _is_dask(x: Any) -> bool:
    """Whether ``x`` is a Dask collection (checked without importing Dask)."""
    return type(x).__module__.startswith(("dask.", "dask_expr")) and hasattr(x, "__dask_graph__")


def _is_dask_data(x: Any) -> bool:
    return type(x).__name__ == "DaskData" and type(x).__module__ == "symcalc._dask"


# ------------------------------------------------------------------------------- compiled loss
class CompiledLoss:
    """Value, gradient and Hessian of a :class:`~symcalc.Loss` as fast NumPy functions.

    Made by ``loss.compile()``; do not construct directly. All methods take ``theta`` (1-D
    array in ``params`` order, or ``{Symbol or name: float}``) and ``data``
    (``{Symbol or name: 1-D array}``, a pandas DataFrame, or a :class:`PreparedData`;
    omitted when the loss has no data symbols).

    Attributes
    ----------
    source : str
        The generated Python source (value, value+gradient, and Hessian once compiled).
    rewrites : list of str
        The numerically stable rewrites that fired.
    compile_time : float
        Seconds spent deriving and generating code (Hessian excluded until it is built).

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> w, x = sp.symbols("w x")
    >>> f = sc.Loss(sp.log(1 + sp.exp(-w*x)), params=[w], data=[x]).compile()
    >>> f.rewrites
    ['log(1 + exp(u)) -> logaddexp(0, u)']
    >>> float(f.value([1000.0], {x: [-1.0]}))
    1000.0
    """

    backend = "numpy"

    def __init__(self, loss: Loss, *, chunk_rows: int | None = None) -> None:
        start = time.perf_counter()
        self.loss = loss
        self.params = loss.params
        self.data_symbols = loss.data
        self.reduce = loss.reduce
        self.chunk_rows = (
            DEFAULT_CHUNK_ROWS if chunk_rows is None else check_int(chunk_rows, "chunk_rows", minimum=1)
        )
        # One derivation serves display and compilation: the exact gradient is rewritten
        # into stable functions, and the Hessian is later derived from the stable gradient
        # (whose derivatives, e.g. expit' = expit(u)*expit(-u), stay stable).
        stable, self.rewrites = stabilize([loss.expr, *loss.gradient()])
        self._expr, self._grad = stable[0], stable[1:]
        self._pnames = _identifiers(self.params, "p")
        self._dnames = _identifiers(self.data_symbols, "d")
        self._kernels: dict[str, Callable[..., Any]] = {}
        self._runners: dict[str, _Kernel] = {}
        self._sources: dict[str, str] = {}
        self._build("first", [self._expr, *self._grad], {"value": 1, "value_and_grad": None})
        self.compile_time = time.perf_counter() - start

    # -------------------------------------------------------------- generation
    def _renamed(self, outputs: list[sp.Expr]) -> list[sp.Expr]:
        rename = {k: v for k, v in {**self._pnames, **self._dnames}.items() if k != v}
        outs = [sp.sympify(o) for o in outputs]
        if rename:  # (xreplace rebuilds every node when a rule fires, even to an equal symbol)
            outs = [o.xreplace(rename) for o in outs]
        return outs

    def _build(self, tag: str, outputs: list[sp.Expr] | _CSE, kernels: dict[str, int | None]) -> None:
        """One CSE pass over ``outputs`` (or a finished one), then one generated function per
        kernel, each returning the row sums of the first ``count`` outputs (all when None)."""
        if isinstance(outputs, _CSE):
            cse = outputs
        else:
            cse = _run_cse(self._renamed(outputs), set(self._dnames.values()))
            self._first_cse = cse
        params = [self._pnames[p] for p in self.params]
        data = [self._dnames[d] for d in self.data_symbols]
        selected = {k: (cse.outputs if c is None else cse.outputs[:c]) for k, c in kernels.items()}
        try:
            source, namespace = self._emit(tag, cse, selected, params, data)
        except PrintMethodNotImplementedError as exc:
            what = str(exc).splitlines()[0].rsplit(": ", 1)[-1]
            raise SymcalcError(
                f"the {self.backend} backend cannot generate code for {what} in the loss or its "
                "derivatives; unevaluated derivatives and re()/im() usually come from Abs or "
                "sign of complex symbols: declare them real, e.g. sympy.Symbol('w', real=True)"
            ) from None
        for kname in kernels:
            self._kernels[kname] = namespace[f"_{kname}"]
            self._runners[kname] = _Kernel(self.backend, source, f"_{kname}", self._rows())
        _NAMESPACES[(self.backend, source)] = namespace
        self._sources[tag] = source

    def _rows(self) -> int:
        return self.chunk_rows

    def _emit(
        self, tag: str, cse: _CSE, kernels: dict[str, list[sp.Expr]],
        params: list[sp.Symbol], data: list[sp.Symbol],
    ) -> tuple[str, dict[str, Any]]:
        """Generate and execute the source of the kernels (the NumPy emitter)."""
        chunks = [_emit_function(f"_{k}", cse, outs, params, data) for k, outs in kernels.items()]
        source = "\n\n\n".join(chunks) + "\n"
        return source, _exec_source(source, tag)

    def _build_hessian(self) -> None:
        from ._symengine import derivatives

        p = len(self.params)
        upper = [d for i in range(p) for d in derivatives(self._grad[i], self.params[i:])]
        upper, fired = stabilize(upper)
        self.rewrites = sorted(set(self.rewrites) | set(fired))
        # Continue the first CSE pass rather than starting over: the value and gradient the
        # Hessian kernel returns are then computed by the very same code as value_and_grad
        # (bit-identical, which Newton's stopping tests rely on), and the Hessian reuses the
        # first pass's temporaries (``_t``) where its entries contain them.
        first = self._first_cse
        expanded: dict[sp.Symbol, sp.Expr] = {}
        for sym, rhs in first.assignments:
            expanded[sym] = rhs.xreplace(expanded)
        known = {rhs: sym for sym, rhs in expanded.items()}
        for sym, rhs in expanded.items():  # expit' = expit(u)*expit(-u): -u is common too
            if rhs.is_Add:
                known.setdefault(-rhs, -sym)
        upper = [h.xreplace(known) for h in self._renamed(upper)]
        more = _run_cse(upper, set(first.data_dependent), prefix="_h")
        self._build(
            "hessian",
            _CSE(first.assignments + more.assignments, first.outputs + more.outputs,
                 first.data_dependent | more.data_dependent),
            {"hessian": None},
        )

    @property
    def source(self) -> str:
        """The generated source code of every kernel built so far."""
        return "\n\n".join(self._sources.values())

    # -------------------------------------------------------------- inputs
    def prepare(self, data: Any = None) -> PreparedData:
        """Convert and check ``data`` once (float64, equal lengths, non-empty)."""
        if isinstance(data, PreparedData) or _is_dask_data(data):
            return data
        if not self.data_symbols:
            return PreparedData((), 1)
        raw = bind_data(data, self.data_symbols)
        if any(_is_dask(c) for c in raw):
            from ._dask import prepare_dask

            return prepare_dask(raw, self.data_symbols)
        cols = {}
        for sym, col in zip(self.data_symbols, raw):
            arr = as_float_array(col, f"data[{sym.name!r}]", finite=False)
            cols[sym.name] = np.ascontiguousarray(arr)
        n = check_equal_lengths(cols)
        return PreparedData(tuple(cols.values()), n)

    def _theta(self, theta: Any) -> np.ndarray:
        return as_theta(theta, self.params)

    # -------------------------------------------------------------- evaluation core
    def _evaluate(self, kernel: str, theta: np.ndarray, data: PreparedData) -> np.ndarray:
        # the optimizers' hot path: plain try/except and in-place scaling keep the per-call
        # overhead small next to a kernel over a few thousand rows
        run = self._runners[kernel]
        try:
            if isinstance(data, PreparedData):
                total, n = run(theta, data.columns, data.n), data.n
            else:  # Dask collections: partial sums per block, combined
                from ._dask import evaluate_blocks

                total, n = evaluate_blocks(run, theta, data)
        except OverflowError as exc:
            raise _overflow_error(exc) from None
        if self.reduce == "mean" and self.data_symbols:
            total /= n
        if not np.isfinite(total).all():
            self._explain_nonfinite(data)
        return total

    def _explain_nonfinite(self, data: PreparedData) -> None:
        """Raise when a non-finite result comes from non-finite data; else let it through."""
        if not isinstance(data, PreparedData):
            return  # Dask: each block's data was already checked where its result was non-finite
        for sym, col in zip(self.data_symbols, data.columns):
            bad = ~np.isfinite(col)
            if bad.any():
                i = int(np.argmax(bad))
                raise NonFiniteError(
                    f"data[{sym.name!r}] contains {col[i]} at row {i}; finite numbers are "
                    "required (drop or impute missing values first)"
                )

    def evaluate(self, theta: Any, data: Any = None, *, order: int = 1) -> np.ndarray:
        """Value (order 0), value+gradient (order 1) or value+gradient+Hessian-upper (2), as
        one flat array. The fast path used by optimizers; most users want the named methods.
        """
        th = theta if isinstance(theta, np.ndarray) and theta.dtype == np.float64 and theta.ndim == 1 and len(theta) == len(self.params) else self._theta(theta)
        prepared = self.prepare(data)
        if order == 0:
            return self._evaluate("value", th, prepared)
        if order == 1:
            return self._evaluate("value_and_grad", th, prepared)
        if "hessian" not in self._kernels:
            self._build_hessian()
        return self._evaluate("hessian", th, prepared)

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
            self._raise_nan(th, out, lo + int(np.argmax(nan)))
        return out

    def _raise_nan(self, theta: np.ndarray, out: np.ndarray, i: int) -> None:
        p = len(self.params)
        names = [s.name for s in self.params]
        if i == 0:
            what = "the loss value"
        elif i <= p:
            what = f"the gradient entry d/d{names[i - 1]}"
        else:
            r, c = np.triu_indices(p)
            what = f"the Hessian entry ({names[r[i - 1 - p]]}, {names[c[i - 1 - p]]})"
        at = ", ".join(f"{n}={v:.6g}" for n, v in zip(names, theta))
        raise NonFiniteError(
            f"{what} is NaN at theta ({at}) on this data: the loss is undefined there (e.g. "
            "log or sqrt of a negative number, 0/0 or inf - inf); choose parameters (or data) "
            "where it is defined"
        )

    def value(self, theta: Any, data: Any = None) -> float:
        """The total loss (mean or sum over rows) at ``theta``.

        Raises :class:`~symcalc.errors.NonFiniteError` when it is NaN; ``+-inf`` is returned.
        """
        return float(self._checked(theta, data, 0, 0, 1)[0])

    def grad(self, theta: Any, data: Any = None) -> np.ndarray:
        """The gradient, shape ``(len(params),)`` (NaN entries raise NonFiniteError)."""
        return self._checked(theta, data, 1, 1)[1:]

    def value_and_grad(self, theta: Any, data: Any = None) -> tuple[float, np.ndarray]:
        """Value and gradient from one pass over the data."""
        out = self._checked(theta, data, 1)
        return float(out[0]), out[1:]

    def hessian(self, theta: Any, data: Any = None) -> np.ndarray:
        """The symmetric Hessian, shape ``(p, p)`` (compiled on first use)."""
        out = self._checked(theta, data, 2, 1 + len(self.params))
        return self._unpack_hessian(out)[2]

    def value_grad_hessian(self, theta: Any, data: Any = None) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient and Hessian from one pass (what Newton's method needs)."""
        return self._unpack_hessian(self._checked(theta, data, 2))

    def _unpack_hessian(self, out: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        p = len(self.params)
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


class ElementwiseFunction:
    """Several expressions of the same arguments compiled into one vectorized function.

    Made by :func:`compile_elementwise`. Calling it with one array (or scalar) per argument
    returns a tuple with one float64 array per expression, each broadcast to the arguments'
    shape. The outputs share one CSE pass, so e.g. ``tanh(z)`` and its derivative
    ``1 - tanh(z)**2`` evaluate ``tanh`` once. ``source`` shows the generated code.
    """

    def __init__(self, exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol]) -> None:
        exprs = [sp.sympify(e) for e in exprs]
        self.exprs = tuple(exprs)
        self.args = tuple(args)
        stable, self.rewrites = stabilize(list(exprs))
        names = _identifiers(self.args, "a")
        outs = [e.xreplace(names) for e in stable]
        cse = _run_cse(outs, set(names.values()))
        self.source = _emit_function(
            "_elementwise", cse, cse.outputs, [], [names[a] for a in self.args], reduce=False
        ) + "\n"
        self._fn = _exec_source(self.source, "elementwise")["_elementwise"]

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        if len(arrays) != len(self.args):
            raise SymcalcError(
                f"expected {len(self.args)} argument(s) ({', '.join(a.name for a in self.args)}); "
                f"got {len(arrays)}"
            )
        cols = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
        with np.errstate(all="ignore"):
            return tuple(np.asarray(o, dtype=np.float64) for o in self._fn((), cols, cols[0].shape))

    def __repr__(self) -> str:
        return f"ElementwiseFunction({list(self.exprs)}, args={list(self.args)})"


def compile_elementwise(exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol]) -> ElementwiseFunction:
    """Compile expressions into one vectorized NumPy function of ``args`` (no reduction).

    This is the compile path's elementwise mode, used for activation functions and their
    derivatives in :mod:`symcalc.nn`. The same stable rewrites and CSE apply.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> f = compile_elementwise([sp.tanh(z), sp.diff(sp.tanh(z), z)], [z])
    >>> [round(float(v), 6) for v in f([0.5])[1]]
    [0.786448]
    """
    if not args:
        raise SymcalcError("compile_elementwise needs at least one argument symbol")
    return ElementwiseFunction(exprs, args)


def compile_loss(loss: Loss, *, backend: str = "numpy", **options: Any) -> CompiledLoss:
    """Compile a :class:`~symcalc.Loss` (what ``loss.compile()`` calls).

    Parameters
    ----------
    loss : Loss
    backend : {"numpy", "numba"}
        ``"numpy"`` (default) generates chunked NumPy code; ``"numba"`` (extra
        ``symcalc[fast]``) a fused parallel loop.
    chunk_rows : int, optional
        NumPy backend: rows per evaluation chunk (default :data:`DEFAULT_CHUNK_ROWS`).
    block_rows : int, optional
        numba backend: rows per parallel block (default 4096).

    Raises
    ------
    MissingDependencyError
        ``backend="numba"`` without numba installed (``pip install 'symcalc[fast]'``).
    """
    if backend == "numpy":
        return CompiledLoss(loss, **options)
    if backend == "numba":
        try:
            from ._numba import NumbaCompiledLoss
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError(
                f"backend='numba' needs numba: pip install 'symcalc[fast]' ({exc})"
            ) from None
        return NumbaCompiledLoss(loss, **options)
    raise SymcalcError(f"backend must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}")
