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

__all__ = ["CSEPass", "run_cse", "needed", "pull_common_factors", "node_count"]

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
