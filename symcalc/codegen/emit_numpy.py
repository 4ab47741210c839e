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
from .ir import CSEPass, Program, needed
from .emit_blocks import emit_block_function
from .printing import numpy_printer, reduce_code

__all__ = ["NumpyEmitter", "emit_function", "emit_program"]


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

    def fused(self, program: Program, order: int = 1) -> bool:
        """Whether the kernels of ``program`` loop over all rows themselves (never: chunks)."""
        return False

    def kernel_options(self) -> dict[str, Any]:
        """What every kernel handle of this emitter carries (nothing more for NumPy)."""
        return {}

    def prepare(self, fn: Any, data: Any) -> bool:
        """NumPy kernels are ready once executed (nothing compiled, nothing cached)."""
        return False

    def emit(self, tag: str, program: Program, kernels: dict[str, int]) -> tuple[str, dict[str, Any]]:
        """Generate and execute the kernels ``_<name>`` (``kernels``: name -> derivative order)."""
        chunks = [emit_program(f"_{k}", program.select(order), order) for k, order in kernels.items()]
        source = "\n\n\n".join(chunks) + "\n"
        return source, exec_source(source, tag)


def emit_program(name: str, program: Program, order: int) -> str:
    """NumPy source of one kernel of ``program`` (already restricted to ``order``)."""
    if program.blocks:
        return emit_block_function(name, program, order)
    outputs = [program.cse.outputs[o.index] for o in program.outputs]
    params = [p.symbol for p in program.params]
    data = [d.symbol for d in program.data]
    return emit_function(name, program.cse, outputs, params, data)
