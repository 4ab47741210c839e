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


# ------------------------------------------------------------------------------- block programs
def _block_prologue(prog: Program, pr: _ScalarPrinter) -> list[str]:
    """Parameters, parameter picks and row constants (before the row loop)."""
    lines = [f"    {text}" for p in prog.params for text in p.unpack()]
    lines += [f"    _col{i} = _cols[{i}]" for i in range(len(prog.data))]
    for pk in prog.picks:
        if isinstance(pk.block.where, slice):
            lines.append(f"    {pk.symbol.name} = _theta[{pk.block.where.start + pk.index}]")
    for c in prog.constants:
        a, b = (x.flat for x in (c.blocks[0], c.blocks[-1]))
        if c.kind == "dot":
            lines.append(f"    {c.symbol.name} = numpy.dot({a}, {b})")
        elif c.kind == "sum":
            lines.append(f"    {c.symbol.name} = numpy.sum({a})")
        else:
            lines += _entrywise(c.symbol.name, c.f, c.blocks[0], pr, total=True)
    return lines


def _entrywise(name: str, f: sp.Lambda, block: Any, pr: _ScalarPrinter, *,
               total: bool) -> list[str]:
    """``name = sum(f(P))`` (``total``) or ``name = f(P)`` entry by entry, as a loop over the
    block's flat entries (scalar code per entry)."""
    var = f.variables[0]
    body = pr.doprint(f.expr.xreplace({var: sp.Symbol("_v")}))
    head = f"    {name} = 0.0" if total else f"    {name} = numpy.empty({block.size})"
    step = f"        {name} += {body}" if total else f"        {name}[_j] = {body}"
    return [head, f"    for _j in range({block.size}):", f"        _v = {block.flat}[_j]", step]


#: Unroll the maps and adjoints (row entries and accumulators in registers) up to this width
#: of a data block and this many adjoint accumulators; beyond, inner loops over the row.
_UNROLL_WIDTH, _UNROLL_ACC = 16, 64


class _BlockLoop:
    """Code of the per-row part of a fused block kernel: inputs, maps, adjoints."""

    def __init__(self, prog: Program, adj: list[Any]) -> None:
        self.prog = prog
        self.col = {id(d): i for i, d in enumerate(prog.data)}
        self.width = {id(m): m.data.shape[0] for m in prog.maps}
        self.offsets: dict[int, int] = {}
        self.total = 0
        for o in adj:  # one accumulator of the data block's width per map output
            self.offsets[id(o)] = self.total
            self.total += self.width[id(o.dirs[0][1])]
        self.unrolled = (all(w <= _UNROLL_WIDTH for w in self.width.values())
                         and self.total <= _UNROLL_ACC)

    def _entry(self, m: Any, k: int, j: Any) -> str:
        P = m.param.symbol.name
        if len(m.symbols) == 1:
            return f"{P}[{j}]"
        return f"{P}[{j}, {k}]" if m.transposed else f"{P}[{k}, {j}]"

    def hoisted(self) -> list[str]:
        """Parameter entries of the maps as scalars (unrolled mode), before the loop."""
        if not self.unrolled:
            return []
        return [f"    _pe{mi}_{k}_{j} = {self._entry(m, k, j)}" for mi, m in enumerate(self.prog.maps)
                for k in range(len(m.symbols)) for j in range(self.width[id(m)])]

    def inputs(self) -> list[str]:
        """Scalar data, data picks, the row's entries and the map outputs."""
        prog, col, lines = self.prog, self.col, []
        for i, d in enumerate(prog.data):
            if not d.shape:
                lines.append(f"{d.symbol.name} = _col{i}[_i]")
        for pk in prog.picks:
            if not isinstance(pk.block.where, slice):
                idx = pk.index if len(pk.block.shape) == 1 else ", ".join(
                    map(str, divmod(pk.index, pk.block.shape[1])))
                lines.append(f"{pk.symbol.name} = _col{col[id(pk.block)]}[_i, {idx}]")
        if self.unrolled:
            for d in {id(m.data): m.data for m in prog.maps}.values():
                c = col[id(d)]
                lines += [f"_xe{c}_{j} = _col{c}[_i, {j}]" for j in range(d.shape[0])]
        for mi, m in enumerate(prog.maps):
            c = col[id(m.data)]
            if self.unrolled:
                for k, u in enumerate(m.symbols):
                    terms = " + ".join(f"_pe{mi}_{k}_{j}*_xe{c}_{j}" for j in range(self.width[id(m)]))
                    lines.append(f"{u.name} = {terms}")
                continue
            lines += [f"{u.name} = 0.0" for u in m.symbols]
            lines.append(f"for _j in range({self.width[id(m)]}):")
            lines.append(f"    _xj = _col{c}[_i, _j]")
            lines += [f"    {u.name} += {self._entry(m, k, '_j')} * _xj" for k, u in enumerate(m.symbols)]
        return lines

    def start(self) -> list[str]:
        if not self.total:
            return []
        if self.unrolled:
            return [f"        _a{i} = 0.0" for i in range(self.total)]
        return [f"        _acc = numpy.zeros({self.total})"]

    def accumulate(self, o: Any, coef: str) -> list[str]:
        m = o.dirs[0][1]
        c, off, n = self.col[id(m.data)], self.offsets[id(o)], self.width[id(m)]
        if self.unrolled:
            return [f"_r = {coef}"] + [f"_a{off + j} += _r * _xe{c}_{j}" for j in range(n)]
        return [f"_r = {coef}", f"for _j in range({n}):",
                f"    _acc[{off} + _j] += _r * _col{c}[_i, _j]"]

    def store(self) -> list[str]:
        if not self.total:
            return []
        if self.unrolled:
            return [f"        _adjs[_k, {i}] = _a{i}" for i in range(self.total)]
        return ["        _adjs[_k] = _acc"]


def _emit_block_kernel(name: str, prog: Program, order: int, block_rows: int) -> str:
    """A fused parallel loop for a program with blocks: per row, the maps as inner products,
    the core, and the adjoint products accumulated per block of rows (value and gradient)."""
    pr = _ScalarPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    outs = prog.cse.outputs
    sums = [o for o in prog.outputs if o.kind == "value" or o.dirs[0][0] != "map"]
    adj = [o for o in prog.outputs if o.kind == "grad" and o.dirs[0][0] == "map"]
    wanted = [outs[o.index] for o in sums + adj]
    needed, wanted, dep = _share_exp(needed_assignments(prog.cse, wanted), wanted, prog.cse.data_dependent)
    sum_exprs, adj_exprs = wanted[: len(sums)], wanted[len(sums):]
    parts = [_split(e, dep) for e in sum_exprs]
    loop = _BlockLoop(prog, adj)
    lines = [_JIT.format(parallel=True), f"def {name}(_theta, _cols, _n):"]
    lines += _block_prologue(prog, pr) + loop.hoisted()
    lines += [f"    {s.name} = {pr.doprint(r)}" for s, r in needed if s not in dep]
    lines += [
        f"    _nb = (_n + {block_rows - 1}) // {block_rows}",
        f"    _parts = numpy.zeros((_nb, {len(parts)}))",
        f"    _adjs = numpy.zeros((_nb, {loop.total}))" if loop.total else "",
        "    _chunk = numba.set_parallel_chunksize(1)  # one block at a time: balances load",
        "    for _k in numba.prange(_nb):",
        f"        _lo = _k * {block_rows}",
        f"        _hi = min(_lo + {block_rows}, _n)",
        *loop.start(),
    ]
    lines += [f"        _s{k} = 0.0" for k in range(len(parts))]
    lines.append("        for _i in range(_lo, _hi):")
    lines += [f"            {t}" for t in loop.inputs()]
    lines += [f"            {s.name} = {pr.doprint(r)}" for s, r in needed if s in dep]
    lines += [f"            _s{k} += {pr.doprint(d)}" for k, (d, _) in enumerate(parts) if d != 0]
    for o, e in zip(adj, adj_exprs):
        lines += [f"            {t}" for t in loop.accumulate(o, pr.doprint(e))]
    lines += [f"        _parts[_k, {k}] = _s{k}" for k in range(len(parts))]
    lines += loop.store()
    lines.append("    numba.set_parallel_chunksize(_chunk)")
    lines.append(f"    _out = numpy.zeros({prog.result_size(min(order, 1))})")
    lines.append("    _adj = _adjs.sum(axis=0)" if loop.total else "")
    lines += _block_totals(sums, parts, pr)
    for o in adj:
        m, k = o.dirs[0][1], o.dirs[0][2]
        sl, off, n = m.slots(k), loop.offsets[id(o)], loop.width[id(m)]
        step = "" if sl.step in (None, 1) else f":{sl.step}"
        lines.append(f"    _out[{1 + sl.start}:{1 + sl.stop}{step}] += _adj[{off}:{off + n}]")
    lines.append("    return _out")
    return "\n".join(line for line in lines if line)


def _block_totals(sums: list[Any], parts: list[tuple], pr: _ScalarPrinter) -> list[str]:
    """The row sums into the value, the scalar slots and the row constants' gradients."""
    lines = []
    for k, (o, (_, c)) in enumerate(zip(sums, parts)):
        total_code = f"_parts[:, {k}].sum()" + (f" + _n * ({pr.doprint(c)})" if c != 0 else "")
        if o.kind == "value":
            lines.append(f"    _out[0] += {total_code}")
        elif o.dirs[0][0] == "slot":
            lines.append(f"    _out[{1 + o.dirs[0][1]}] += {total_code}")
        else:
            lines.append(f"    _c = {total_code}")
            lines += _const_gradient(o.dirs[0][1], pr)
    return lines


def _const_gradient(c: Any, pr: _ScalarPrinter) -> list[str]:
    """``_out[slots] += _c * ds/dP`` for a row constant (after the row loop)."""
    out: list[str] = []
    flats = [b.flat for b in c.blocks]
    sls = [b.where for b in c.blocks]
    if c.kind == "dot" and c.blocks[0] == c.blocks[-1]:
        parts = [(sls[0], f"2.0 * {flats[0]}")]
    elif c.kind == "dot":
        parts = [(sls[0], flats[1]), (sls[1], flats[0])]
    elif c.kind == "sum":
        parts = [(sls[0], "1.0")]
    else:
        out += _entrywise("_dv", c.df, c.blocks[0], pr, total=False)
        parts = [(sls[0], "_dv")]
    for sl, vec in parts:
        out.append(f"    _out[{1 + sl.start}:{1 + sl.stop}] += _c * {vec}")
    return out


def exec_numba_source(source: str) -> dict[str, Any]:
    """Execute generated kernel source with numba and the scalar helpers in scope."""
    return exec_source(source, "numba", {"numba": numba, **_HELPERS})


def _signature(data: list[Any]) -> Any:
    """``f(theta, cols, n)``: C-contiguous float64 arrays, one dimension per row axis."""
    arr = numba.types.float64[::1]
    kinds = [numba.types.Array(numba.types.float64, 1 + len(d.shape), "C") for d in data]
    if not kinds:
        cols = numba.types.Tuple(())
    elif len(set(kinds)) == 1:
        cols = numba.types.UniTuple(kinds[0], len(kinds))
    else:
        cols = numba.types.Tuple(kinds)
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

    def fused(self, program: Program, order: int = 1) -> bool:
        """Fused loops, except the Hessian of a program with blocks (NumPy/BLAS in chunks)."""
        return not (program.blocks and order >= 2)

    def emit(self, tag: str, program: Program, kernels: dict[str, int]) -> tuple[str, dict[str, Any]]:
        """Generate, execute and compile (numba) the kernels ``_<name>``."""
        chunks = []
        for k, order in kernels.items():
            sub = program.select(order)
            if program.blocks and order >= 2:  # the Hessian blocks: BLAS on chunks
                chunks.append(emit_block_function(f"_{k}", sub, order))
            elif program.blocks:
                chunks.append(_emit_block_kernel(f"_{k}", sub, order, self.rows))
            else:
                outs = [sub.cse.outputs[o.index] for o in sub.outputs]
                params = [p.symbol for p in program.params]
                data = [d.symbol for d in program.data]
                chunks.append(_emit_kernel(f"_{k}", program.cse, outs, params, data, self.rows))
        source = "\n\n\n".join(chunks) + "\n"
        namespace = exec_numba_source(source)
        sig = _signature(program.data)
        for k, order in kernels.items():  # compile now, so compile_time tells the truth
            if self.fused(program, order):
                namespace[f"_{k}"].compile(sig)
        return source, namespace
