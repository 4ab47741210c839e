"""The fused backend: one parallel numba loop over the rows per kernel (extra ``symcalc[fast]``).

The kernels are generated from the SAME stable rewrites and the SAME CSE pass as the NumPy
backend (:func:`symcalc.codegen.ir.run_cse`); only the emitter differs. Where the NumPy code
materializes one temporary array per subexpression, the fused kernel computes every
subexpression of one row in registers and adds the row's value, gradient (and Hessian upper
triangle) into per-block scalar accumulators: one pass over the data, no temporaries, both
cores busy. Blocks of ``block_rows`` rows are spread over the threads with ``numba.prange``;
each block writes its partial sums into its own row of a ``(blocks, outputs)`` array, so there
are no races, and the blocks' sums are added at the end.

Generated code (``f.source``) for ``log(1 + exp(-y*(w*x + b)))``, value+gradient::

    @numba.njit(parallel=True, fastmath=False, cache=False, error_model="numpy")
    def _value_and_grad(_theta, _cols, _n):
        w = _theta[0]
        b = _theta[1]
        _col0 = _cols[0]
        ...
        for _k in numba.prange(_nb):
            ...
            for _i in range(_lo, _hi):
                x = _col0[_i]
                y = _col1[_i]
                _t0 = -y*(b + w*x)
                _s0 += _softplus(_t0)
                ...
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .._validate import check_int
from ..errors import MissingDependencyError
from .execution import exec_source
from .emit_blocks import emit_block_function
from .ir import CSEPass, Program, needed as needed_assignments
from .printing import ShallowPrinter
from .stable import Expit, LogAddExp0

try:
    import numba
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(
        f"backend='numba' needs numba: pip install 'symcalc[fast]' ({exc})"
    ) from None

__all__ = ["NumbaEmitter", "DEFAULT_BLOCK_ROWS", "exec_numba_source"]

#: Rows per parallel block: big enough to amortize the loop set-up, small enough to balance.
DEFAULT_BLOCK_ROWS = 4096
_JIT = '@numba.njit(parallel={parallel}, fastmath=False, cache=False, error_model="numpy")'


# ------------------------------------------------------------------------------- scalar helpers
@numba.njit(inline="always", error_model="numpy")
def _expit(u: float) -> float:
    if u >= 0.0:
        return 1.0 / (1.0 + math.exp(-u))
    e = math.exp(u)
    return e / (1.0 + e)


@numba.njit(inline="always", error_model="numpy")
def _softplus(u: float) -> float:  # log(1 + exp(u)) = max(u, 0) + log1p(exp(-|u|))
    if u != u:
        return u
    return max(u, 0.0) + math.log1p(math.exp(-abs(u)))


@numba.njit(inline="always", error_model="numpy")
def _logaddexp(a: float, b: float) -> float:  # log(exp(a) + exp(b)) without overflow
    if a == b:  # also +-inf: no inf - inf
        return a + math.log(2.0)
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


@numba.njit(inline="always", error_model="numpy")
def _maximum(a: float, b: float) -> float:  # NaN-propagating, like numpy.maximum
    return a if (a >= b or a != a) else b


@numba.njit(inline="always", error_model="numpy")
def _minimum(a: float, b: float) -> float:
    return a if (a <= b or a != a) else b


@numba.njit(inline="always", error_model="numpy")
def _sign(u: float) -> float:
    if u > 0.0:
        return 1.0
    if u < 0.0:
        return -1.0
    return u  # 0.0 or NaN


@numba.njit(inline="always", error_model="numpy")
def _heaviside(u: float, at_zero: float) -> float:
    if u > 0.0:
        return 1.0
    if u < 0.0:
        return 0.0
    return at_zero if u == 0.0 else u


@numba.njit(inline="always", error_model="numpy")
def _expit_e(u: float, e: float, r: float) -> float:
    """expit(u) given e = exp(-|u|) and r = 1/(1 + e) (branch-free select)."""
    return (1.0 if u >= 0.0 else e) * r


@numba.njit(inline="always", error_model="numpy")
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


class _ExpitE(sp.Function):
    """``Expit(u)`` given ``e = exp(-|u|)`` and ``r = 1/(1 + e)``: one exp per ``|u|``."""

    nargs = 3


class _SoftplusE(sp.Function):
    """``LogAddExp0(u)`` given ``e = exp(-|u|)``, ``w = 1 + e`` and ``r = 1/w``."""

    nargs = 4


def _share_exp(
    needed: list[tuple[sp.Symbol, sp.Expr]], outputs: list[sp.Expr], dependent: set[sp.Symbol]
) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr], set[sp.Symbol]]:
    """Make every ``Expit(±u)``/``LogAddExp0(±u)`` of one ``u`` share ``exp(-|u|)``.

    The logistic loss needs ``softplus(u)`` for its value and ``expit(u)`` for its gradient;
    evaluated separately they cost two ``exp`` per row, here one.
    """
    calls: set[sp.Expr] = set()
    for e in [r for _, r in needed] + outputs:
        calls |= e.atoms(Expit, LogAddExp0)
    if not calls:
        return needed, outputs, dependent
    position = {s: i for i, (s, _) in enumerate(needed)}
    shared: dict[sp.Expr, tuple[sp.Symbol, ...]] = {}
    inserts: dict[int, list[tuple[sp.Symbol, sp.Expr]]] = {}
    swap: dict[sp.Expr, sp.Expr] = {}
    dependent = set(dependent)
    for call in sorted(calls, key=sp.default_sort_key):
        u = call.args[0]
        key = -u if u.could_extract_minus_sign() else u
        if key not in shared:
            k = len(shared)
            e, w, r = shared[key] = sp.symbols(f"_e{k} _w{k} _r{k}")
            after = max((position[s] for s in key.free_symbols if s in position), default=-1)
            inserts.setdefault(after, []).extend(
                [(e, sp.exp(-sp.Abs(key))), (w, 1 + e), (r, 1 / w)]
            )
            if key.free_symbols & dependent:
                dependent |= {e, w, r}
        e, w, r = shared[key]
        swap[call] = _ExpitE(u, e, r) if isinstance(call, Expit) else _SoftplusE(u, e, w, r)
    out = list(inserts.get(-1, []))
    for i, (s, r) in enumerate(needed):
        out.append((s, r.xreplace(swap)))
        out += inserts.get(i, [])
    return out, [o.xreplace(swap) for o in outputs], dependent


class _ScalarPrinter(ShallowPrinter, PythonCodePrinter):
    """Scalar (``math``-module) code that numba compiles; stable helpers for the rewrites."""

    def _print_sigmoid(self, e: sp.Expr) -> str:
        return f"_expit({self._print(e.args[0])})"

    def _print_softplus(self, e: sp.Expr) -> str:
        return f"_softplus({self._print(e.args[0])})"

    def _print_logsumexp(self, e: sp.Expr) -> str:
        # max-subtracted, folded pairwise: log(exp(a) + exp(b)) = m + log1p(exp(-|a - b|))
        return self._fold("_logaddexp", e.args)

    def _print__ExpitE(self, e: sp.Expr) -> str:
        return f"_expit_e({', '.join(self._print(a) for a in e.args)})"

    def _print__SoftplusE(self, e: sp.Expr) -> str:
        return f"_softplus_e({', '.join(self._print(a) for a in e.args)})"

    def _print_Max(self, e: sp.Expr) -> str:
        return self._fold("_maximum", e.args)

    def _print_Min(self, e: sp.Expr) -> str:
        return self._fold("_minimum", e.args)

    def _print_sign(self, e: sp.Expr) -> str:
        return f"_sign({self._print(e.args[0])})"

    def _print_Heaviside(self, e: sp.Expr) -> str:
        at_zero = e.args[1] if len(e.args) > 1 else sp.S.Half
        return f"_heaviside({self._print(e.args[0])}, {self._print(sp.Float(at_zero))})"

    def _print_Abs(self, e: sp.Expr) -> str:
        return f"abs({self._print(e.args[0])})"


def _split(e: sp.Expr, dependent: set[sp.Symbol]) -> tuple[sp.Expr, sp.Expr]:
    """``e`` as (row-dependent part, constant part)."""
    if not (e.free_symbols & dependent):
        return sp.S.Zero, e
    if e.is_Add:
        dep = [t for t in e.args if t.free_symbols & dependent]
        const = [t for t in e.args if not (t.free_symbols & dependent)]
        return sp.Add(*dep), sp.Add(*const)
    return e, sp.S.Zero


def _emit_kernel(
    name: str, cse: CSEPass, outputs: list[sp.Expr], params: list[sp.Symbol],
    data: list[sp.Symbol], block_rows: int,
) -> str:
    pr = _ScalarPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    needed, outputs, dep = _share_exp(needed_assignments(cse, outputs), outputs, cse.data_dependent)
    lines = [_JIT.format(parallel=bool(data)), f"def {name}(_theta, _cols, _n):"]
    lines += [f"    {p.name} = _theta[{i}]" for i, p in enumerate(params)]
    lines += [f"    _col{i} = _cols[{i}]" for i in range(len(data))]
    lines += [f"    {s.name} = {pr.doprint(r)}" for s, r in needed if s not in dep]
    parts = [_split(o, dep) for o in outputs]
    rowwise = [(j, d) for j, (d, _) in enumerate(parts) if d != 0]
    lines.append(f"    _out = numpy.zeros({len(outputs)})")
    if rowwise:
        lines += [
            f"    _nb = (_n + {block_rows - 1}) // {block_rows}",
            f"    _parts = numpy.zeros((_nb, {len(rowwise)}))",
            "    _chunk = numba.set_parallel_chunksize(1)  # one block at a time: balances load",
            "    for _k in numba.prange(_nb):",
            f"        _lo = _k * {block_rows}",
            f"        _hi = min(_lo + {block_rows}, _n)",
        ]
        lines += [f"        _s{k} = 0.0" for k in range(len(rowwise))]
        lines.append("        for _i in range(_lo, _hi):")
        lines += [f"            {d.name} = _col{i}[_i]" for i, d in enumerate(data)]
        lines += [f"            {s.name} = {pr.doprint(r)}" for s, r in needed if s in dep]
        lines += [f"            _s{k} += {pr.doprint(d)}" for k, (_, d) in enumerate(rowwise)]
        lines += [f"        _parts[_k, {k}] = _s{k}" for k in range(len(rowwise))]
        lines.append("    numba.set_parallel_chunksize(_chunk)")
        lines += [f"    _out[{j}] = _parts[:, {k}].sum()" for k, (j, _) in enumerate(rowwise)]
    lines += [f"    _out[{j}] += _n * ({pr.doprint(c)})" for j, (_, c) in enumerate(parts) if c != 0]
    lines.append("    return _out")
    return "\n".join(lines)


def exec_numba_source(source: str) -> dict[str, Any]:
    """Execute generated kernel source with numba and the scalar helpers in scope."""
    return exec_source(source, "numba", {"numba": numba, **_HELPERS})


def _signature(n_data: int) -> Any:
    arr = numba.types.float64[::1]
    cols = numba.types.UniTuple(arr, n_data) if n_data else numba.types.Tuple(())
    return arr(arr, cols, numba.types.intp)


class NumbaEmitter:
    """Emits fused parallel numba kernels (``loss.compile(backend="numba")``).

    Same methods, results and errors as the NumPy backend (equal within about 1e-12
    relative: only the summation order differs); ``compile_time`` includes numba's
    compilation of the value and value+gradient kernels.

    Parameters
    ----------
    block_rows : int, optional
        Rows per parallel block (default :data:`DEFAULT_BLOCK_ROWS`).

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> w, x = sp.symbols("w x")
    >>> f = sc.Loss((w * x - 1) ** 2, params=[w], data=[x]).compile(backend="numba")
    >>> f.value_and_grad([2.0], {"x": [1.0, 0.5]})
    (0.5, array([1.]))
    """

    backend = "numba"

    def __init__(self, block_rows: int | None = None) -> None:
        self.rows = (
            DEFAULT_BLOCK_ROWS if block_rows is None
            else check_int(block_rows, "block_rows", minimum=1)
        )

    def fused(self, program: Program) -> bool:
        """Fused loops for scalar programs; block programs run NumPy/BLAS code in chunks."""
        return not program.blocks

    def emit(self, tag: str, program: Program, kernels: dict[str, int]) -> tuple[str, dict[str, Any]]:
        """Generate, execute and compile (numba) the kernels ``_<name>``."""
        if program.blocks:  # BLAS for the maps: the NumPy block kernels
            chunks = [emit_block_function(f"_{k}", program.select(o), o) for k, o in kernels.items()]
            source = "\n\n\n".join(chunks) + "\n"
            return source, exec_numba_source(source)
        params = [p.symbol for p in program.params]
        data = [d.symbol for d in program.data]
        chunks = []
        for k, order in kernels.items():
            sub = program.select(order)
            outs = [sub.cse.outputs[o.index] for o in sub.outputs]
            chunks.append(_emit_kernel(f"_{k}", program.cse, outs, params, data, self.rows))
        source = "\n\n\n".join(chunks) + "\n"
        namespace = exec_numba_source(source)
        sig = _signature(len(data))
        for k in kernels:  # compile now, so compile_time tells the truth
            namespace[f"_{k}"].compile(sig)
        return source, namespace
