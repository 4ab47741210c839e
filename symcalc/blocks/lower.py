"""Lowering a block loss to a scalar per-row core: the step that keeps derivation independent of n.

A block loss ``f(w.x + b) + 0.01*norm2(w)`` is rewritten as a scalar expression
``F(u, b, s) = f(u + b) + 0.01*s`` in a few scalar variables:

* **linear maps** of a data block: ``u = w.x`` (one ``u`` per row of ``W`` for ``W @ x``),
  computed over all rows at once as one matrix product (``X @ w``, ``W @ X.T``);
* **reductions** of parameter blocks that do not depend on the rows: ``s = norm2(w)``,
  ``sum(w)``, ``dot(v, w)``, ``sum(f(w))`` (their gradient is an elementwise vector:
  ``2*w``, ``1``, ``v``, ``f'(w)``);
* **entries** of the small blocks everything else needs entry by entry (a class-sized bias
  ``b``, a one-hot data vector ``y``, the second-layer weights of a network): ``b[0], b[1]``.

The core ``F`` is then differentiated with respect to these few scalars only; the chain rule
through the maps is the adjoint product ``dF/du * x`` (``r @ X``). Expressions no rule covers
(e.g. an elementwise function of a data block) are expanded entry by entry -- correct, but
the cost then grows with the block size; :attr:`Lowered.expanded` names those blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from .._layout import ParamLayout, is_block
from ..errors import SymbolError
from ..functions import SoftmaxEntry, logsumexp
from .nodes import BlockSum, Dot, Elementwise, LogSumExp, Norm2, Softmax

__all__ = ["LinearMap", "Reduction", "Entry", "Lowered", "lower"]


@dataclass(frozen=True)
class LinearMap:
    """Per-row scalars ``u[k] = P[k, :] . x`` (``P[:, k] . x`` when ``transposed``), one per
    output of the map; for a vector ``P`` there is one: ``u = P . x``."""

    symbols: tuple[sp.Symbol, ...]
    param: sp.MatrixSymbol
    data: sp.MatrixSymbol
    transposed: bool = False


@dataclass(frozen=True)
class Reduction:
    """A row-constant scalar of parameter blocks.

    ``kind`` is ``"dot"`` (``s = P . Q``; ``norm2(P)`` when ``P is Q``), ``"sum"``
    (``s = sum(P)``) or ``"sum_f"`` (``s = sum(f(P))`` with ``function`` a ``Lambda``).
    """

    symbol: sp.Symbol
    kind: str
    blocks: tuple[sp.MatrixSymbol, ...]
    function: sp.Lambda | None = None

    @property
    def expr(self) -> sp.Expr:
        """The block expression this scalar stands for (for display)."""
        if self.kind == "dot":
            p, q = self.blocks
            return Norm2(p) if p == q else Dot(p, q)
        if self.kind == "sum":
            return BlockSum(self.blocks[0])
        return BlockSum(Elementwise(self.function, self.blocks[0]))


@dataclass(frozen=True)
class Entry:
    """The scalar ``block[i, j]`` (a parameter entry, or a data column of a data block)."""

    symbol: sp.Symbol
    block: sp.MatrixSymbol
    index: tuple[int, int]

    @property
    def flat(self) -> int:
        """Row-major position inside the block."""
        return self.index[0] * int(self.block.shape[1]) + self.index[1]


@dataclass
class Lowered:
    """A loss as a scalar per-row core ``F`` plus the maps, reductions and entries it uses.

    A loss without blocks lowers to itself (``core`` is the loss, no maps): the same
    derivation and code generation serve both.
    """

    core: sp.Expr
    params: tuple[Any, ...]
    data: tuple[Any, ...]
    maps: list[LinearMap] = field(default_factory=list)
    reductions: list[Reduction] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    expanded: set[str] = field(default_factory=set)

    @property
    def layout(self) -> ParamLayout:
        return ParamLayout(self.params)

    @property
    def has_blocks(self) -> bool:
        return any(is_block(s) for s in (*self.params, *self.data))

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        """The scalars ``F`` is differentiated by: scalar params, parameter entries, map
        outputs, reductions (in that order)."""
        pset = set(self.params)
        scalars = [p for p in self.params if not is_block(p)]
        ents = [e.symbol for e in self.entries if e.block in pset]
        maps = [s for m in self.maps for s in m.symbols]
        reds = [r.symbol for r in self.reductions]
        return (*scalars, *ents, *maps, *reds)

    @property
    def row_symbols(self) -> set[sp.Symbol]:
        """Scalars that vary by row: scalar data, data entries, map outputs."""
        dset = set(self.data)
        out = {d for d in self.data if not is_block(d)}
        out |= {e.symbol for e in self.entries if e.block in dset}
        out |= {s for m in self.maps for s in m.symbols}
        return out


# ------------------------------------------------------------------------------ vector values
@dataclass
class _Vec:
    """A vector/matrix value during lowering: explicit ``entries`` (row-major, or None)
    plus ``sum(coef * block)`` over ``terms`` (blocks kept whole)."""

    shape: tuple[int, int]
    entries: list[sp.Expr] | None = None
    terms: list[tuple[sp.Expr, sp.MatrixSymbol]] = field(default_factory=list)

    def scaled(self, c: sp.Expr) -> _Vec:
        ents = None if self.entries is None else [c * e for e in self.entries]
        return _Vec(self.shape, ents, [(c * k, b) for k, b in self.terms])

    def plus(self, other: _Vec) -> _Vec:
        if self.entries is None:
            ents = other.entries
        elif other.entries is None:
            ents = self.entries
        else:
            ents = [a + b for a, b in zip(self.entries, other.entries)]
        return _Vec(self.shape, ents, self.terms + other.terms)

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]


class _Lowerer:
    def __init__(self, params: tuple[Any, ...], data: tuple[Any, ...]) -> None:
        self.params = {p for p in params if is_block(p)}
        self.data = {d for d in data if is_block(d)}
        self.maps: dict[tuple, LinearMap] = {}
        self.reductions: dict[tuple, Reduction] = {}
        self.entries: dict[tuple, Entry] = {}
        self.expanded: set[str] = set()
        self.memo: dict[sp.Basic, Any] = {}

    # ------------------------------------------------------------------ new scalars
    def entry(self, block: sp.MatrixSymbol, i: int, j: int) -> sp.Symbol:
        key = (block, i, j)
        if key not in self.entries:
            label = f"{block.name}[{i}]" if block.shape[1] == 1 else (
                f"{block.name}[{j}]" if block.shape[0] == 1 else f"{block.name}[{i},{j}]")
            self.entries[key] = Entry(sp.Symbol(label, real=True), block, (i, j))
        return self.entries[key].symbol

    def block_entries(self, block: sp.MatrixSymbol) -> list[sp.Symbol]:
        if block not in self.params and block not in self.data:
            raise SymbolError(f"the block {block.name} is neither a parameter nor data")
        m, n = (int(d) for d in block.shape)
        if m * n > 1:
            self.expanded.add(block.name)
        return [self.entry(block, i, j) for i in range(m) for j in range(n)]

    def linear_map(self, param: sp.MatrixSymbol, data: sp.MatrixSymbol,
                   transposed: bool = False) -> tuple[sp.Symbol, ...]:
        key = (param, data, transposed)
        if key not in self.maps:
            m, n = (int(d) for d in param.shape)
            outputs = n if transposed else m
            if m == 1 or n == 1:  # a vector parameter: one inner product
                names = [f"{param.name}.{data.name}"]
                outputs = 1
            elif transposed:
                names = [f"({param.name}^T {data.name})[{k}]" for k in range(outputs)]
            else:
                names = [f"({param.name} {data.name})[{k}]" for k in range(outputs)]
            syms = tuple(sp.Symbol(s, real=True) for s in names)
            self.maps[key] = LinearMap(syms, param, data, transposed and m > 1 and n > 1)
        return self.maps[key].symbols

    def reduction(self, kind: str, blocks: tuple, function: sp.Lambda | None = None) -> sp.Symbol:
        if kind == "dot":
            blocks = tuple(sorted(blocks, key=lambda b: b.name))
        key = (kind, blocks, function)
        if key not in self.reductions:
            r = Reduction(sp.Symbol("_", real=True), kind, blocks, function)
            label = str(r.expr)
            self.reductions[key] = Reduction(sp.Symbol(label, real=True), kind, blocks, function)
        return self.reductions[key].symbol

    # ------------------------------------------------------------------ scalars
    def scalar(self, e: sp.Basic) -> sp.Expr:
        if e in self.memo:
            return self.memo[e]
        out = self._scalar(e)
        self.memo[e] = out
        return out

    def _scalar(self, e: sp.Basic) -> sp.Expr:
        if not e.args:
            return e
        if isinstance(e, Dot):
            return self.dot(self.vec(e.args[0]), self.vec(e.args[1]))
        if isinstance(e, Norm2):
            v = self.vec(e.args[0])
            return self.dot(v, v)
        if isinstance(e, BlockSum):
            return self.block_sum(e.args[0])
        if isinstance(e, LogSumExp):
            return logsumexp(*self.explicit(self.vec(e.args[0])))
        if isinstance(e, MatrixElement):
            parent, i, j = e.args
            v = self.vec(parent)
            return self.explicit(v)[int(i) * v.shape[1] + int(j)]
        if isinstance(e, MatrixExpr):  # a 1 x 1 matrix used as a scalar
            return self.explicit(self.vec(e))[0]
        args = [self.scalar(a) for a in e.args]
        if all(a is b for a, b in zip(args, e.args)):
            return e
        return e.func(*args)

    def block_sum(self, arg: MatrixExpr) -> sp.Expr:
        if isinstance(arg, Elementwise):
            inner = self.vec(arg.arg)
            if inner.entries is None and len(inner.terms) == 1:
                coef, block = inner.terms[0]
                if block in self.params and coef.is_number:
                    d = arg.function.variables[0]
                    f = sp.Lambda(d, arg.function(coef * d))
                    return self.reduction("sum_f", (block,), f)
        v = self.vec(arg)
        total = sp.Add(*(v.entries or []))
        for coef, block in v.terms:
            if block in self.params:
                total += coef * self.reduction("sum", (block,))
            else:
                total += coef * sp.Add(*self.block_entries(block))
        return total

    def dot(self, a: _Vec, b: _Vec) -> sp.Expr:
        total = sp.S.Zero
        if a.entries is not None and b.entries is not None:
            total += sp.Add(*[p * q for p, q in zip(a.entries, b.entries)])
        for ents, terms in ((a.entries, b.terms), (b.entries, a.terms)):
            if ents is not None:
                for coef, block in terms:
                    total += coef * sp.Add(*[p * q for p, q in zip(ents, self.block_entries(block))])
        for ca, pa in a.terms:
            for cb, pb in b.terms:
                total += ca * cb * self.block_dot(pa, pb)
        return total

    def block_dot(self, p: sp.MatrixSymbol, q: sp.MatrixSymbol) -> sp.Expr:
        if p in self.params and q in self.params:
            return self.reduction("dot", (p, q))
        if p in self.data and q in self.params:
            p, q = q, p
        if p in self.params and q in self.data and 1 in p.shape:
            return self.linear_map(p, q)[0]
        return sp.Add(*[s * t for s, t in zip(self.block_entries(p), self.block_entries(q))])

    def explicit(self, v: _Vec) -> list[sp.Expr]:
        out = list(v.entries) if v.entries is not None else [sp.S.Zero] * v.size
        for coef, block in v.terms:
            out = [o + coef * e for o, e in zip(out, self.block_entries(block))]
        return out

    # ------------------------------------------------------------------ vectors
    def vec(self, e: MatrixExpr) -> _Vec:
        if e in self.memo:
            return self.memo[e]
        out = self._vec(e)
        self.memo[e] = out
        return out

    def _vec(self, e: MatrixExpr) -> _Vec:
        shape = (int(e.shape[0]), int(e.shape[1]))
        if isinstance(e, sp.MatrixSymbol):
            return _Vec(shape, None, [(sp.S.One, e)])
        if isinstance(e, sp.MatAdd):
            out = _Vec(shape, None, [])
            for a in e.args:
                out = out.plus(self.vec(a))
            return out
        if isinstance(e, sp.MatMul):
            return self.matmul(e, shape)
        if isinstance(e, Elementwise):
            return _Vec(shape, [e.function(self.scalar(x)) for x in self.explicit(self.vec(e.arg))])
        if isinstance(e, Softmax):
            zs = self.explicit(self.vec(e.arg))
            return _Vec(shape, [SoftmaxEntry(k, *zs) for k in range(len(zs))])
        if isinstance(e, sp.Transpose):
            inner = self.vec(e.arg)
            if 1 in shape:  # a transposed vector has the same entries
                return _Vec(shape, inner.entries, inner.terms)
            m, n = inner.shape
            ents = self.explicit(inner)
            return _Vec(shape, [ents[i * n + j] for j in range(n) for i in range(m)])
        # anything else: entry by entry through SymPy's own indexing
        ents = [self.scalar(e[i, j]) for i in range(shape[0]) for j in range(shape[1])]
        return _Vec(shape, ents)

    def matmul(self, e: sp.MatMul, shape: tuple[int, int]) -> _Vec:
        coef = sp.Mul(*[a for a in e.args if not isinstance(a, MatrixExpr)])
        mats = [a for a in e.args if isinstance(a, MatrixExpr)]
        coef = self.scalar(coef)
        acc = self.vec(mats[-1])
        for left in reversed(mats[:-1]):
            acc = self.matvec(left, acc)
        return acc.scaled(coef) if coef != 1 else acc

    def matvec(self, left: MatrixExpr, right: _Vec) -> _Vec:
        m, n = (int(d) for d in left.shape)
        k = right.shape[1]
        out_shape = (m, k)
        param, transposed = left, False
        if isinstance(left, sp.Transpose) and isinstance(left.arg, sp.MatrixSymbol):
            param, transposed = left.arg, True
        is_map = (
            isinstance(param, sp.MatrixSymbol) and param in self.params and k == 1
            and right.entries is None and right.terms
            and all(b in self.data and 1 in b.shape for _, b in right.terms)
        )
        if is_map:
            out: list[sp.Expr] = [sp.S.Zero] * m
            for c, x in right.terms:
                if m == 1:  # a row-vector parameter: one inner product
                    us: tuple[sp.Symbol, ...] = self.linear_map(param, x)
                else:
                    us = self.linear_map(param, x, transposed)
                out = [o + c * u for o, u in zip(out, us)]
            return _Vec(out_shape, out)
        lhs = self.explicit(self.vec(left))
        rhs = self.explicit(right)
        ents = [
            sp.Add(*[lhs[i * n + t] * rhs[t * k + j] for t in range(n)])
            for i in range(m) for j in range(k)
        ]
        return _Vec(out_shape, ents)


_SCALAR_NODES = (Dot, Norm2, BlockSum, LogSumExp, MatrixElement)


def lower(expr: sp.Expr, params: tuple[Any, ...], data: tuple[Any, ...]) -> Lowered:
    """Lower a per-sample loss with blocks to its scalar core (see the module docstring).

    A loss without blocks is returned as its own core.
    """
    if not any(is_block(s) for s in (*params, *data)) and not expr.has(MatrixExpr):
        return Lowered(expr, tuple(params), tuple(data))
    lw = _Lowerer(tuple(params), tuple(data))
    core = lw.scalar(expr)
    out = Lowered(core, tuple(params), tuple(data), list(lw.maps.values()),
                  list(lw.reductions.values()), list(lw.entries.values()), lw.expanded)
    taken = {s.name for s in core.free_symbols if s not in set(out.variables) | out.row_symbols}
    clash = sorted(taken & {s.name for s in (*out.variables, *out.row_symbols)})
    if clash:  # pragma: no cover - would need a user symbol named like "w[0]"
        raise SymbolError(f"symbol name(s) {clash} are reserved for block entries; rename them")
    return out
