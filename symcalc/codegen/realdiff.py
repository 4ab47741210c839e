"""Derivatives for the compile path with parameters and data taken as real numbers.

:func:`stabilize` (in :mod:`.stable`) then drops the ``DiracDelta`` terms that the kinks of
``Abs``, ``sign``, ``Max`` and ``Heaviside`` leave in second derivatives.
"""

from __future__ import annotations

import sympy as sp

from .symengine_bridge import derivatives

__all__ = ["real_derivatives", "real_gradient"]

_COMPLEX_PARTS = (sp.Derivative, sp.re, sp.im)


def real_derivatives(expr: sp.Expr, wrt: list[sp.Symbol]) -> list[sp.Expr]:
    """``[d expr / d v for v in wrt]`` with every symbol taken as real.

    Parameters and data are real numbers, but ``sympy.Symbol("w")`` (and every symbol the
    parser makes) carries no such assumption, so SymPy differentiates ``Abs``, ``sign`` and
    friends as complex functions (``re``, ``im``, unevaluated ``Derivative``). Where that
    happens, the derivatives are taken again with real stand-ins for the symbols and mapped
    back: ``d|u|/du = sign(u)``, ``d sign(u)/du = 2 DiracDelta(u)`` (dropped by
    :func:`~symcalc.codegen.stable.stabilize`, being zero away from the kink).
    """
    out = derivatives(expr, wrt)
    if not any(d.has(*_COMPLEX_PARTS) for d in out):
        return out
    syms = {s for s in expr.free_symbols | set(wrt)
            if isinstance(s, sp.Symbol) and s.is_real is not True}
    fwd = {s: sp.Dummy(s.name, real=True) for s in syms}
    back = {v: k for k, v in fwd.items()}
    out = derivatives(expr.xreplace(fwd), [fwd.get(v, v) for v in wrt])
    return [d.xreplace(back) for d in out]


def real_gradient(loss: object) -> list[sp.Expr]:
    """``loss.gradient(form="raw")``, re-derived by :func:`real_derivatives` where it has
    complex parts."""
    grad = list(loss.gradient(form="raw"))  # type: ignore[attr-defined]
    if any(g.has(*_COMPLEX_PARTS) for g in grad):
        return real_derivatives(loss.expr, list(loss.params))  # type: ignore[attr-defined]
    return grad
