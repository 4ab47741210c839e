"""Optional SymEngine acceleration of derivation and common-subexpression elimination.

SymEngine (a C++ symbolic core, extra ``symcalc[fast]``) differentiates and runs CSE on big
losses one to two orders of magnitude faster than SymPy. It is used only as an accelerator:
expressions go in as SymPy and come back as SymPy, and anything SymEngine cannot do exactly
(an unknown function it can only leave as an unevaluated ``Derivative``, a failed conversion)
falls back to SymPy for that output. Functions SymEngine does not know (``Expit``,
``LogAddExp0``, ``log1p``, ``Heaviside``...) travel through it as wrapped SymPy functions whose
derivatives SymPy supplies.

Set the environment variable ``SYMCALC_NO_SYMENGINE=1`` (or :data:`ENABLED` to ``False``) to
use plain SymPy everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import sympy as sp

__all__ = ["ENABLED", "available", "derivatives", "diff_many", "cse"]

#: Module switch (tests flip it); the environment variable disables SymEngine at import.
ENABLED: bool = os.environ.get("SYMCALC_NO_SYMENGINE", "") in ("", "0")

_se: Any = None
_checked = False


def available() -> bool:
    """Whether SymEngine is importable and enabled."""
    global _se, _checked
    if not ENABLED:
        return False
    if not _checked:
        _checked = True
        try:
            import symengine

            _se = symengine
        except ImportError:  # pragma: no cover - depends on the environment
            _se = None
    return _se is not None


def _placeholders(exprs: Sequence[sp.Basic]) -> tuple[dict[sp.Symbol, sp.Symbol], dict[sp.Symbol, sp.Symbol]]:
    """Assumption-free stand-ins named ``_s<i>`` for every free symbol (SymEngine drops
    assumptions and its CSE names temporaries ``x0, x1, ...``, which could collide)."""
    free: set[sp.Symbol] = set()
    for e in exprs:
        free |= e.free_symbols
    ordered = sorted(free, key=lambda s: s.name)
    fwd = {s: sp.Symbol(f"_s{i}") for i, s in enumerate(ordered)}
    return fwd, {v: k for k, v in fwd.items()}


def _back(e: Any, inverse: dict[sp.Symbol, sp.Symbol]) -> sp.Expr:
    out = sp.sympify(e._sympy_() if hasattr(e, "_sympy_") else e)
    return out.xreplace(inverse)


def _unevaluated(e: sp.Basic) -> bool:
    return e.has(sp.Derivative, sp.Subs)


def diff_many(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> list[sp.Expr] | None:
    """``[diff(expr, v) for v in wrt]`` computed with SymEngine, or None when unavailable.

    Outputs SymEngine leaves unevaluated are recomputed by SymPy, so the result always equals
    SymPy's derivative mathematically.
    """
    if not available():
        return None
    try:
        fwd, inv = _placeholders([expr, *wrt])
        s = _se.sympify(expr.xreplace(fwd))
        outs = []
        for v in wrt:
            d = _back(s.diff(_se.Symbol(fwd[v].name)), inv)
            outs.append(sp.diff(expr, v) if _unevaluated(d) else d)
        return outs
    except (TypeError, ValueError, AttributeError, RuntimeError, NotImplementedError,
            sp.SympifyError):
        return None


def cse(
    outputs: Sequence[sp.Expr], temp_prefix: str = "_t"
) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]] | None:
    """Common-subexpression elimination with SymEngine (None when unavailable or failing).

    Returns ``(assignments, reduced)`` like :func:`sympy.cse`, temporaries named
    ``<temp_prefix><i>`` and the outputs' own symbols restored.
    """
    if not available():
        return None
    try:
        fwd, inv = _placeholders(outputs)
        converted = [_se.sympify(sp.sympify(o).xreplace(fwd)) for o in outputs]
        pairs, reduced = _se.cse(converted)
        temps: dict[sp.Symbol, sp.Symbol] = {}
        assignments = []
        for lhs, rhs in pairs:
            name = sp.Symbol(f"{temp_prefix}{len(temps)}")
            temps[sp.Symbol(str(lhs))] = name
            assignments.append((name, _back(rhs, {**inv, **temps})))
        back = {**inv, **temps}
        return assignments, [_back(r, back) for r in reduced]
    except (TypeError, ValueError, AttributeError, RuntimeError, NotImplementedError,
            sp.SympifyError):
        return None


def derivatives(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """``[diff(expr, v) for v in wrt]``: SymEngine when available (same results), else SymPy."""
    fast = diff_many(expr, wrt)
    return fast if fast is not None else [sp.diff(expr, v) for v in wrt]
