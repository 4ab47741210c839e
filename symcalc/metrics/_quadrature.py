"""Numeric definite integrals that say whether they converged.

One entry point, :func:`quadrature`, tries in order and stops at the first method that
converged (no warning, error estimate small against the value):

1. ``scipy.integrate.quad`` on the integrand compiled through symcalc's own compile path
   (the stable rewrites of losses apply: ``x**2*exp(-x)/(1 + exp(-x))**2`` does not overflow);
2. on an infinite range with an oscillating factor ``g(x) * sin(w x + p)`` (or ``cos``):
   QUADPACK's QAWF (``quad(weight="sin"/"cos", wvar=w)``) for the tail, ``quad`` before it;
   with ``sin(c x**k + p)``, mpmath's ``quadosc`` between the zeros of the factor;
3. mpmath's tanh-sinh quadrature at 30 digits, the integrand evaluated by symcalc's mpmath
   tree walker.

A method that did not converge never confirms anything: the result then has
``converged=False`` and the note says why.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from .._mpeval import mp_function
from .._timeout import call_with_timeout
from ..errors import SymbolicTimeout
from ..codegen import compile_elementwise

__all__ = ["Quadrature", "quadrature"]

_RTOL = 1e-6  # a quadrature converged when its error estimate is below this, relative
_ATOL = 1e-12
_MP_DPS = 30


@dataclass
class Quadrature:
    value: float
    error: float
    converged: bool
    method: str
    note: str = ""


def _ok(value: float, error: float) -> bool:
    return math.isfinite(value) and math.isfinite(error) and error <= max(
        _RTOL * abs(value), _ATOL)


def _float_fn(expr: sp.Expr, var: sp.Symbol) -> Callable[[float], float]:
    """The integrand as a float function, through the compile path (mpmath if it cannot)."""
    try:
        fn = compile_elementwise([expr], [var])

        def f(t: float) -> float:
            return float(fn(t)[0])

        f(0.5)  # fails here, not inside quad, when a function cannot be compiled
        return f
    except Exception:  # noqa: BLE001 - e.g. a special function NumPy lacks: use mpmath
        g = mp_function(expr, [var])

        def f(t: float) -> float:
            with mpmath.workdps(20):
                v = g(mpmath.mpf(t))
            return float(v) if not isinstance(v, mpmath.mpc) or abs(v.imag) <= 1e-15 * (
                1 + abs(v.real)) else math.nan

        return f


def _quad(f: Callable[[float], float], lo: float, hi: float, **kw: object) -> Quadrature:
    from scipy.integrate import IntegrationWarning, quad  # lazy: keeps `import symcalc` light

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always", IntegrationWarning)
        try:
            value, error = quad(f, lo, hi, limit=200, **kw)
        except Exception as exc:  # noqa: BLE001 - the integrand failed to evaluate
            return Quadrature(math.nan, math.nan, False, "quad", f"quad failed: {exc}")
    notes = [" ".join(str(w.message).split()) for w in caught
             if issubclass(w.category, IntegrationWarning)]
    method = "quad" if "weight" not in kw else f"QAWF ({kw['weight']})"
    if not math.isfinite(value):
        return Quadrature(value, error, False, method,
                          "the integrand is not finite and real on the interval")
    note = f"{method} warned: {notes[0]}" if notes else ""
    return Quadrature(float(value), float(error), not notes and _ok(value, error), method, note)


def _trig_factor(expr: sp.Expr, var: sp.Symbol):
    """``(g, trig, c, k, p)`` with ``expr = g * trig(c*var**k + p)``, trig in sin/cos, or None."""
    factors = sp.Mul.make_args(sp.factor_terms(expr))
    for i, fac in enumerate(factors):
        if not isinstance(fac, (sp.sin, sp.cos)):
            continue
        arg = sp.expand(fac.args[0])
        rest = sp.Mul(*(factors[:i] + factors[i + 1:]))
        if rest.has(sp.sin, sp.cos) and any(t.has(var) for t in rest.atoms(sp.sin, sp.cos)):
            continue
        poly = sp.Poly(arg, var) if arg.is_polynomial(var) else None
        if poly is None or not all(c.is_number for c in poly.all_coeffs()):
            continue
        terms = dict(zip(poly.monoms(), poly.coeffs()))
        phase = terms.pop((0,), sp.S.Zero)
        if len(terms) != 1:
            continue
        ((k,), c), = terms.items()
        return rest, type(fac), float(c), int(k), float(phase)
    return None


def _tail_qawf(expr, var, start: float, split) -> Quadrature | None:
    """``int_start^oo g(x) trig(c x + p) dx`` by QAWF (``k == 1``)."""
    g, trig, c, _k, p = split
    gf = _float_fn(g, var)
    sign = 1.0 if c > 0 else -1.0
    w = abs(c)
    # sin(s w x + p) = s sin(w x) cos p + cos(w x) sin p;  cos(s w x + p) = cos p cos(w x) - s sin p sin(w x)
    if trig is sp.sin:
        parts = ((sign * math.cos(p), "sin"), (math.sin(p), "cos"))
    else:
        parts = ((math.cos(p), "cos"), (-sign * math.sin(p), "sin"))
    total, err, notes = 0.0, 0.0, []
    for coef, weight in parts:
        if coef == 0.0:
            continue
        q = _quad(gf, start, math.inf, weight=weight, wvar=w)
        if not q.converged:
            return q
        total += coef * q.value
        err += abs(coef) * q.error
    return Quadrature(total, err, True, "QAWF")


def _tail_quadosc(expr, var, start: float, split) -> Quadrature | None:
    """``int_start^oo`` by mpmath's quadosc between the zeros of ``trig(c x**k + p)``."""
    _g, trig, c, k, p = split
    if c < 0:
        c, p = -c, -p
        # sin(-u) = -sin(u) and cos(-u) = cos(u): the zeros are those of trig(c x^k - p)
    shift = 0.0 if trig is sp.sin else math.pi / 2
    f = mp_function(expr, [var])
    with mpmath.workdps(20):
        n0 = math.ceil((c * start**k + p - shift) / math.pi) + 1

        def zeros(n: int) -> mpmath.mpf:
            return ((mpmath.pi * (n0 + n - 1) + shift - p) / c) ** (mpmath.mpf(1) / k)

        first = zeros(1)
        head = mpmath.quad(f, [start, first], error=True)
        tail = mpmath.quadosc(f, [first, mpmath.inf], zeros=zeros)
    value = float(head[0] + tail)
    error = float(head[1]) + 1e-12 * abs(value)  # quadosc gives no estimate: its usual accuracy
    return Quadrature(value, error, _ok(value, float(head[1])), "quadosc")


def _tail(expr, var, start: float) -> Quadrature | None:
    """``int_start^oo expr``, term by term after reducing powers of sin/cos (``sin(x)**2 =
    (1 - cos(2x))/2``): QAWF or quadosc for terms with one oscillating factor, quad else."""
    from sympy.simplify.fu import TR8

    total, error = 0.0, 0.0
    method = "quad"
    for term in sp.Add.make_args(sp.expand(TR8(expr))):
        split = _trig_factor(term, var)
        if split is None or split[3] < 1 or split[2] == 0:
            if term.has(sp.sin, sp.cos):
                return None
            q = _quad(_float_fn(term, var), start, math.inf)
        else:
            q = (_tail_qawf if split[3] == 1 else _tail_quadosc)(term, var, start, split)
            method = q.method
        if not q.converged:
            return q
        total, error = total + q.value, error + q.error
    return Quadrature(total, error, True, method)


def _oscillatory(expr, var, lo: float, hi: float) -> Quadrature | None:
    """Split an infinite range with oscillating factors into head + oscillatory tail."""
    if math.isinf(lo) and math.isinf(hi):
        right = _oscillatory(expr, var, 0.0, math.inf)
        left = _oscillatory(expr.subs(var, -var), var, 0.0, math.inf)
        if right is None or left is None:
            return None
        return Quadrature(right.value + left.value, right.error + left.error,
                          right.converged and left.converged, right.method,
                          right.note or left.note)
    if math.isinf(lo):
        return _oscillatory(expr.subs(var, -var), var, -hi, math.inf)
    from sympy.simplify.fu import TR8

    splits = [_trig_factor(t, var) for t in sp.Add.make_args(sp.expand(TR8(expr)))]
    freqs = [abs(sp_[2]) ** (1 / sp_[3]) for sp_ in splits if sp_ is not None and sp_[3] >= 1]
    if not freqs or not all(math.isfinite(w) and w > 0 for w in freqs):
        return None
    start = max(lo, 0.0) + 2 * math.pi / min(freqs)
    head = _quad(_float_fn(expr, var), lo, start) if start > lo else Quadrature(0, 0, True, "")
    if not head.converged:
        return head
    try:
        tail = _tail(expr, var, start)
    except Exception:  # noqa: BLE001 - a term not evaluable on the tail: not this method
        return None
    if tail is None:
        return None
    return Quadrature(head.value + tail.value, head.error + tail.error,
                      head.converged and tail.converged, tail.method, tail.note)


def _mpmath(expr, var, lo: float, hi: float) -> Quadrature:
    """tanh-sinh and Gauss-Legendre at 30 digits; converged when both agree."""
    f = mp_function(expr, [var])
    values = []
    with mpmath.workdps(_MP_DPS):
        a = -mpmath.inf if lo == -math.inf else mpmath.mpf(lo)
        b = mpmath.inf if hi == math.inf else mpmath.mpf(hi)
        for method in ("tanh-sinh", "gauss-legendre"):
            value, error = mpmath.quad(f, [a, b], error=True, maxdegree=7, method=method)
            if isinstance(value, mpmath.mpc):
                if abs(value.imag) > 1e-20 * max(1, abs(value.real)):
                    return Quadrature(math.nan, math.nan, False, "mpmath",
                                      "the integral is not real")
                value = value.real
            values.append((float(value), float(error)))
    (v, e), (v2, e2) = values
    e = max(e, abs(v - v2))
    if _ok(v, e):
        return Quadrature(v, e, True, "mpmath")
    return Quadrature(v, e, False, "mpmath", "mpmath's tanh-sinh and Gauss-Legendre rules "
                      f"differ by {abs(v - v2):.2g} (error estimate {e:.2g})")


def quadrature(expr: sp.Expr, var: sp.Symbol, lo: float, hi: float, *,
               budget: float | None = None) -> Quadrature:
    """The first converged of quad, an oscillatory method, and mpmath (see the module).

    ``budget`` (seconds, None for no limit) bounds the fallbacks after ``quad``: they run in
    a child process that is killed when it is spent.
    """
    first = _quad(_float_fn(expr, var), lo, hi)
    if first.converged:
        return first
    if budget is not None and budget <= 0.05:
        return Quadrature(first.value, first.error, False, first.method,
                          f"quad did not converge and no time was left to retry ({first.note})")
    try:
        return call_with_timeout(_fallbacks, expr, var, lo, hi, first, timeout=budget,
                                 what="the fallback quadratures")
    except SymbolicTimeout as exc:
        return Quadrature(first.value, first.error, False, first.method,
                          f"quad did not converge ({first.note}) and {exc}")


def _fallbacks(expr: sp.Expr, var: sp.Symbol, lo: float, hi: float,
               first: Quadrature) -> Quadrature:
    tried = [first]
    if math.isinf(lo) or math.isinf(hi):
        osc = _oscillatory(expr, var, lo, hi)
        if osc is not None:
            if osc.converged:
                return osc
            tried.append(osc)
    try:
        tried.append(_mpmath(expr, var, lo, hi))
    except Exception as exc:  # noqa: BLE001 - the mpmath integrand failed
        tried.append(Quadrature(math.nan, math.nan, False, "mpmath", f"mpmath failed: {exc}"))
    if tried[-1].converged:
        return tried[-1]
    first = tried[0]
    notes = "; ".join(q.note for q in tried if q.note)
    return Quadrature(first.value, first.error, False, first.method,
                      f"no quadrature converged ({notes})")
