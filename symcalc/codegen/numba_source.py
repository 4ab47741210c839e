"""The text of the fused numba kernels: scalar printing, the row loop, the block loop.

:mod:`symcalc.codegen.emit_numba` executes and compiles what this module prints (and owns the
numba helpers the text calls, ``_expit``, ``_softplus_e``, ...). Kept apart so the printing can
be read without numba. The kernel convention is described there.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from .ir import CSEPass, Program, needed as needed_assignments
from .printing import ShallowPrinter
from .stable import Expit, LogAddExp0

__all__ = ["emit_kernel", "emit_block_kernel"]

#: Up to this many sums per kernel are kept in local variables; more (the Hessian of 22 or
#: more parameters) are added into ``_parts`` directly: 2x faster to compile at 496 sums
#: (31 parameters), about 15% slower to run.
_REGISTER_SUMS = 256
#: ``_CACHE`` is set by :func:`symcalc._kernel_cache.load`: True when the module is a file.
#: ``contract`` only (fused multiply-adds: one rounding where there were two); no flag that
#: assumes away NaN, inf or reorders sums.
#: ``inline="always"``: a kernel (and the helpers it calls) is inlined into the C entry point of
#: :mod:`symcalc._native`, so the entry has no call whose error status it must propagate.
_JIT = ('@numba.njit(nogil=True, fastmath={"contract"}, cache=_CACHE, error_model="numpy", '
        'inline="always")')


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

    def _print_Add(self, e: sp.Expr, order: str | None = None) -> str:
        """Sums of more than 4 terms as a balanced tree, ``((a + b) + (c + d)) + ...``: a
        chain ``a + b + c + ...`` makes each row wait for one addition after another (31
        features: 31 dependent additions, a third of the row's time); a tree has depth log2."""
        if not 4 < len(e.args) <= 48:  # (longer sums are grouped by ShallowPrinter)
            return super()._print_Add(e, order)
        pos = [t for t in e.args if not t.could_extract_minus_sign()]
        neg = [-t for t in e.args if t.could_extract_minus_sign()]
        if not pos:
            return f"-({self._tree(neg)})"
        return self._tree(pos) + (f" - ({self._tree(neg)})" if neg else "")

    def _tree(self, terms: list[sp.Expr]) -> str:
        """``terms`` added pairwise (the outermost pair without parentheses)."""
        if len(terms) == 1:
            return self.parenthesize(terms[0], PRECEDENCE["Add"])
        half = len(terms) // 2
        return " + ".join(
            f"({self._tree(part)})" if len(part) > 1 else self._tree(part)
            for part in (terms[:half], terms[half:])
        )

    def _print_sigmoid(self, e: sp.Expr) -> str:
        return f"_expit({self._print(e.args[0])})"

    def _print_softplus(self, e: sp.Expr) -> str:
        return f"_softplus({self._print(e.args[0])})"

    def _print_logsumexp(self, e: sp.Expr) -> str:
        # max-subtracted, folded pairwise: log(exp(a) + exp(b)) = m + log1p(exp(-|a - b|))
        return self._fold("_logaddexp", e.args)

    # The two helpers every logistic-type loss uses are printed inline (the formulas of
    # _expit_e and _softplus_e): a call would be typed and compiled as a function of its own.
    def _print__ExpitE(self, e: sp.Expr) -> str:
        u, ex, r = (self._print(a) for a in e.args)
        return f"((1.0 if {u} >= 0.0 else {ex})*{r})"

    def _print__SoftplusE(self, e: sp.Expr) -> str:
        u, ex, w, r = (self._print(a) for a in e.args)
        return f"(max({u}, 0.0) + (math.log({w}) - (({w} - 1.0) - {ex})*{r}))"

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


def emit_kernel(
    name: str, cse: CSEPass, outputs: list[sp.Expr], params: list[sp.Symbol],
    data: list[sp.Symbol], block_rows: int,
) -> str:
    pr = _ScalarPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    needed, outputs, dep = _share_exp(needed_assignments(cse, outputs), outputs, cse.data_dependent)
    lines = [_JIT, f"def {name}(_theta, _cols, _n, _b0, _b1, _parts):"]
    lines += [f"    {p.name} = _theta[{i}]" for i, p in enumerate(params)]
    lines += [f"    _col{i} = _cols[{i}]" for i in range(len(data))]
    lines += [f"    {s.name} = {pr.doprint(r)}" for s, r in needed if s not in dep]
    parts = [_split(o, dep) for o in outputs]
    rowwise = [(j, d) for j, (d, _) in enumerate(parts) if d != 0]
    if rowwise:  # blocks b0..b1-1: one row of _parts each (no races between threads)
        lines += [
            "    for _k in range(_b0, _b1):",
            f"        _lo = _k * {block_rows}",
            f"        _hi = min(_lo + {block_rows}, _n)",
        ]
        # few sums live in registers; many (a Hessian) are added straight into _parts, which
        # compiles several times faster than hundreds of loop-carried variables
        acc = [f"_s{k}" for k in range(len(rowwise))] if len(rowwise) <= _REGISTER_SUMS \
            else [f"_parts[_k, {j}]" for j, _ in rowwise]
        if len(rowwise) <= _REGISTER_SUMS:
            lines += [f"        {a} = 0.0" for a in acc]
        lines.append("        for _i in range(_lo, _hi):")
        lines += [f"            {d.name} = _col{i}[_i]" for i, d in enumerate(data)]
        lines += [f"            {s.name} = {pr.doprint(r)}" for s, r in needed if s in dep]
        lines += [f"            {a} += {pr.doprint(d)}" for a, (_, d) in zip(acc, rowwise)]
        if len(rowwise) <= _REGISTER_SUMS:
            lines += [f"        _parts[_k, {j}] = {a}" for a, (j, _) in zip(acc, rowwise)]
    const = [(j, c) for j, (_, c) in enumerate(parts) if c != 0]
    if const:  # the terms without rows: into the last row of _parts, by the first range only
        lines += ["    if _b0 == 0:", "        _last = len(_parts) - 1"]
        lines += [f"        _parts[_last, {j}] = _n * ({pr.doprint(c)})" for j, c in const]
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

    def store(self, adj: list[Any]) -> list[str]:
        """Add the block's adjoint sums into its row of ``_parts``, at the map's theta slots."""
        lines = []
        for o in adj:
            m, k = o.dirs[0][1], o.dirs[0][2]
            sl, off, n = m.slots(k), self.offsets[id(o)], self.width[id(m)]
            step = sl.step or 1
            if self.unrolled:
                lines += [f"        _parts[_k, {1 + sl.start + j * step}] += _a{off + j}"
                          for j in range(n)]
            else:
                tail = "" if step == 1 else f":{step}"
                lines.append(f"        _parts[_k, {1 + sl.start}:{1 + sl.stop}{tail}] += "
                             f"_acc[{off}:{off + n}]")
        return lines


def emit_block_kernel(name: str, prog: Program, order: int, block_rows: int) -> str:
    """A fused loop for a program with blocks, over blocks ``_b0 .. _b1-1`` of rows (the
    convention of every numba kernel, see the module docstring): per row, the maps as inner
    products, the core, and the adjoint products; per block of rows, its contribution to
    every output in its own row of ``_parts``. Every output is linear in the row sums, so
    the blocks' rows add up to the result; the terms without rows are returned."""
    pr = _ScalarPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    outs = prog.cse.outputs
    sums = [o for o in prog.outputs if o.kind == "value" or o.dirs[0][0] != "map"]
    adj = [o for o in prog.outputs if o.kind == "grad" and o.dirs[0][0] == "map"]
    wanted = [outs[o.index] for o in sums + adj]
    needed, wanted, dep = _share_exp(needed_assignments(prog.cse, wanted), wanted, prog.cse.data_dependent)
    sum_exprs, adj_exprs = wanted[: len(sums)], wanted[len(sums):]
    parts = [_split(e, dep) for e in sum_exprs]
    loop = _BlockLoop(prog, adj)
    lines = [_JIT, f"def {name}(_theta, _cols, _n, _b0, _b1, _parts):"]
    lines += _block_prologue(prog, pr) + loop.hoisted()
    lines += [f"    {s.name} = {pr.doprint(r)}" for s, r in needed if s not in dep]
    targets: list[list[tuple[str, str]]] = []  # per sum: (index expression, factor) pairs
    for k, o in enumerate(sums):
        if o.kind == "value":
            targets.append([("0", "")])
        elif o.dirs[0][0] == "slot":
            targets.append([(str(1 + o.dirs[0][1]), "")])
        else:  # a row constant s(P): its row sum times ds/dP, a vector of theta only
            pre, vecs = _const_gradient(o.dirs[0][1], pr, f"_dv{k}")
            lines += pre
            targets.append([(f"{1 + sl.start}:{1 + sl.stop}", f" * {vec}") for sl, vec in vecs])
    lines += [
        "    for _k in range(_b0, _b1):",
        f"        _lo = _k * {block_rows}",
        f"        _hi = min(_lo + {block_rows}, _n)",
        *loop.start(),
    ]
    lines += [f"        _s{k} = 0.0" for k, (d, _) in enumerate(parts) if d != 0]
    lines.append("        for _i in range(_lo, _hi):")
    lines += [f"            {t}" for t in loop.inputs()]
    lines += [f"            {s.name} = {pr.doprint(r)}" for s, r in needed if s in dep]
    lines += [f"            _s{k} += {pr.doprint(d)}" for k, (d, _) in enumerate(parts) if d != 0]
    for o, e in zip(adj, adj_exprs):
        lines += [f"            {t}" for t in loop.accumulate(o, pr.doprint(e))]
    for k, (d, _) in enumerate(parts):
        if d != 0:
            lines += [f"        _parts[_k, {at}] += _s{k}{factor}" for at, factor in targets[k]]
    lines += loop.store(adj)
    const = [(k, c) for k, (_, c) in enumerate(parts) if c != 0]
    if const:  # the terms without rows: into the last row of _parts, by the first range only
        lines += ["    if _b0 == 0:", "        _last = len(_parts) - 1"]
        for k, c in const:
            lines += [f"        _parts[_last, {at}] += _n * ({pr.doprint(c)}){factor}"
                      for at, factor in targets[k]]
    return "\n".join(line for line in lines if line)


def _const_gradient(c: Any, pr: _ScalarPrinter, name: str) -> tuple[list[str], list[tuple]]:
    """ds/dP of a row constant ``s`` as (prologue lines, [(theta slice, vector code)])."""
    flats = [b.flat for b in c.blocks]
    sls = [b.where for b in c.blocks]
    if c.kind == "dot" and c.blocks[0] == c.blocks[-1]:
        return [f"    {name} = 2.0 * {flats[0]}"], [(sls[0], name)]
    if c.kind == "dot":
        return [], [(sls[0], flats[1]), (sls[1], flats[0])]
    if c.kind == "sum":
        return [], [(sls[0], "1.0")]
    return _entrywise(name, c.df, c.blocks[0], pr, total=False), [(sls[0], name)]
