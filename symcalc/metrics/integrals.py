"""Definite integrals two ways: exact (``sympy.integrate``, time-limited) and numeric
(quadrature that reports whether it converged, see :mod:`._quadrature`), with a verdict on
whether they agree: confirmed only by a converged quadrature, contradicted only by one."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .._safety import check_expression
from .._timeout import call_with_timeout
from .._expressions import as_expr
from .._validate import check_positive, describe, resolve_symbol
from ..errors import SymbolError, SymbolicTimeout, SymcalcError
from ..results import Result
from ._quadrature import Quadrature, quadrature

__all__ = ["integrate", "IntegralReport"]

_RTOL = 1e-8  # relative agreement tolerance (on top of 4x the converged quadrature's error)

_REASONS = {
    "agree": "the exact value and the numeric quadrature ({method}) agree",
    "disagree": "the exact value {exact:.12g} and the converged numeric estimate {numeric:.12g} "
    "({method}) differ by {diff:.3g}, more than the tolerance {tol:.3g}",
    "unevaluated": "SymPy found no closed form (the integral stays unevaluated); only the "
    "numeric value is available",
    "timeout": "SymPy did not finish within {timeout:g} s; only the numeric value is available",
    "sympy_failed": "SymPy could not integrate it ({error}); only the numeric value is available",
    "divergent": "SymPy says the integral diverges ({exact}); the numeric value is not meaningful",
    "divergent_but_finite": "SymPy says the integral diverges ({exact}) but the quadrature "
    "converged to {numeric:.12g}",
    "free_symbols": "the integrand has free symbols {names} besides {var}; the exact result "
    "depends on them and the numeric check needs numbers (substitute values to check it)",
    "not_numeric": "the exact result {exact} is not a real number (at 50 digits its imaginary "
    "part is {imag:.3g}), while the integrand is real",
    "not_evaluable": "the exact result {exact} could not be evaluated numerically",
    "unconverged": "the exact value is {exact:.12g} but the numeric quadrature did not converge, "
    "so it neither confirms nor contradicts it",
    "quad_failed": "numeric quadrature failed: {error}",
}


@dataclass(repr=False, eq=False)
class IntegralReport(Result):
    """Exact and numeric values of a definite integral (see :func:`integrate`)."""

    agree: bool | None
    reason: str
    exact: sp.Basic | None
    numeric: float
    error: float
    expr: sp.Basic
    var: sp.Symbol
    bounds: tuple[sp.Basic, sp.Basic]
    converged: bool = False
    method: str = ""


def _as_bound(value: Any, name: str) -> sp.Basic:
    bound = as_expr(value, name)
    if bound.free_symbols:
        names = ", ".join(sorted(str(s) for s in bound.free_symbols))
        raise SymbolError(f"{name} must be a number, oo or -oo; got {bound} with symbols {names}")
    if bound.is_extended_real is not True:
        raise SymcalcError(f"{name} must be a real number, oo or -oo; got {bound}")
    return bound


def _sympy_integrate(expr: sp.Basic, var: sp.Symbol, a: sp.Basic, b: sp.Basic) -> sp.Basic:
    return sp.integrate(expr, (var, a, b))


def _exact(
    expr: sp.Basic, var: sp.Symbol, a: sp.Basic, b: sp.Basic, timeout: float | None,
    left: float | None,
) -> tuple[sp.Basic | None, str | None]:
    """The closed form, or None and the reason there is none (``left`` seconds of the
    ``timeout`` remain)."""
    what = f"sympy.integrate of {describe(expr, 80)}"
    try:
        value = call_with_timeout(_sympy_integrate, expr, var, a, b, timeout=left, what=what)
    except SymbolicTimeout:
        return None, _REASONS["timeout"].format(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds on hard integrals
        return None, _REASONS["sympy_failed"].format(error=f"{type(exc).__name__}: {exc}")
    if value.has(sp.Integral):
        return None, _REASONS["unevaluated"]
    return value, None


def _real_value(exact: sp.Basic) -> tuple[float | None, str | None]:
    """The exact value as a float when it is real, decided at high precision (not by form:
    ``log(-exp_polar(I*pi)) - Ei(exp_polar(I*pi)) + I*pi`` is the real E1(1))."""
    try:
        coarse, fine = (complex(sp.N(exact, dps)) for dps in (30, 50))
    except (TypeError, ValueError, AttributeError):
        return None, _REASONS["not_evaluable"].format(exact=exact)
    if not (math.isfinite(fine.real) and math.isfinite(fine.imag)):
        return None, _REASONS["not_evaluable"].format(exact=exact)
    scale = max(1.0, abs(fine.real))
    if abs(fine.imag) <= 1e-25 * scale or abs(fine.imag) < abs(coarse.imag) * 1e-10:
        return fine.real, None
    return None, _REASONS["not_numeric"].format(exact=exact, imag=fine.imag)


def _verdict(exact: sp.Basic, q: Quadrature) -> tuple[bool | None, str]:
    """True: a converged quadrature confirms; False: it contradicts; None: cannot tell."""
    if exact in (sp.oo, -sp.oo, sp.zoo, sp.nan):
        if q.converged:
            return False, _REASONS["divergent_but_finite"].format(exact=exact, numeric=q.value)
        return None, _REASONS["divergent"].format(exact=exact)
    value, why = _real_value(exact)
    if value is None:
        return (False if "not a real number" in why and q.converged else None), why
    if not q.converged:
        return None, _REASONS["unconverged"].format(exact=value)
    tol = max(_RTOL * max(1.0, abs(value)), 4.0 * q.error)
    diff = abs(value - q.value)
    if diff <= tol:
        return True, _REASONS["agree"].format(method=q.method)
    return False, _REASONS["disagree"].format(exact=value, numeric=q.value, diff=diff, tol=tol,
                                             method=q.method)


def integrate(
    expr: Any, limits: tuple[Any, Any, Any], *, timeout: float | None = 10.0
) -> IntegralReport:
    r"""Definite integral, exact (SymPy) and numeric (SciPy ``quad``), cross-checked.

    Parameters
    ----------
    expr : sympy expression or str
        The integrand (strings go through :func:`symcalc.parsing.parse`).
    limits : tuple (t, a, b)
        The variable (Symbol or name) and the bounds: numbers, SymPy numbers such as ``pi``,
        ``oo``/``-oo`` for infinite ranges, or strings like ``"oo"``.
    timeout : float or None, default 10
        Seconds for the whole call. The numeric side runs first (``quad`` in-process, its
        fallbacks in a child process, at most half the budget; usually milliseconds), then
        ``sympy.integrate`` in a child process with the rest, killed at the limit. None
        waits without limit.

    Returns
    -------
    IntegralReport
        ``agree``, ``reason`` (one sentence), ``exact`` (a SymPy value, or None when there
        is no closed form, SymPy failed or timed out), ``numeric`` (the quadrature's value,
        nan if it cannot be computed), ``error`` (its error estimate), ``expr``, ``var``,
        ``bounds``, ``converged`` (the quadrature met its own error target without a
        warning) and ``method`` (``"quad"``, ``"QAWF"``, ``"quadosc"`` or ``"mpmath"``).
        ``agree`` is True when a converged quadrature confirms the exact value
        (``|exact - numeric| <= max(1e-8 max(1, |exact|), 4 error)``), False only for a real
        contradiction (a converged quadrature elsewhere, or an exact value that is not
        real, decided at 50 digits, for a real integrand), and None when nothing can be
        confirmed: no closed form, free symbols, or a quadrature that did not converge.

    Raises
    ------
    SymbolError
        Symbols in a bound, or an unusable variable.
    SymcalcError
        A non-real bound, a bad ``timeout``, ``limits`` not of the form ``(t, a, b)``.

    Notes
    -----
    The numeric side evaluates the integrand through symcalc's compile path, so the stable
    rewrites of losses apply (``x**2*exp(-x)/(1 + exp(-x))**2`` over the real line is
    ``pi**2/3``, not NaN). Oscillating tails ``g(x) sin(w x + p)`` on infinite ranges use
    QUADPACK's QAWF (``scipy.integrate.quad`` with ``weight="sin"``); ``sin(c x**k)`` uses
    mpmath's ``quadosc`` between its zeros; anything else that ``quad`` cannot converge on is
    retried with mpmath's tanh-sinh quadrature at 30 digits.

    **Worked example, the binormal ROC curve.** If negative scores are N(0, 1) and positive
    scores N(mu, sigma^2), the ROC curve is :math:`TPR = \Phi(a + b\,\Phi^{-1}(FPR))` with
    :math:`a = \mu/\sigma`, :math:`b = 1/\sigma`, and its area is
    :math:`\Phi(a/\sqrt{1+b^2})`; with equal variances (:math:`b = 1`, :math:`a = d'`) it is
    :math:`\Phi(d'/\sqrt{2})`. SymPy finds no closed form in the FPR variable, but quad
    confirms the value; substituting :math:`FPR = \Phi(z)` and differentiating in :math:`a`
    leaves Gaussian integrals that SymPy does exactly (see the example).

    Examples
    --------
    >>> import sympy as sp, symcalc as sc
    >>> x = sp.Symbol("x")
    >>> r = sc.integrate(sp.exp(-x**2), (x, -sp.oo, sp.oo))
    >>> r.exact, round(r.numeric, 12), r.agree
    (sqrt(pi), 1.772453850906, True)

    The binormal ROC area with a = 1, b = 2, target Phi(1/sqrt(5)):

    >>> Phi = lambda v: (1 + sp.erf(v / sp.sqrt(2))) / 2
    >>> phi = lambda v: sp.exp(-v**2 / 2) / sp.sqrt(2 * sp.pi)
    >>> u, z, s = sp.symbols("u z s", real=True)
    >>> target = Phi(1 / sp.sqrt(5))
    >>> direct = sc.integrate(Phi(1 + 2 * sp.sqrt(2) * sp.erfinv(2 * u - 1)), (u, 0, 1))
    >>> direct.exact is None, abs(direct.numeric - float(target)) < 1e-10
    (True, True)
    >>> density = sc.integrate(phi(z) * phi(s + 2 * z), (z, -sp.oo, sp.oo), timeout=None).exact
    >>> area = sc.integrate(density, (s, -sp.oo, 1), timeout=None)  # density is d AUC / da
    >>> sp.simplify((area.exact - target).rewrite(sp.erf)), area.agree
    (0, True)
    """
    if not isinstance(limits, (tuple, list)) or len(limits) != 3:
        raise SymcalcError(f"limits must be a tuple (t, a, b); got {describe(limits)}")
    if timeout is not None:
        timeout = check_positive(timeout, "timeout") if timeout != math.inf else None
    integrand = as_expr(expr, "expr")
    check_expression(integrand, "the integrand")
    if integrand.has(sp.zoo, sp.nan):
        raise SymcalcError(
            f"the integrand {describe(integrand, 80)} contains an undefined value (zoo or nan, "
            "e.g. from 1/0 or log(0)); fix the formula"
        )
    var = resolve_symbol(limits[0], integrand, "integration variable")
    a, b = _as_bound(limits[1], "lower bound a"), _as_bound(limits[2], "upper bound b")
    start = time.monotonic()
    others = sorted(str(sym) for sym in integrand.free_symbols - {var})
    if not others:
        q = quadrature(integrand, var, float(a), float(b),
                       budget=None if timeout is None else timeout / 2)
    left = None if timeout is None else max(timeout - (time.monotonic() - start), 0.05)
    exact, why = _exact(integrand, var, a, b, timeout, left)
    if others:
        reason = _REASONS["free_symbols"].format(names=", ".join(others), var=var)
        nan = math.nan
        return IntegralReport(None, why or reason, exact, nan, nan, integrand, var, (a, b))
    if exact is None:
        agree, reason = None, why
    else:
        agree, reason = _verdict(exact, q)
    if q.note and q.note not in reason:
        reason = f"{reason}; {q.note}"
    return IntegralReport(agree, reason, exact, q.value, q.error, integrand, var, (a, b),
                          converged=q.converged, method=q.method)
