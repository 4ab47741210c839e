"""The numeric side of sc.limit: exact points stay exact, adaptive precision, real samples
near the point, and never a confident wrong number (issues "checks you can trust" and the
Low item of "security and hard limits")."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import symcalc as sc

x = sp.Symbol("x")


def test_rational_point_stays_exact():
    # was 0.4896... (the point became a Float)
    r = sc.limit((1 - sp.cos(x)) / x**2, x, sp.S(1) / 2, timeout=30)
    assert r.symbolic == 4 - 4 * sp.cos(sp.S(1) / 2) and r.agree


def test_cancellation_is_resolved_by_raising_the_precision():
    # at 50 digits every sample was 0.0 (reported with error 1e-300); the limit is -1
    r = sc.limit(sp.exp(x) * (sp.exp(1 / x - sp.exp(-x)) - sp.exp(1 / x)), x, sp.oo, timeout=30)
    assert abs(r.numeric + 1) <= max(r.numeric_error, 1e-6)
    assert r.numeric_error < 1e-3 and r.agree


def test_complex_samples_far_from_the_point_do_not_abandon_the_direction():
    # sqrt(log(x) - 1) is complex for x < e (the first samples), real beyond; limit 1
    r = sc.limit(sp.sqrt(sp.log(x) - 1) / sp.sqrt(sp.log(x)), x, sp.oo, timeout=30)
    assert r.numeric == pytest.approx(1.0, abs=1e-6) and r.agree
    # complex values whose imaginary part vanishes: sqrt(x) as x -> 0 from the left
    left = sc.limit(sp.sqrt(x), x, 0, "-", timeout=30)
    assert abs(left.numeric) < 1e-6


@pytest.mark.parametrize("expr, point, want", [
    (sp.exp(x) ** (10**10), 0, 1.0),          # was +inf (three huge samples far away)
    (x**1000 * sp.exp(-x), sp.oo, 0.0),       # was +inf
    (sp.log(x) / x ** sp.Rational(1, 1000), sp.oo, 0.0),  # was +inf; turns at x = e**1000
])
def test_no_confident_infinity_from_samples_far_from_the_point(expr, point, want):
    r = sc.limit(expr, x, point, timeout=30)
    assert math.isfinite(r.numeric), r.reason
    assert abs(r.numeric - want) <= max(r.numeric_error, 1e-9)


def test_genuine_divergence_is_still_infinite():
    assert sc.limit(sp.exp(x) / x, x, sp.oo, timeout=30).numeric == math.inf
    assert sc.limit(1 / x, x, 0, "+", timeout=30).numeric == math.inf


def test_slow_convergence_reports_an_honest_error():
    # log-log convergence: the estimate cannot be sharp, and its error must say so
    expr = (sp.log(sp.log(x) + sp.log(sp.log(x))) - sp.log(sp.log(x))) * sp.log(x) / sp.log(
        sp.log(x) + sp.log(sp.log(sp.log(x))))
    r = sc.limit(expr, x, sp.oo, timeout=30)
    assert math.isnan(r.numeric) or abs(r.numeric - 1) <= r.numeric_error
