"""The ML functions of symcalc.functions: exact derivatives, evalf, LaTeX, stable compiled code."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.functions import SoftmaxEntry, log_sigmoid, logsumexp, relu, sigmoid, softplus

u, a, b, c, x = sp.symbols("u a b c x", real=True)

ONE_ARG = [sigmoid, softplus, log_sigmoid]


@pytest.mark.parametrize("fn", ONE_ARG, ids=lambda f: f.__name__)
def test_derivatives_equal_those_of_the_expanded_form(fn):
    folded = fn(2 * u - 1)
    expanded = folded.rewrite(sp.exp)
    assert not expanded.has(fn)
    for order in (1, 2):
        diff = sp.diff(folded, u, order).rewrite(sp.exp) - sp.diff(expanded, u, order)
        for point in (sp.Rational(-7, 2), 0, sp.Rational(7, 10), 4):
            assert abs(float(diff.subs(u, point).evalf(30))) < 1e-25


def test_textbook_derivative_rules():
    assert sp.diff(sigmoid(u), u) == sigmoid(u) * (1 - sigmoid(u))
    assert sp.diff(softplus(u), u) == sigmoid(u)
    assert sp.diff(log_sigmoid(u), u) == 1 - sigmoid(u)
    assert sp.diff(relu(u), u) == sp.Heaviside(u, 0)
    assert sp.diff(logsumexp(a, b, c), b) == SoftmaxEntry(1, a, b, c)
    s0, s2 = SoftmaxEntry(0, a, b, c), SoftmaxEntry(2, a, b, c)
    assert sp.diff(s0, a) == s0 * (1 - s0)
    assert sp.diff(s0, c) == -s0 * s2


def test_softmax_derivatives_equal_the_quotient_rule():
    s1 = SoftmaxEntry(1, a, 2 * b, c)
    raw = s1.rewrite(sp.exp)
    point = {a: sp.Rational(3, 10), b: sp.Rational(-6, 5), c: 2}
    for var in (a, b, c):
        got = sp.diff(s1, var).rewrite(sp.exp).subs(point).evalf(30)
        assert abs(float(got - sp.diff(raw, var).subs(point).evalf(30))) < 1e-25
    total = sum(SoftmaxEntry(i, a, b, c) for i in range(3)).rewrite(sp.exp)
    assert sp.simplify(total) == 1


@pytest.mark.parametrize(
    "expr, reference",
    [
        (sigmoid(sp.Integer(-800)), lambda: 1 / (1 + mpmath.exp(800))),
        (softplus(sp.Integer(800)), lambda: mpmath.log(1 + mpmath.exp(800))),
        (log_sigmoid(sp.Integer(-1000)), lambda: -mpmath.log(1 + mpmath.exp(1000))),
        (logsumexp(sp.Integer(10000), sp.Integer(9999)),
         lambda: mpmath.log(mpmath.exp(10000) + mpmath.exp(9999))),
        (SoftmaxEntry(0, sp.Integer(1), sp.Integer(2)), lambda: 1 / (1 + mpmath.e)),
    ],
)
def test_evalf_far_from_zero_matches_mpmath(expr, reference):
    with mpmath.workdps(50):
        want = reference()
        got = mpmath.mpf(str(expr.evalf(40)))
        assert abs(got - want) <= abs(want) * mpmath.mpf(10) ** -35


def test_special_values_and_assumptions():
    assert sigmoid(0) == sp.S.Half and softplus(0) == sp.log(2) and log_sigmoid(0) == -sp.log(2)
    assert relu(-2) == 0 and relu(3) == 3 and logsumexp(a) == a and SoftmaxEntry(0, a) == 1
    assert sigmoid(u).is_real and sigmoid(u).is_positive and softplus(u).is_positive
    assert relu(u).is_nonnegative and log_sigmoid(u).is_negative
    assert sp.Float(0.8807970779778823) == pytest.approx(float(sigmoid(sp.Float(2.0))), rel=1e-15)


def test_latex_and_str():
    assert sp.latex(sigmoid(u)) == r"\sigma\left(u\right)"
    assert sp.latex(softplus(u)) == r"\operatorname{softplus}\left(u\right)"
    assert sp.latex(SoftmaxEntry(1, a, b)) == r"\operatorname{softmax}\left(a, b\right)_{1}"
    assert str(SoftmaxEntry(1, a, b)) == "softmax(a, b)[1]"
    assert str(sc.softmax(a, b)) == "Matrix([[softmax(a, b)[0]], [softmax(a, b)[1]]])"


def test_bad_arguments():
    with pytest.raises(TypeError, match="index must be an integer"):
        SoftmaxEntry(3, a, b)
    with pytest.raises(TypeError, match="at least one"):
        sc.softmax()


def test_parser_keeps_them_folded():
    assert sc.parse("sigmoid(w*x)") == sigmoid(sp.Symbol("w") * sp.Symbol("x"))
    assert sc.parse("logsumexp(a, b)").func is logsumexp


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_compiled_code_is_stable_at_extreme_logits(backend):
    pytest.importorskip("numba") if backend == "numba" else None
    w, y = sp.symbols("w y")
    z = w * x
    # binary cross-entropy written with sigmoid, and softmax cross-entropy over 3 classes
    bce = sc.Loss(-y * sp.log(sigmoid(z)) - (1 - y) * sp.log(1 - sigmoid(z)), params=[w], data=[x, y])
    ce = sc.Loss(-sp.log(SoftmaxEntry(0, z, 2 * z, sp.Integer(0))), params=[w], data=[x])
    data = {"x": np.array([1e4, -1e4, 3.0]), "y": np.array([0.0, 1.0, 1.0])}
    v, g = bce.compile(backend=backend).value_and_grad([1.0], data)
    # rows: softplus(1e4) = 1e4, softplus(1e4) = 1e4, softplus(-3)
    want = (2e4 + float(mpmath.log(1 + mpmath.exp(-3)))) / 3
    assert v == pytest.approx(want, rel=1e-14)
    gw = (1e4 * 1.0 + (-1e4) * (0.0 - 1.0) + 3.0 * (float(1 / (1 + mpmath.exp(-3))) - 1)) / 3
    assert g[0] == pytest.approx(gw, rel=1e-12)
    v2, g2 = ce.compile(backend=backend).value_and_grad([1.0], {"x": data["x"]})
    # -log softmax_0(x, 2x, 0) = logsumexp(x, 2x, 0) - x
    rows = [float(mpmath.log(mpmath.exp(t) + mpmath.exp(2 * t) + 1) - t) for t in data["x"]]
    assert np.isfinite(g2).all() and v2 == pytest.approx(np.mean(rows), rel=1e-14)


def test_gradient_check_through_the_functions():
    w, y = sp.symbols("w y")
    loss = sc.Loss(softplus(w * x) - y * w * x + relu(w - 0.5) ** 2 + logsumexp(w, x),
                   params=[w], data=[x, y])
    data = {"x": np.array([0.3, -1.1, 2.0]), "y": np.array([1.0, 0.0, 1.0])}
    check = loss.check_gradient([1.3], data, hessian=False)
    assert check.ok, str(check)
