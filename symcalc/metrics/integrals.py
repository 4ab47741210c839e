"""Definite integrals two ways: exact (``sympy.integrate``, time-limited) and numeric
(``scipy.integrate.quad``), with a verdict on whether they agree."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from scipy.integrate import IntegrationWarning, quad

from .._timeout import call_with_timeout
from .._expressions import as_expr
from .._validate import check_positive, describe, resolve_symbol
from ..errors import SymbolError, SymbolicTimeout, SymcalcError
from ..results import Result

__all__ = ["integrate", "IntegralReport"]

_RTOL = 1e-8  # relative agreement tolerance (on top of 4x quad's own error estimate)

_REASONS = {
    "agree": "the exact value and the numeric quadrature agree",
    "disagree": "the exact value {exact:.12g} and the numeric estimate {numeric:.12g} differ by "
    "{diff:.3g}, more than the tolerance {tol:.3g}",
    "unevaluated": "SymPy found no closed form (the integral stays unevaluated); only the "
    "numeric value is available",
    "timeout": "SymPy did not finish within {timeout:g} s; only the numeric value is available",
    "sympy_failed": "SymPy could not integrate it ({error}); only the numeric value is available",
    "divergent": "SymPy says the integral diverges ({exact}); the numeric value is not meaningful",
    "free_symbols": "the integrand has free symbols {names} besides {var}; the exact result "
    "depends on them and the numeric check needs numbers (substitute values to check it)",
    "not_numeric": "the exact result {exact} is not a real number",
    "quad_failed": "numeric quadrature failed: {error}",
}


@dataclass(repr=False, eq=False)
class IntegralReport(Result):
    """Exact and numeric values of a definite integral (see :func:`integrate`)."""

    agree: bool
    reason: str
    exact: sp.Basic | None
    numeric: float
    error: float
    expr: sp.Basic
    var: sp.Symbol
    bounds: tuple[sp.Basic, sp.Basic]


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
    expr: sp.Basic, var: sp.Symbol, a: sp.Basic, b: sp.Basic, timeout: float | None
) -> tuple[sp.Basic | None, str | None]:
    """The closed form, or None and the reason there is none."""
    what = f"sympy.integrate of {describe(expr, 80)}"
    try:
        value = call_with_timeout(_sympy_integrate, expr, var, a, b, timeout=timeout, what=what)
    except SymbolicTimeout:
        return None, _REASONS["timeout"].format(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - SymPy raises many kinds on hard integrals
        return None, _REASONS["sympy_failed"].format(error=f"{type(exc).__name__}: {exc}")
    if value.has(sp.Integral):
        return None, _REASONS["unevaluated"]
    return value, None


def _numeric(
    expr: sp.Basic, var: sp.Symbol, a: sp.Basic, b: sp.Basic
) -> tuple[float, float, str | None]:
    """quad's value and error estimate, and a note when quad warned or failed."""
    try:
        fn = sp.lambdify([var], expr, modules=["scipy", "numpy"])
    except Exception as exc:  # noqa: BLE001 - a function NumPy/SciPy cannot evaluate
        return math.nan, math.nan, _REASONS["quad_failed"].format(error=exc)

    def f(t: float) -> float:
        v = complex(fn(t))
        return v.real if abs(v.imag) <= 1e-12 * (1.0 + abs(v.real)) else math.nan

    lo, hi = float(a), float(b)  # float(oo) is inf
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always", IntegrationWarning)
        try:
            value, error = quad(f, lo, hi, limit=200)
        except Exception as exc:  # noqa: BLE001 - the integrand may fail to evaluate
            return math.nan, math.nan, _REASONS["quad_failed"].format(error=exc)
    notes = [
        " ".join(str(w.message).split()) for w in caught if w.category is IntegrationWarning
    ]
    note = f"quad warned: {notes[0]}" if notes else None
    if not math.isfinite(value):
        bad = "the integrand is not finite and real on the interval"
        note = f"{bad}; {note}" if note else bad
    return float(value), float(error), note


def _verdict(exact: sp.Basic, numeric: float, error: float) -> tuple[bool, str]:
    if exact in (sp.oo, -sp.oo, sp.zoo, sp.nan):
        return False, _REASONS["divergent"].format(exact=exact)
    try:
        value = complex(sp.N(exact, 20))
    except (TypeError, ValueError):
        return False, _REASONS["not_numeric"].format(exact=exact)
    if value.imag != 0 or not math.isfinite(value.real):
        return False, _REASONS["not_numeric"].format(exact=exact)
    tol = max(_RTOL * max(1.0, abs(value.real)), 4.0 * error)
    diff = abs(value.real - numeric)
    if diff <= tol:
        return True, _REASONS["agree"]
    reason = _REASONS["disagree"].format(exact=value.real, numeric=numeric, diff=diff, tol=tol)
    return False, reason


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
        Seconds allowed for ``sympy.integrate`` (run in a child process that is killed at the
        limit); None waits without limit.

    Returns
    -------
    IntegralReport
        ``agree`` (bool), ``reason`` (one sentence), ``exact`` (a SymPy value, or None when
        there is no closed form, SymPy failed or timed out), ``numeric`` (quad's value, nan if
        it cannot be computed), ``error`` (quad's error estimate), ``expr``, ``var``,
        ``bounds``. ``agree`` means ``|exact - numeric| <= max(1e-8 max(1, |exact|),
        4 error)``.

    Raises
    ------
    SymbolError
        Symbols in a bound, or an unusable variable.
    SymcalcError
        A non-real bound, a bad ``timeout``, ``limits`` not of the form ``(t, a, b)``.

    Notes
    -----
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
    >>> density = sc.integrate(phi(z) * phi(s + 2 * z), (z, -sp.oo, sp.oo)).exact  # d AUC / da
    >>> area = sc.integrate(density, (s, -sp.oo, 1))
    >>> sp.simplify((area.exact - target).rewrite(sp.erf)), area.agree
    (0, True)
    """
    if not isinstance(limits, (tuple, list)) or len(limits) != 3:
        raise SymcalcError(f"limits must be a tuple (t, a, b); got {describe(limits)}")
    if timeout is not None:
        timeout = check_positive(timeout, "timeout") if timeout != math.inf else None
    integrand = as_expr(expr, "expr")
    if integrand.has(sp.zoo, sp.nan):
        raise SymcalcError(
            f"the integrand {describe(integrand, 80)} contains an undefined value (zoo or nan, "
            "e.g. from 1/0 or log(0)); fix the formula"
        )
    var = resolve_symbol(limits[0], integrand, "integration variable")
    a, b = _as_bound(limits[1], "lower bound a"), _as_bound(limits[2], "upper bound b")
    exact, why = _exact(integrand, var, a, b, timeout)
    others = sorted(str(sym) for sym in integrand.free_symbols - {var})
    if others:
        reason = _REASONS["free_symbols"].format(names=", ".join(others), var=var)
        nan = math.nan
        return IntegralReport(False, why or reason, exact, nan, nan, integrand, var, (a, b))
    numeric, error, note = _numeric(integrand, var, a, b)
    if exact is None:
        agree, reason = False, why
    elif not math.isfinite(numeric):
        agree, reason = False, note or _REASONS["quad_failed"].format(error="no value")
    else:
        agree, reason = _verdict(exact, numeric, error)
    if note and note not in reason:
        reason = f"{reason}; {note}"
    return IntegralReport(agree, reason, exact, numeric, error, integrand, var, (a, b))
