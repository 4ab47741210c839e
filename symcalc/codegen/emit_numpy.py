"""The NumPy emitter: vectorized code over a chunk of rows, reduced inside the kernel.

Each output is reduced over the rows inside the generated code: a term linear in two
data-dependent factors becomes ``numpy.dot``, a term that does not depend on the data is
multiplied by the row count (so ``2*b`` summed over N rows is ``N*2*b``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from .execution import exec_source
from .ir import CSEPass, needed
from .printing import NumPyPrinter, numpy_printer

__all__ = ["NumpyEmitter", "emit_function", "reduce_code"]


def reduce_code(e: sp.Expr, dependent: set[sp.Symbol], pr: NumPyPrinter) -> str:
    """Code for the sum over the rows of the chunk of the per-row expression ``e``."""
    if not (e.free_symbols & dependent):
        return "0.0" if e == 0 else f"_n*({pr.doprint(e)})"
    if e.is_Add:
        const = [t for t in e.args if not (t.free_symbols & dependent)]
        terms = [t for t in e.args if t.free_symbols & dependent]
        if len(terms) > 8:  # many terms: one pass over their sum beats one pass per term
            parts = [f"numpy.sum({pr.doprint(sp.Add(*terms))})"]
        else:
            parts = [reduce_code(t, dependent, pr) for t in terms]
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


def emit_function(
    name: str,
    cse: CSEPass,
    outputs: list[sp.Expr],
    params: Sequence[sp.Symbol],
    data: Sequence[sp.Symbol],
    *,
    reduce: bool = True,
) -> str:
    """Source of ``name(_theta, _cols, _n)`` returning the outputs (row sums when ``reduce``,
    else each broadcast to the rows)."""
    pr = numpy_printer()
    lines = [f"def {name}(_theta, _cols, _n):"]
    if params:
        lines.append(f"    {', '.join(p.name for p in params)}, = _theta")
    if data:
        lines.append(f"    {', '.join(d.name for d in data)}, = _cols")
    for sym, rhs in needed(cse, outputs):
        lines.append(f"    {sym.name} = {pr.doprint(rhs)}")
    if reduce:
        reduced = [reduce_code(o, cse.data_dependent, pr) for o in outputs]
    else:  # elementwise: broadcast every output to the row shape
        reduced = [
            pr.doprint(o) if o.free_symbols & cse.data_dependent else f"_full(_n, {pr.doprint(o)})"
            for o in outputs
        ]
    lines.append("    return (")
    lines += [f"        {r}," for r in reduced]
    lines.append("    )")
    return "\n".join(lines)


class NumpyEmitter:
    """Emits chunked NumPy kernels (the default backend).

    ``rows`` is the chunk size: each temporary is one chunk long, which bounds the extra
    memory of one call however large N is and keeps the temporaries in cache.
    """

    backend = "numpy"

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def emit(
        self, tag: str, cse: CSEPass, kernels: dict[str, list[sp.Expr]],
        params: list[sp.Symbol], data: list[sp.Symbol],
    ) -> tuple[str, dict[str, Any]]:
        """Generate and execute the source of the kernels ``_<name>``."""
        chunks = [emit_function(f"_{k}", cse, outs, params, data) for k, outs in kernels.items()]
        source = "\n\n\n".join(chunks) + "\n"
        return source, exec_source(source, tag)
