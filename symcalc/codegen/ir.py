"""The one common-subexpression pass every backend's code is generated from.

:func:`run_cse` turns a list of output expressions into assignments to temporaries and
reduced outputs (SymEngine's ``cse`` when the optional ``symengine`` is installed, else
:func:`sympy.cse`), and records which temporaries depend on the data rows. Emitters (NumPy,
numba) print the same :class:`CSEPass`; they differ only in how they loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.simplify.cse_main import tree_cse

from .symengine_bridge import cse as symengine_cse

__all__ = [
    "CSEPass", "run_cse", "needed", "pull_common_factors", "node_count",
    "Input", "Map", "Pick", "RowConstant", "Output", "Program",
]

_FULL_CSE_NODES = 20_000  # above this many tree nodes, the cheaper tree CSE is used


@dataclass
class CSEPass:
    """One common-subexpression pass over a list of outputs.

    Attributes
    ----------
    assignments : list of (Symbol, Expr)
        Temporaries in evaluation order.
    outputs : list of Expr
        The outputs in terms of inputs and temporaries.
    data_dependent : set of Symbol
        Data symbols and the temporaries that depend on them (per-row quantities).
    """

    assignments: list[tuple[sp.Symbol, sp.Expr]]
    outputs: list[sp.Expr]
    data_dependent: set[sp.Symbol]


def run_cse(outputs: list[sp.Expr], data_symbols: set[sp.Symbol], prefix: str = "_t") -> CSEPass:
    """The one CSE pass every backend's code is generated from (SymEngine's when installed)."""
    # Pull common factors out of sums first (x*s - x*y -> x*(s - y)): one reduction per
    # gradient entry instead of two, and the shared (s - y) becomes one temporary.
    outputs = [pull_common_factors(o) for o in outputs]
    fast = symengine_cse(outputs, prefix)
    temps = sp.numbered_symbols(prefix)
    if fast is not None:
        assignments, reduced = fast
    elif sum(node_count(o) for o in outputs) <= _FULL_CSE_NODES:
        assignments, reduced = sp.cse(outputs, symbols=temps, order="none", list=True)
    else:  # big losses: repeated-subtree CSE only (SymPy's Add/Mul matching is superlinear)
        assignments, reduced = tree_cse(outputs, temps, opt_subs={}, order="none")
    dependent = set(data_symbols)
    for sym, rhs in assignments:
        if rhs.free_symbols & dependent:
            dependent.add(sym)
    return CSEPass(list(assignments), list(reduced), dependent)


def pull_common_factors(e: sp.Expr) -> sp.Expr:
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


def node_count(e: sp.Basic, limit: int = 10**6) -> int:
    """Nodes of the expression tree of ``e`` (counting stops at ``limit``)."""
    count = 0
    for _ in sp.preorder_traversal(e):
        count += 1
        if count >= limit:
            break
    return count


def needed(cse: CSEPass, outputs: list[sp.Expr]) -> list[tuple[sp.Symbol, sp.Expr]]:
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


# ------------------------------------------------------------------------------- the program
@dataclass(frozen=True)
class Input:
    """One input of a generated kernel.

    ``symbol`` is its identifier in the generated code, ``label`` the user's name, ``shape``
    the value's array shape (``()`` for a scalar; for data, the shape of ONE row), ``where``
    the slice of the flat theta (parameters) or the index into the data columns (data).
    """

    symbol: sp.Symbol
    label: str
    shape: tuple[int, ...]
    where: slice | int

    @property
    def size(self) -> int:
        out = 1
        for d in self.shape:
            out *= d
        return out

    @property
    def flat(self) -> str:
        """The generated name of the block's entries as one flat array (row-major)."""
        sl = self.where
        return f"_f{sl.start if isinstance(sl, slice) else sl}"

    def unpack(self) -> list[str]:
        """The lines (no indentation) that take this parameter out of the flat ``_theta``:
        a scalar, or the flat entries and, for a matrix, its 2-D view. (Generated code uses
        module functions, never array attributes: see ``symcalc._safety``.)"""
        sl = self.where
        assert isinstance(sl, slice)
        name = self.symbol.name
        if not self.shape:
            return [f"{name} = _theta[{sl.start}]"]
        lines = [f"{self.flat} = _theta[{sl.start}:{sl.stop}]"]
        if len(self.shape) == 1:
            return lines + [f"{name} = {self.flat}"]
        return lines + [f"{name} = numpy.reshape({self.flat}, {self.shape})"]


@dataclass(frozen=True)
class Map:
    """Per-row scalars ``symbols[k] = P[k, :] . x`` (``P[:, k] . x`` when ``transposed``; one
    symbol ``P . x`` for a vector ``P``): ONE matrix product over the rows of data ``x``."""

    symbols: tuple[sp.Symbol, ...]
    param: Input
    data: Input
    transposed: bool = False

    def slots(self, k: int) -> slice:
        """Where the coefficients of output ``k`` live in the flat theta."""
        base = self.param.where
        assert isinstance(base, slice)
        if len(self.symbols) == 1:
            return base
        m, n = self.param.shape
        if self.transposed:
            return slice(base.start + k, base.stop, n)
        return slice(base.start + k * n, base.start + (k + 1) * n)


@dataclass(frozen=True)
class Pick:
    """The scalar ``symbol`` = entry ``index`` (row-major) of a parameter block, or column
    ``index`` of a data block."""

    symbol: sp.Symbol
    block: Input
    index: int


@dataclass(frozen=True)
class RowConstant:
    """A scalar of parameter blocks computed once per call.

    ``kind``: ``"dot"`` (``blocks[0] . blocks[1]``), ``"sum"`` (sum of the entries) or
    ``"sum_f"`` (``sum(f(P))``; ``f``, ``df``, ``d2f`` are the function and its first two
    derivatives as one-argument ``Lambda``s, printed elementwise over the block).
    """

    symbol: sp.Symbol
    kind: str
    blocks: tuple[Input, ...]
    f: sp.Lambda | None = None
    df: sp.Lambda | None = None
    d2f: sp.Lambda | None = None


#: How a variable of the per-row core moves with theta (its Jacobian row):
#: ("slot", flat index) | ("map", Map, k) | ("const", RowConstant)
Direction = tuple


@dataclass(frozen=True)
class Output:
    """One CSE output and where it lands in the flat result ``[value, grad, hess-upper]``.

    ``kind`` is ``"value"``, ``"grad"`` (``dirs`` = one direction: the output is dF/dv) or
    ``"hess"`` (two directions: d2F/dv dv'), or ``"curv"`` (the output is dF/ds and ``dirs``
    names the RowConstant whose own second derivative it multiplies).
    """

    index: int
    kind: str
    dirs: tuple[Direction, ...] = ()


@dataclass
class Program:
    """The derived, stabilised, CSE'd program every emitter prints: the public IR.

    Attributes
    ----------
    params, data : list of Input
        Parameter inputs (scalars and blocks, slices of the flat theta) and data inputs.
    picks : list of Pick
        Scalars taken from blocks (entries of small blocks, columns of data blocks).
    maps : list of Map
        Linear maps of data blocks, each one matrix product over the rows.
    constants : list of RowConstant
        Row-constant scalars of parameter blocks (``norm2(w)``, ...).
    cse : CSEPass
        The per-row core and its derivatives after one CSE pass.
    outputs : list of Output
        Where each CSE output lands in the result (``cse.outputs[o.index]``).
    size : int
        Length of the flat theta.
    blocks : bool
        Whether any input is a block (else every output is a plain row sum: the scalar path).
    """

    params: list[Input]
    data: list[Input]
    picks: list[Pick]
    maps: list[Map]
    constants: list[RowConstant]
    cse: CSEPass
    outputs: list[Output]
    size: int
    blocks: bool

    def select(self, order: int) -> Program:
        """The program restricted to value (0), value+gradient (1) or everything (2)."""
        kinds = {0: {"value"}, 1: {"value", "grad"}, 2: {"value", "grad", "hess", "curv"}}[order]
        return Program(self.params, self.data, self.picks, self.maps, self.constants, self.cse,
                       [o for o in self.outputs if o.kind in kinds], self.size, self.blocks)

    def result_size(self, order: int) -> int:
        p = self.size
        return 1 + (p if order >= 1 else 0) + (p * (p + 1) // 2 if order >= 2 else 0)
