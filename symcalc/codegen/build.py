"""From a lowered, derived loss to the :class:`~symcalc.codegen.ir.Program` emitters print.

The steps: name every input with a generated identifier (user symbols never reach generated
code under a name the user chose), describe the blocks (slices of
theta, data columns, picks, linear maps, row constants), run the ONE CSE pass over the core
and its derivatives, and record where each output lands. :func:`extend_hessian` continues
that pass with the second derivatives (so value and gradient stay bit-identical between the
kernels).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from .._layout import ParamLayout, block_shape, is_block
from .ir import CSEPass, Input, Map, Output, Pick, Program, RowConstant, run_cse
from .stable import stabilize
from .realdiff import real_derivatives as derivatives  # parameters and data are real

__all__ = ["ProgramBuilder"]


class ProgramBuilder:
    """Builds (and later extends with the Hessian) the program of one lowered loss.

    Parameters
    ----------
    lowered : symcalc.blocks.lower.Lowered
        The loss as a scalar per-row core with its maps, row constants and picks.
    core, gradient : sympy.Expr, list of sympy.Expr
        The (stabilised) core and its derivatives by ``lowered.variables``.
    """

    def __init__(self, lowered: Any, core: sp.Expr, gradient: list[sp.Expr]) -> None:
        self.lowered = lowered
        self.core, self.gradient = core, list(gradient)
        self.layout = ParamLayout(lowered.params)
        self.rename: dict[sp.Basic, sp.Symbol] = {}
        self.params = self._inputs(lowered.params, "p", self.layout.slices)
        self.data = self._inputs(lowered.data, "d", range(len(lowered.data)))
        self.by_block = {s: i for s, i in zip((*lowered.params, *lowered.data),
                                              (*self.params, *self.data))}
        self.picks = [Pick(self._new(e.symbol, "_q", k), self.by_block[e.block], e.flat)
                      for k, e in enumerate(lowered.entries)]
        self.maps = []
        count = 0
        for m in lowered.maps:
            syms = []
            for s in m.symbols:
                syms.append(self._new(s, "_u", count))
                count += 1
            self.maps.append(Map(tuple(syms), self.by_block[m.param], self.by_block[m.data],
                                 m.transposed))
        self.constants = [self._constant(k, r) for k, r in enumerate(lowered.reductions)]
        self.directions = self._directions()
        self.rows = {self.rename.get(s, s) for s in lowered.row_symbols}
        self.first: CSEPass | None = None

    # ------------------------------------------------------------------ naming
    def _inputs(self, symbols: tuple, prefix: str, where: Any) -> list[Input]:
        """Every user symbol gets a generated identifier (``_p0``, ``_d1``): no user-chosen
        name ever reaches generated code."""
        out = []
        for i, (s, w) in enumerate(zip(symbols, where)):
            self.rename[s] = name = sp.Symbol(f"_{prefix}{i}")
            out.append(Input(name, s.name, block_shape(s), w))
        return out

    def _new(self, sym: sp.Symbol, prefix: str, k: int) -> sp.Symbol:
        new = sp.Symbol(f"{prefix}{k}", real=True)
        self.rename[sym] = new
        return new

    def _constant(self, k: int, r: Any) -> RowConstant:
        blocks = tuple(self.by_block[b] for b in r.blocks)
        sym = self._new(r.symbol, "_rc", k)
        if r.kind != "sum_f":
            return RowConstant(sym, r.kind, blocks)
        d = r.function.variables[0]
        body = r.function.expr
        first = sp.diff(body, d)
        second = sp.diff(first, d)
        (body, first, second), _ = stabilize([body, first, second])
        lam = lambda e: sp.Lambda(d, e)  # noqa: E731
        return RowConstant(sym, "sum_f", blocks, lam(body), lam(first), lam(second))

    def _directions(self) -> list[tuple]:
        """How each variable of the core moves with theta, in ``lowered.variables`` order."""
        low = self.lowered
        out: list[tuple] = []
        pset = set(low.params)
        for p in low.params:
            if not is_block(p):
                out.append(("slot", self.layout.slices[self.layout.index(p.name)].start))
        for e, pick in zip(low.entries, self.picks):
            if e.block in pset:
                out.append(("slot", pick.block.where.start + pick.index))
        for m in self.maps:
            out += [("map", m, k) for k in range(len(m.symbols))]
        out += [("const", c) for c in self.constants]
        return out

    def renamed(self, exprs: list[sp.Expr]) -> list[sp.Expr]:
        rename = {k: v for k, v in self.rename.items() if k != v}
        outs = [sp.sympify(o) for o in exprs]
        return [o.xreplace(rename) for o in outs] if rename else outs

    # ------------------------------------------------------------------ programs
    def program(self) -> Program:
        """Value and gradient, one CSE pass."""
        cse = run_cse(self.renamed([self.core, *self.gradient]), self.rows)
        self.first = cse
        outputs = [Output(0, "value")]
        outputs += [Output(1 + i, "grad", (d,)) for i, d in enumerate(self.directions)]
        return self._program(cse, outputs)

    def _program(self, cse: CSEPass, outputs: list[Output]) -> Program:
        return Program(self.params, self.data, self.picks, self.maps, self.constants, cse,
                       outputs, self.layout.size, self.lowered.has_blocks)

    def hessian_program(self, variables: tuple[sp.Symbol, ...]) -> tuple[Program, list[str]]:
        """Value, gradient and Hessian, continuing the first CSE pass; also the rewrites that
        fired on the second derivatives."""
        assert self.first is not None
        v = len(variables)
        upper = [d for i in range(v) for d in derivatives(self.gradient[i], variables[i:])]
        upper, fired = stabilize(upper)
        # Continue the first CSE pass rather than starting over: the value and gradient the
        # Hessian kernel returns are then computed by the very same code as value_and_grad
        # (bit-identical, which Newton's stopping tests rely on), and the Hessian reuses the
        # first pass's temporaries (``_t``) where its entries contain them.
        first = self.first
        expanded: dict[sp.Symbol, sp.Expr] = {}
        for sym, rhs in first.assignments:
            expanded[sym] = rhs.xreplace(expanded)
        known = {rhs: sym for sym, rhs in expanded.items()}
        for sym, rhs in expanded.items():  # sigmoid' = sigmoid(u)*sigmoid(-u): -u is common too
            if rhs.is_Add:
                known.setdefault(-rhs, -sym)
        upper = [h.xreplace(known) for h in self.renamed(upper)]
        more = run_cse(upper, set(first.data_dependent), prefix="_h")
        cse = CSEPass(first.assignments + more.assignments, first.outputs + more.outputs,
                      first.data_dependent | more.data_dependent)
        outputs = [Output(0, "value")]
        outputs += [Output(1 + i, "grad", (d,)) for i, d in enumerate(self.directions)]
        k = 1 + v
        for i in range(v):
            for j in range(i, v):
                outputs.append(Output(k, "hess", (self.directions[i], self.directions[j])))
                k += 1
        for i, d in enumerate(self.directions):
            if d[0] == "const":  # dF/ds times the row constant's own second derivative
                outputs.append(Output(1 + i, "curv", (d,)))
        return self._program(cse, outputs), fired
