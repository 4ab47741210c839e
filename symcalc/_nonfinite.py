"""Who is to blame for a NaN: the loss, or symcalc's float64 evaluation of it?

When a compiled value or gradient entry is NaN, :func:`diagnose` finds a row that makes it
NaN (bisection over the rows with the compiled kernel), evaluates the exact expression at
that row with mpmath at 60 digits, and, when the exact value is finite, names the smallest
subexpression of the compiled (stabilised) form whose value lies outside float64's range
(the one that overflowed, or underflowed to 0 in a denominator). The message then says that
symcalc could not evaluate the loss stably there, instead of calling it undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from ._mpeval import mp_function
from .errors import SymcalcError

__all__ = ["diagnose"]

_DPS = 60
_MAX = mpmath.mpf("1.7976931348623157e308")
_TINY = mpmath.mpf("2.2250738585072014e-308")


def _bad_row(probe: Callable[[int, int], float], n: int) -> int | None:
    """A row ``r`` with ``probe(r, r + 1)`` NaN, by bisection (``probe(a, b)`` sums rows)."""
    lo, hi = 0, n
    if not np.isnan(probe(lo, hi)):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if np.isnan(probe(lo, mid)) else (mid, hi)
    return lo


def _culprit(stable: sp.Expr, f_args: list, symbols: Sequence[sp.Symbol]) -> tuple | None:
    """The smallest subexpression whose exact value float64 cannot hold, with that value."""
    for node in sp.postorder_traversal(stable):
        if not isinstance(node, sp.Expr) or node.is_Atom or not node.free_symbols:
            continue
        try:
            with mpmath.workdps(_DPS):
                v = mp_function(node, symbols)(*f_args)
        except (SymcalcError, ArithmeticError, ValueError, TypeError):
            continue
        mag = abs(v)
        if mag > _MAX:
            return node, v, "overflows"
        if 0 < mag < _TINY and any(
                p.is_Pow and p.base == node and p.exp.is_negative
                for p in sp.preorder_traversal(stable) if isinstance(p, sp.Pow)):
            return node, v, "underflows to 0 in a denominator"
    return None


def diagnose(exact: sp.Expr, stable: sp.Expr, symbols: Sequence[sp.Symbol],
             values: Sequence[float], columns: Sequence[np.ndarray],
             probe: Callable[[int, int], float]) -> str | None:
    """A sentence blaming symcalc for a NaN, or None when the loss itself is undefined.

    ``symbols`` are the parameters then the data symbols; ``values`` the parameter values;
    ``columns`` the data columns (one per data symbol); ``probe(a, b)`` the NaN-carrying
    output summed over rows ``a:b``. Never raises: a failed diagnosis is None.
    """
    try:
        return _diagnose(exact, stable, symbols, values, columns, probe)
    except Exception:  # noqa: BLE001 - the diagnosis must never hide the original error
        return None


def _diagnose(exact: sp.Expr, stable: sp.Expr, symbols: Sequence[sp.Symbol],
              values: Sequence[float], columns: Sequence[np.ndarray],
              probe: Callable[[int, int], float]) -> str | None:
    n = len(columns[0]) if columns else 1
    row = _bad_row(probe, n)
    if row is None:
        return None
    args = [mpmath.mpf(float(v)) for v in values] + [mpmath.mpf(float(c[row])) for c in columns]
    try:
        with mpmath.workdps(_DPS):
            true = mp_function(exact, symbols)(*args)
    except (SymcalcError, ArithmeticError, ValueError, TypeError):
        return None
    if isinstance(true, mpmath.mpc) or not mpmath.isfinite(true) or abs(true) > _MAX:
        return None
    where = f"row {row}" if columns else "this point"
    found = _culprit(stable, args, symbols)
    what = (f"; the subexpression {str(found[0])[:120]} (= {mpmath.nstr(found[1], 6)} there) "
            f"{found[2]} in float64" if found else "")
    return (f"its exact value at {where} is {mpmath.nstr(true, 12)} (60-digit evaluation), so "
            f"symcalc could not evaluate it stably in float64{what}; rewrite that part in a "
            "stable form (logaddexp/softplus, log1p, rescaled data) or report it as a symcalc "
            "bug")
