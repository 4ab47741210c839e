"""The readable form: exactly equal to the raw derivative on a corpus of losses, textbook
shapes for the textbook cases, and the raw fallback when the budget runs out."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import SymcalcError
from symcalc.functions import SoftmaxEntry, sigmoid, softplus
from symcalc.readable import readable_form, readable_gradient
from symcalc.readable import _budget

from readable_corpus import CORPUS, LOGITS, SOFTMAX_DATA, SOFTMAX_PARAMS, YS, W

N_POINTS = 20


def _numeric(expr: sp.Expr, symbols: list[sp.Symbol]):
    """An mpmath function of ``expr`` (ML functions expanded, exact at 30 digits)."""
    expanded = expr.rewrite(sp.exp).replace(sp.Heaviside, lambda u, h=sp.S.Half: sp.Piecewise(
        (0, u < 0), (h, sp.Eq(u, 0)), (1, True))).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    return sp.lambdify(symbols, expanded, modules="mpmath")


def _assert_equal_at_points(raw: sp.Expr, readable: sp.Expr, symbols, rng, what: str) -> None:
    f_raw, f_read = _numeric(raw, symbols), _numeric(readable, symbols)
    with mpmath.workdps(30):
        for _ in range(N_POINTS):
            point = [mpmath.mpf(float(v)) for v in rng.uniform(-1.5, 1.5, len(symbols))]
            for i, s in enumerate(symbols):
                if s.is_positive:
                    point[i] = abs(point[i]) + mpmath.mpf("0.5")
            a, b = f_raw(*point), f_read(*point)
            assert abs(a - b) <= mpmath.mpf("1e-12") * max(1, abs(a)), (what, point, a, b)


def _loss(expr, params, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.Loss(expr, params=params, data=data)


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 40
    names = " ".join(name for name, *_ in CORPUS)
    for kind in ("mse", "logistic", "bce", "softmax", "hinge", "huber", "poisson", "log cosh",
                 "focal", "layer"):
        assert kind in names


@pytest.mark.parametrize("name, expr, params, data", CORPUS, ids=[c[0] for c in CORPUS])
def test_readable_gradient_and_hessian_equal_raw(name, expr, params, data):
    loss = _loss(expr, params, data)
    symbols = sorted(loss.expr.free_symbols, key=str)
    rng = np.random.default_rng(len(name))
    raw, readable = loss.gradient(form="raw"), loss.gradient()
    assert loss._readable_note == "", name  # every corpus loss fits in the budget
    for p, g_raw, g in zip(params, raw, readable):
        _assert_equal_at_points(g_raw, g, symbols, rng, f"{name} d/d{p}")
    h_raw, h = loss.hessian(form="raw"), loss.hessian()
    for i in range(min(len(params), 3)):
        _assert_equal_at_points(h_raw[i, -1], h[i, -1], symbols, rng, f"{name} H[{i}, -1]")


# ---------------------------------------------------------------- textbook shapes
w1, w2, b, x1, x2, y, w, x = sp.symbols("w1 w2 b x1 x2 y w x")
Z = w1 * x1 + w2 * x2 + b
LOGISTIC_WAYS = {
    "softplus": softplus(Z) - y * Z,
    "log(1+exp)": sp.log(1 + sp.exp(Z)) - y * Z,
    "cross-entropy": -y * sp.log(sigmoid(Z)) - (1 - y) * sp.log(1 - sigmoid(Z)),
    "cross-entropy expanded": -y * sp.log(1 / (1 + sp.exp(-Z)))
    - (1 - y) * sp.log(1 - 1 / (1 + sp.exp(-Z))),
}


@pytest.mark.parametrize("way", list(LOGISTIC_WAYS))
def test_logistic_written_any_way_shows_x_times_sigmoid_minus_y(way):
    loss = sc.Loss(LOGISTIC_WAYS[way], params=[w1, w2, b], data=[x1, x2, y])
    assert list(loss.gradient()) == [x1 * (sigmoid(Z) - y), x2 * (sigmoid(Z) - y), sigmoid(Z) - y]
    lines = str(loss.display()).splitlines()
    assert lines[1:] == ["    z = w1*x1 + w2*x2 + b", "d/dw1 = x1*(sigmoid(z) - y)",
                         "d/dw2 = x2*(sigmoid(z) - y)", " d/db = sigmoid(z) - y"]
    h = loss.hessian()
    s = sigmoid(Z)
    assert h[0, 1] == x1 * x2 * s * (1 - s) and h[2, 2] == s * (1 - s)


def test_mse_partials_share_one_factored_form():
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    g_w, g_b = loss.gradient()
    assert g_w == 2 * x * (w * x + b - y)
    assert g_b.args == (2, w * x + b - y)  # kept as 2*(...), not distributed
    assert str(loss.display()) == ("loss = (w*x + b - y)**2\n"
                                   "d/dw = 2*x*(w*x + b - y)\n"
                                   "d/db = 2*(w*x + b - y)")
    assert loss.partial(b, form="raw").expand() == 2 * b + 2 * w * x - 2 * y


def test_softmax_cross_entropy_is_softmax_minus_y_times_the_input():
    ce = sp.log(sum(sp.exp(z) for z in LOGITS)) - sum(yk * zk for yk, zk in zip(YS, LOGITS))
    loss = sc.Loss(ce, params=SOFTMAX_PARAMS, data=SOFTMAX_DATA)
    for k in range(3):
        for j, xj in enumerate(SOFTMAX_DATA[:2]):
            assert loss.partial(W[k, j]) == xj * (SoftmaxEntry(k, *LOGITS) - YS[k])
    text = str(loss.display())
    assert "d/dw_k_j = x_j*(softmax(z)_k - y_k)   for k = 1..3, j = 1..2" in text
    assert "z_2 = w_2_1*x1 + w_2_2*x2 + b_2" in text


def test_thirty_feature_logistic_fits_on_one_screen():
    ws, xs = sp.symbols("w1:31"), sp.symbols("x1:31")
    z = sum(wi * xi for wi, xi in zip(ws, xs)) + b
    loss = sc.Loss(softplus(z) - y * z, params=[*ws, b], data=[*xs, y])
    assert loss.partial(ws[16]) == xs[16] * (sigmoid(z) - y)
    lines = str(loss.display()).splitlines()
    assert len(lines) == 4 and max(map(len, lines)) < 100
    assert lines[2] == "d/dw_j = x_j*(sigmoid(z) - y)   for j = 1..30"
    assert lines[1] == "     z = Sum(w[j]*x[j], (j, 1, 30)) + b"
    tex = loss.display().latex()
    assert r"\sum_{j=1}^{30}" in tex and r"j = 1, \dots, 30" in tex


def test_tanh_and_sigmoid_derivative_patterns_are_kept():
    v, b1 = sp.symbols("v b1")
    u = w * x + b1
    loss = sc.Loss(softplus(v * sp.tanh(u) + b) - y * (v * sp.tanh(u) + b),
                   params=[w, b1, v, b], data=[x, y])
    assert loss.partial(w) == v * x * (1 - sp.tanh(u) ** 2) * (sigmoid(v * sp.tanh(u) + b) - y)
    assert "d/dw = v*x*(1 - tanh(z_1)**2)*(sigmoid(z_2) - y)" in str(loss.display())


def test_poisson_and_hinge_name_the_linear_predictor():
    loss = sc.Loss(sp.exp(w * x + b) - y * (w * x + b), params=[w, b], data=[x, y])
    assert str(loss.display()).splitlines()[1:] == [
        "   z = w*x + b", "d/dw = x*(exp(z) - y)", "d/db = exp(z) - y"]
    hinge = sc.Loss(sp.Max(0, 1 - y * (w * x + b)) ** 2, params=[w, b], data=[x, y])
    assert "d/dw = -2*x*y*Heaviside(1 - y*z)*Max(0, 1 - y*z)" in str(hinge.display())


def test_quotients_cancel_and_readable_form_of_one_expression():
    s, a_, c_ = sp.symbols("s a c")
    assert readable_form((s * a_ + s * c_) / s) == a_ + c_
    assert readable_form(-x * y + x * sp.exp(w) / (sp.exp(w) + 1)) == x * (sigmoid(w) - y)
    assert readable_form(sp.log(1 + sp.exp(w))) == softplus(w)
    assert readable_form(sp.sinh(w) / sp.cosh(w)) == sp.tanh(w)


# ---------------------------------------------------------------- API, errors, fallback
def test_form_is_checked_and_both_forms_are_cached():
    loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
    assert loss.gradient() is loss.gradient() and loss.hessian() is loss.hessian()
    assert loss.gradient(form="raw") is loss.gradient(form="raw")
    with pytest.raises(SymcalcError, match="form must be one of 'readable', 'raw'; got 'pretty'"):
        loss.gradient(form="pretty")
    with pytest.raises(SymcalcError, match="form must be one of"):
        loss.partial(w, form="tex")


class _Countdown(_budget.Budget):
    """A budget that runs out after a number of checks (no clock involved)."""

    def __init__(self, checks: int) -> None:
        super().__init__(3600)
        self.left = checks

    def exhausted(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_budget_exhausted_midway_falls_back_to_raw():
    raw = [sp.diff(LOGISTIC_WAYS["log(1+exp)"], p) for p in (w1, w2, b)]
    assert readable_gradient(raw, budget=_Countdown(3)) is None
    assert readable_gradient(raw, budget=_Countdown(10_000)) == [
        x1 * (sigmoid(Z) - y), x2 * (sigmoid(Z) - y), sigmoid(Z) - y]
    assert readable_form(raw[0], budget=0) is raw[0]


def test_loss_shows_raw_form_and_says_so_when_out_of_budget(monkeypatch):
    monkeypatch.setattr(_budget, "DEFAULT_SECONDS", 0.0)
    loss = sc.Loss(LOGISTIC_WAYS["log(1+exp)"], params=[w1, w2, b], data=[x1, x2, y])
    assert loss.gradient() == loss.gradient(form="raw")
    assert loss.hessian() == loss.hessian(form="raw")
    text = str(loss.display())
    assert "exp(" in text and "sigmoid" not in text
    assert text.endswith("(raw form: the readable one did not fit in its time budget)")


def test_too_large_a_gradient_is_shown_raw_at_once(monkeypatch):
    monkeypatch.setattr(_budget, "MAX_NODES", 5)
    loss = sc.Loss(LOGISTIC_WAYS["softplus"], params=[w1, w2, b], data=[x1, x2, y])
    assert loss.gradient() is loss.gradient(form="raw")
