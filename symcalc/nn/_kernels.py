"""The compiled kernels of activations and losses: the one compile path, cached.

Every activation, loss and row-wise function of :mod:`symcalc.nn` compiles its SymPy
expressions (value and derivatives together, one CSE pass) through
:func:`symcalc.codegen.compile_elementwise`; equal expressions are compiled once per process.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from ..errors import SymcalcError

@functools.lru_cache(maxsize=256)
def _compiled(exprs: tuple[sp.Expr, ...], symbols: tuple[sp.Symbol, ...]) -> Any:
    """The shared compile path, cached so equal expressions are compiled once per process."""
    from ..codegen import compile_elementwise

    try:
        return compile_elementwise(list(exprs), list(symbols))
    except SymcalcError:
        raise
    except Exception as exc:  # unsupported SymPy functions in user expressions
        raise SymcalcError(
            f"could not compile {', '.join(map(str, exprs))} to NumPy code: {exc}"
        ) from None


def _unchecked(fn: Any) -> Any:
    """``fn`` (an ElementwiseFunction) without its per-call conversions and errstate, for the
    training loop, which passes float64 arrays of one shape inside ``np.errstate``. A probe
    compares it with the checked call; on any difference the checked call is used."""
    kernel = getattr(fn, "_fn", None)
    if kernel is None:  # pragma: no cover - depends on the compile module's internals
        return fn

    def fast(*cols: np.ndarray) -> tuple[np.ndarray, ...]:
        outs = kernel((), cols, cols[0].shape)
        return tuple(o if getattr(o, "dtype", None) == np.float64 else
                     np.asarray(o, dtype=np.float64) for o in outs)

    probe = [np.linspace(-2.0, 2.0, 6).reshape(2, 3) + 0.25 * i for i in range(len(fn.args))]
    try:
        with np.errstate(all="ignore"):
            same = all(np.array_equal(np.broadcast_to(a, b.shape), b, equal_nan=True)
                       for a, b in zip(fast(*probe), fn(*probe)))
    except Exception:  # pragma: no cover - a changed calling convention
        same = False
    return fast if same else fn
