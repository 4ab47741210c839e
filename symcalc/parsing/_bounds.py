"""Numeric bounds applied before SymPy evaluates anything the formula asks for.

SymPy evaluates constant subterms while it builds an expression (``floor`` needs the integer
part of its argument, ``Abs``/``Max`` compare signs, ``sin`` reduces its argument modulo pi),
and that work grows with the size of the numbers: ``floor(exp(exp(20)))`` needs the 210
million digits of ``exp(exp(20))``. The builder therefore checks, before each step:

- exact numbers (:func:`exact_bits`): a power or product of exact rationals may not have more
  than ``MAX_EXACT_BITS`` bits;
- magnitudes (:func:`log2_abs`, :func:`check_call`, :func:`check_power`): a constant argument
  of a function whose evaluation needs about ``log2|argument|`` bits of precision (``exp``,
  ``sin``, ``floor``, ``gamma``, ...) must be below ``2**MAX_ARG_BITS``, and so must the binary
  exponent of a constant power ``b**e`` (``|e*log2|b||``).

Every constant the builder admits therefore evaluates at low precision in bounded time, which
is what :func:`log2_abs` relies on to measure the next argument.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import sympy as sp

from ._tables import MAX_ARG_BITS

#: Functions whose value at any admitted constant SymPy finds without extra precision
#: (monotone, bounded or sign-only); every other function's constant arguments are bounded.
TAME = frozenset({
    "log", "ln", "log10", "log2", "log1p", "sqrt", "abs", "Abs", "sign", "max", "Max", "min",
    "Min", "relu", "Heaviside", "atan", "atan2", "asinh", "acosh",
})


def exact_bits(expr: sp.Expr) -> float:
    """log2 of the exact numbers that a product/power of ``expr`` multiplies out."""
    total = 0.0
    for number, power in exact_parts(expr):
        total += rational_bits(number) * power
    return total


def exact_parts(expr: sp.Expr) -> Iterable[tuple[sp.Rational, float]]:
    factors = expr.args if expr.is_Mul else (expr,)
    for f in factors:
        if f.is_Rational:
            yield f, 1.0
        elif f.is_Pow and f.base.is_Rational and f.exp.is_Rational:
            yield f.base, abs(float(f.exp))


def rational_bits(r: sp.Rational) -> float:
    return (math.log2(abs(r.p)) if r.p else 0.0) + math.log2(r.q)


def log2_abs(value: sp.Expr) -> int | None:
    """About ``log2|value|`` (an int, possibly huge) for a constant, else None.

    None for expressions with symbols, zero, infinities and values SymPy cannot evaluate. The
    evaluation is at 15 digits and is cheap for every constant the builder admitted.
    """
    if not isinstance(value, sp.Expr) or not value.is_number:
        return None
    if value.is_Rational:
        return abs(value.p).bit_length() - value.q.bit_length() if value.p else None
    try:
        approx = value.evalf(15, maxn=30)
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if approx.is_Float:
        parts = [approx]
    elif approx.is_Add or approx.is_Mul:  # a + b*I
        parts = [p for p in approx.as_real_imag() if p.is_Float]
    else:
        return None
    sizes = []
    for part in parts:
        _, man, exp, bc = part._mpf_
        if man:  # zero, inf and nan have no mantissa
            sizes.append(exp + bc)
    return max(sizes) if sizes else None


def _about(bits: int) -> str:
    """'10**N' for a number of ``bits`` binary digits (bits may be far beyond float range)."""
    if bits.bit_length() < 1000:
        return f"10**{bits * math.log10(2):.4g}"
    return f"10**(10**{bits.bit_length() * math.log10(2):.4g})"


def check_call(name: str, args: list[sp.Expr]) -> str | None:
    """Why ``name(*args)`` may not be evaluated (None when it may)."""
    if name in TAME:
        return None
    for arg in args:
        bits = log2_abs(arg)
        if bits is not None and bits > MAX_ARG_BITS:
            return (
                f"{name}() of a constant of about {_about(bits)} would need that many digits "
                f"of precision; constant arguments of {name} are limited to about "
                f"{_about(MAX_ARG_BITS)}"
            )
    return None


def check_power(base: sp.Expr, exponent: sp.Expr) -> str | None:
    """Why the constant power ``base**exponent`` may not be evaluated (None when it may).

    Exact rational powers are bounded by :func:`exact_bits`; here the binary exponent of the
    result, ``|exponent * log2|base||``, must stay below ``2**MAX_ARG_BITS``.
    """
    if base.is_Rational and exponent.is_Rational:
        return None
    base_bits, exp_bits = log2_abs(base), log2_abs(exponent)
    if base_bits is None or exp_bits is None:
        return None
    need = exp_bits + max(abs(base_bits), 1).bit_length()
    if need > MAX_ARG_BITS:
        return (
            f"this power of constants is about 2**(2**{need}): evaluating it would need about "
            f"{_about(need)} digits of precision (the limit is about {_about(MAX_ARG_BITS)})"
        )
    return None
