"""Elementwise mode of the compile path: expressions -> one vectorized function, no reduction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from ..errors import SymcalcError
from .emit_numpy import emit_function
from .execution import exec_source
from .ir import run_cse
from .printing import identifiers
from .stable import stabilize

__all__ = ["ElementwiseFunction", "compile_elementwise"]


class ElementwiseFunction:
    """Several expressions of the same arguments compiled into one vectorized function.

    Made by :func:`compile_elementwise`. Calling it with one array (or scalar) per argument
    returns a tuple with one float64 array per expression, each broadcast to the arguments'
    shape. The outputs share one CSE pass, so e.g. ``tanh(z)`` and its derivative
    ``1 - tanh(z)**2`` evaluate ``tanh`` once. ``source`` shows the generated code.
    """

    def __init__(self, exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol]) -> None:
        exprs = [sp.sympify(e) for e in exprs]
        self.exprs = tuple(exprs)
        self.args = tuple(args)
        stable, self.rewrites = stabilize(list(exprs))
        names = identifiers(self.args, "a")
        outs = [e.xreplace(names) for e in stable]
        cse = run_cse(outs, set(names.values()))
        self.source = emit_function(
            "_elementwise", cse, cse.outputs, [], [names[a] for a in self.args], reduce=False
        ) + "\n"
        self._fn = exec_source(self.source, "elementwise")["_elementwise"]

    def __call__(self, *arrays: Any) -> tuple[np.ndarray, ...]:
        if len(arrays) != len(self.args):
            raise SymcalcError(
                f"expected {len(self.args)} argument(s) ({', '.join(a.name for a in self.args)}); "
                f"got {len(arrays)}"
            )
        cols = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays])
        with np.errstate(all="ignore"):
            return tuple(np.asarray(o, dtype=np.float64) for o in self._fn((), cols, cols[0].shape))

    def __repr__(self) -> str:
        return f"ElementwiseFunction({list(self.exprs)}, args={list(self.args)})"


def compile_elementwise(exprs: Sequence[sp.Expr], args: Sequence[sp.Symbol]) -> ElementwiseFunction:
    """Compile expressions into one vectorized NumPy function of ``args`` (no reduction).

    This is the compile path's elementwise mode, used for activation functions and their
    derivatives in :mod:`symcalc.nn`. The same stable rewrites and CSE apply.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> f = compile_elementwise([sp.tanh(z), sp.diff(sp.tanh(z), z)], [z])
    >>> [round(float(v), 6) for v in f([0.5])[1]]
    [0.786448]
    """
    if not args:
        raise SymcalcError("compile_elementwise needs at least one argument symbol")
    return ElementwiseFunction(exprs, args)
