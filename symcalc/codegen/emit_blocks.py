"""NumPy code for programs with blocks: BLAS for the linear maps, elementwise code for the core.

One kernel over a chunk of rows (``_cols`` holds the chunk: a data vector block is a 2-D
array, one row per sample) does, in order:

1. unpack theta: scalars, blocks (``w = _theta[0:30]``, ``W = _theta[a:b].reshape(K, n)``)
   and the picked entries of small blocks; data columns and picked data columns;
2. one matrix product per linear map: ``X @ w`` (a vector parameter) or ``W @ X.T`` (K
   rows: output ``k`` is the contiguous row ``k``);
3. the row constants of parameter blocks (``numpy.dot(w, w)``, ...);
4. the per-row core and its derivatives (the CSE assignments, vectorized over the chunk);
5. the adjoint products: the gradient of a map's parameter is ``r @ X`` (``R @ X`` for K
   rows, ``R`` stacking the per-row coefficients), of a row constant ``(sum of dF/ds) * ds/dP``;
   the Hessian blocks ``X.T @ (h[:, None] * X)`` and their cross terms.

It returns the flat ``[value, gradient, Hessian upper triangle]`` partial sums of the chunk.
"""

from __future__ import annotations

import sympy as sp

from .ir import Input, Map, Output, Program, RowConstant, needed
from .printing import NumPyPrinter, numpy_printer, reduce_code

__all__ = ["emit_block_function"]


class _Emitter:
    def __init__(self, program: Program, order: int) -> None:
        self.prog = program
        self.order = order
        self.pr: NumPyPrinter = numpy_printer()
        self.dep = program.cse.data_dependent
        self.lines: list[str] = []
        self.temp = 0

    def line(self, text: str) -> None:
        self.lines.append("    " + text)

    def fresh(self, prefix: str) -> str:
        self.temp += 1
        return f"{prefix}{self.temp}"

    def code(self, e: sp.Expr) -> str:
        return self.pr.doprint(e)

    # ------------------------------------------------------------------ prologue
    def unpack(self) -> None:
        for p in self.prog.params:
            for text in p.unpack():
                self.line(text)
        if self.prog.data:
            self.line(f"{', '.join(d.symbol.name for d in self.prog.data)}, = _cols")
        for pk in self.prog.picks:
            b = pk.block
            if isinstance(b.where, slice):  # a parameter entry
                self.line(f"{pk.symbol.name} = _theta[{b.where.start + pk.index}]")
            elif len(b.shape) == 1:
                self.line(f"{pk.symbol.name} = {b.symbol.name}[:, {pk.index}]")
            else:
                i, j = divmod(pk.index, b.shape[1])
                self.line(f"{pk.symbol.name} = {b.symbol.name}[:, {i}, {j}]")
        for k, m in enumerate(self.prog.maps):
            P, X = m.param.symbol.name, m.data.symbol.name
            if len(m.symbols) == 1:
                self.line(f"{m.symbols[0].name} = numpy.dot({X}, {m.param.flat})")
                continue
            lhs = f"numpy.transpose({P})" if m.transposed else P
            self.line(f"_mm{k} = numpy.dot({lhs}, numpy.transpose({X}))")
            for i, s in enumerate(m.symbols):
                self.line(f"{s.name} = _mm{k}[{i}]")
        for c in self.prog.constants:
            self.line(f"{c.symbol.name} = {self.constant(c)}")

    def constant(self, c: RowConstant) -> str:
        flats = [b.flat for b in c.blocks]
        if c.kind == "dot":
            return f"numpy.dot({flats[0]}, {flats[-1]})"
        if c.kind == "sum":
            return f"numpy.sum({flats[0]})"
        assert c.f is not None
        return f"numpy.sum({self.applied(c.f, c.blocks[0])})"

    def applied(self, f: sp.Lambda, block: Input) -> str:
        """``f`` applied elementwise to the flattened block (NumPy broadcasting)."""
        var = f.variables[0]
        flat = sp.Symbol(block.flat)
        body = f.expr.xreplace({var: flat})
        text = self.code(body)
        if not body.has(flat):  # a constant derivative: broadcast it over the block
            return f"numpy.full({block.size}, {text})"
        return f"({text})"

    # ------------------------------------------------------------------ reductions
    def total(self, e: sp.Expr) -> str:
        """The sum over the chunk's rows of the per-row expression ``e``."""
        return reduce_code(e, self.dep, self.pr)

    def rows(self, e: sp.Expr) -> str:
        """``e`` as an array over the rows (a row-constant is broadcast)."""
        if e.free_symbols & self.dep:
            return self.code(e)
        return f"_full(_n, {self.code(e)})"

    def gradient_vector(self, c: RowConstant) -> list[tuple[slice, str]]:
        """``ds/dtheta`` of a row constant, as (slice, flat vector code) parts."""
        sl = [b.where for b in c.blocks]
        flats = [b.flat for b in c.blocks]
        if c.kind == "dot":
            if c.blocks[0] == c.blocks[-1]:
                return [(sl[0], f"2.0*{flats[0]}")]
            return [(sl[0], flats[1]), (sl[1], flats[0])]
        if c.kind == "sum":
            return [(sl[0], f"numpy.ones({c.blocks[0].size})")]
        assert c.df is not None
        return [(sl[0], self.applied(c.df, c.blocks[0]))]

    # ------------------------------------------------------------------ gradient
    def gradient(self, grads: list[Output]) -> None:
        out = self.prog.cse.outputs
        self.line("_g = _out[1:]")
        by_map: dict[int, dict[int, sp.Expr]] = {}
        for o in grads:
            d = o.dirs[0]
            if d[0] == "slot":
                self.line(f"_g[{d[1]}] += {self.total(out[o.index])}")
            elif d[0] == "map":
                by_map.setdefault(id(d[1]), {})[d[2]] = out[o.index]
            else:
                c = self.fresh("_c")
                self.line(f"{c} = {self.total(out[o.index])}")
                for sl, vec in self.gradient_vector(d[1]):
                    self.line(f"_g[{_s(sl)}] += {c}*{vec}")
        for m in self.prog.maps:
            coefs = by_map.get(id(m))
            if coefs:
                self.adjoint(m, coefs)

    def adjoint(self, m: Map, coefs: dict[int, sp.Expr]) -> None:
        X = m.data.symbol.name
        sl = m.param.where
        assert isinstance(sl, slice)
        if len(m.symbols) == 1:
            self.line(f"_g[{_s(sl)}] += numpy.dot({self.rows(coefs[0])}, {X})")
            return
        rows = ", ".join(
            self.rows(coefs[k]) if k in coefs else "_full(_n, 0.0)" for k in range(len(m.symbols))
        )
        R = self.fresh("_rr")
        self.line(f"{R} = numpy.stack(({rows},))")
        if m.transposed:
            self.line(f"_g[{_s(sl)}] += numpy.ravel(numpy.dot(numpy.transpose({X}), "
                      f"numpy.transpose({R})))")
        else:
            self.line(f"_g[{_s(sl)}] += numpy.ravel(numpy.dot({R}, {X}))")

    # ------------------------------------------------------------------ Hessian
    def hessian(self, hess: list[Output], curv: list[Output]) -> None:
        out = self.prog.cse.outputs
        p = self.prog.size
        self.line(f"_hh = numpy.zeros(({p}, {p}))")
        for o in hess:
            self.pair(out[o.index], o.dirs[0], o.dirs[1])
        for o in curv:
            self.curvature(out[o.index], o.dirs[0][1])

    def _vec(self, d: tuple, h: sp.Expr) -> list[tuple[object, str]]:
        """Parts (index, code) of ``sum over rows of h * J_d``: J_d the Jacobian row of d."""
        if d[0] == "slot":
            return [(d[1], self.total(h))]
        if d[0] == "map":
            return [(d[1].slots(d[2]), f"numpy.dot({self.rows(h)}, {d[1].data.symbol.name})")]
        c = self.fresh("_c")
        self.line(f"{c} = {self.total(h)}")
        return [(sl, f"{c}*{vec}") for sl, vec in self.gradient_vector(d[1])]

    def pair(self, h: sp.Expr, a: tuple, b: tuple) -> None:
        if h == 0:
            return
        same = a is b
        if a[0] == "map" and b[0] == "map":
            Xa, Xb = a[1].data.symbol.name, b[1].data.symbol.name
            blk = self.fresh("_bb")
            self.line(f"{blk} = numpy.dot(numpy.transpose({Xa}) * ({self.rows(h)}), {Xb})")
            self.add(a[1].slots(a[2]), b[1].slots(b[2]), blk, same)
            return
        if a[0] != "map" and b[0] == "map":  # keep a map (if any) first
            a, b = b, a
        if b[0] == "slot":
            for idx, code in self._vec(a, h):
                v = self.fresh("_v")
                self.line(f"{v} = {code}")
                self.add(idx, b[1], v, same)
            return
        # b is a row constant: h * J_a J_s^T with J_s = ds/dtheta (row-constant)
        parts_b = self.gradient_vector(b[1])
        for idx, code in self._vec(a, h):
            v = self.fresh("_v")
            self.line(f"{v} = {code}")
            for sl, vec in parts_b:
                blk = self.fresh("_bb")
                self.line(f"{blk} = numpy.multiply.outer({v}, {vec})")
                self.add(idx, sl, blk, same)

    def add(self, i: object, j: object, blk: str, same: bool) -> None:
        self.line(f"_hh[{_s(i)}, {_s(j)}] += {blk}")
        if not same:
            self.line(f"_hh[{_s(j)}, {_s(i)}] += numpy.transpose({blk})")

    def curvature(self, dfds: sp.Expr, c: RowConstant) -> None:
        """``(sum of dF/ds) * d2s/dtheta2`` for the row constant ``s``."""
        if c.kind == "sum":
            return
        k = self.fresh("_c")
        self.line(f"{k} = {self.total(dfds)}")
        sl = [b.where for b in c.blocks]
        if c.kind == "dot":
            n = c.blocks[0].size
            if c.blocks[0] == c.blocks[-1]:
                self.line(f"_hh[{_s(sl[0])}, {_s(sl[0])}] += 2.0*{k}*numpy.eye({n})")
            else:
                self.line(f"_hh[{_s(sl[0])}, {_s(sl[1])}] += {k}*numpy.eye({n})")
                self.line(f"_hh[{_s(sl[1])}, {_s(sl[0])}] += {k}*numpy.eye({n})")
            return
        assert c.d2f is not None
        self.line(f"_hh[{_s(sl[0])}, {_s(sl[0])}] += numpy.diag({k}*{self.applied(c.d2f, c.blocks[0])})")

    # ------------------------------------------------------------------ whole function
    def function(self, name: str) -> str:
        prog = self.prog
        outs = prog.cse.outputs
        wanted = [outs[o.index] for o in prog.outputs]
        self.unpack()
        for sym, rhs in needed(prog.cse, wanted):
            self.line(f"{sym.name} = {self.code(rhs)}")
        value = next(o for o in prog.outputs if o.kind == "value")
        self.line(f"_out = numpy.zeros({prog.result_size(self.order)})")
        self.line(f"_out[0] = {self.total(outs[value.index])}")
        if self.order >= 1:
            self.gradient([o for o in prog.outputs if o.kind == "grad"])
        if self.order >= 2:
            self.hessian([o for o in prog.outputs if o.kind == "hess"],
                         [o for o in prog.outputs if o.kind == "curv"])
            self.line(f"_out[{1 + prog.size}:] = _hh[numpy.triu_indices({prog.size})]")
        self.line("return _out")
        return "\n".join([f"def {name}(_theta, _cols, _n):", *self.lines])


def _s(index: object) -> str:
    """Code for an index: an int, or a slice with its step."""
    if isinstance(index, slice):
        step = "" if index.step in (None, 1) else f":{index.step}"
        return f"{index.start}:{index.stop}{step}"
    return str(index)


def emit_block_function(name: str, program: Program, order: int) -> str:
    """Source of ``name(_theta, _cols, _n)`` -> flat partial sums of one chunk of rows."""
    return _Emitter(program, order).function(name)
