"""Stress corpus: compiled values and gradients are finite wherever the exact ones are.

Each loss is evaluated on data scaled to +-400 (where naive formulas overflow) at seeded
parameters, row by row, by the compiled NumPy code and by a 60-digit mpmath evaluation of
the same expression and of its exact gradient (symcalc's tree walker, no generated code).
Wherever the exact value lies inside float64's range, the compiled one must be finite and
agree to 1e-6 relative (of the larger of the value and 1).
"""

from __future__ import annotations

import math
import warnings
import zlib

import mpmath
import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc._mpeval import mp_function
from symcalc.codegen.realdiff import real_derivatives
from symcalc.functions import log_sigmoid, logsumexp, relu, sigmoid, softplus

w, b, x, y = sp.symbols("w b x y")
u = w * x + b
s = 1 / (1 + sp.exp(-u))  # the naive sigmoid
r = w * x + b - y  # a residual

CORPUS: dict[str, sp.Expr] = {
    "squared": r**2, "absolute": sp.Abs(r), "log_cosh": sp.log(sp.cosh(r)),
    "log_cosh_scaled": sp.log(sp.cosh(w * x / 3 - y)),
    "pseudo_huber": sp.sqrt(1 + r**2) - 1, "cauchy": sp.log(1 + r**2),
    "welsch": 1 - sp.exp(-(r**2)), "huber": sp.Piecewise((r**2 / 2, sp.Abs(r) <= 1),
                                                        (sp.Abs(r) - sp.S.Half, True)),
    "pinball": sp.Max(sp.Rational(3, 10) * -r, -sp.Rational(7, 10) * -r),
    "ridge": r**2 + w**2 + b**2, "lasso": r**2 + sp.Abs(w),
    "logistic_pm": sp.log(1 + sp.exp(-y * u)), "logistic_01": sp.log(1 + sp.exp(u)) - y * u,
    "logistic_naive_ce": -y * sp.log(s) - (1 - y) * sp.log(1 - s),
    "logistic_softplus": softplus(u) - y * u, "logistic_sigmoid_fn": -sp.log(sigmoid(y * u)),
    "log_sigmoid_fn": -log_sigmoid(y * u), "hinge": sp.Max(0, 1 - y * u),
    "squared_hinge": sp.Max(0, 1 - y * u) ** 2, "relu_sq": relu(u) ** 2,
    "relu_residual": (relu(w * x) - y) ** 2, "softsign": (w * x / (1 + sp.Abs(w * x)) - y) ** 2,
    "tanh_sq": (sp.tanh(u) - y) ** 2, "naive_sigmoid_sq": (s - y) ** 2,
    "sigmoid_fn_sq": (sigmoid(u) - y) ** 2,
    "logsumexp_2": sp.log(sp.exp(w * x) + sp.exp(b * x)),
    "logsumexp_3": sp.log(sp.exp(w * x) + sp.exp(b * x) + sp.exp(y)),
    "logsumexp_const": sp.log(1 + sp.exp(w * x) + sp.exp(b * x)),
    "logsumexp_fn": logsumexp(w * x, b * x, y),
    "softmax_ce_2": -sp.log(sp.exp(w * x) / (sp.exp(w * x) + sp.exp(b * x))),
    "softmax_ce_3": -sp.log(sp.exp(w * x) / (sp.exp(w * x) + sp.exp(b * x) + sp.exp(-x / 2))),
    "softmax_ce_other": -sp.log(sp.exp(b * x) / (sp.exp(w * x) + sp.exp(b * x) + 1)),
    "softmax_prob_sq": (sp.exp(w * x) / (sp.exp(w * x) + sp.exp(b * x)) - y) ** 2,
    "log1mexp": sp.log(1 - sp.exp(-(w * x) ** 2 - sp.Rational(1, 1000))),
    "log1mexp_small": sp.log(1 - sp.exp(-sp.Abs(w) / 10**6 - 10**-9)),
    "log_erfc": sp.log(sp.erfc(w * x / 10)), "log_erfc_shift": sp.log(sp.erfc(u / 10 + 3)),
    "probit_ce": -sp.log(sp.erfc(-y * u / 10) / 2),
    "focal": -((1 - s) ** 2) * sp.log(s), "focal_fn": -((1 - sigmoid(u)) ** 2) * sp.log(sigmoid(u)),
    "kl_sigmoid": sigmoid(w * x) * (sp.log(sigmoid(w * x)) - sp.log(sigmoid(b * x))),
    "xlogx_data": (w - y) ** 2 + x**2 * sp.log(x**2 + 1),
    "exp_tail": sp.exp(-(u**2) / 1000) * r**2, "gauss_nll": r**2 * sp.exp(-2 * b) / 2 + b,
    "gauss_nll_softplus": r**2 / (2 * softplus(b) ** 2) + sp.log(softplus(b)),
    "student_t": sp.log(1 + r**2 / 3), "smooth_l1_tanh": r * sp.tanh(r),
    "sin_feature": (sp.sin(w * x) + b - y) ** 2, "cos_feature": (sp.cos(w * x / 100) - y) ** 2,
    "atan_link": (sp.atan(u) - y) ** 2, "asinh_link": (sp.asinh(u) - y) ** 2,
    "erf_link": (sp.erf(u / 10) - y) ** 2, "softplus_link": (softplus(u) - y) ** 2,
    "exp_link_log": sp.log(1 + sp.exp(-u)) + sp.log(1 + sp.exp(u)),
    "poisson_softplus": softplus(u) - y * sp.log(softplus(u)),
    "gamma_reg": y * sp.exp(-u / 100) + u / 100, "tweedie_like": sp.exp(u / 200) - y * u / 200,
    "double_softplus": softplus(softplus(u) - y),
    "log_cosh_sum": sp.log(sp.cosh(w * x)) + sp.log(sp.cosh(b * x)),
    "cosh_ratio": (sp.sinh(w * x / 2) / sp.cosh(w * x / 2) - y) ** 2,
    "sigmoid_product": sigmoid(w * x) * sigmoid(-b * x),
    "naive_sigmoid_product": s * (1 - s), "logit_margin": sp.log(1 + sp.exp(-(y * u) ** 2 / 400)),
    "abs_margin": sp.Abs(1 - y * u) + sp.Abs(w), "max_of_three": sp.Max(u, y, -u),
    "min_clip": sp.Min(r**2, 100), "heaviside_weight": r**2 * sp.Heaviside(x),
    "sign_loss": sp.sign(r) * r, "elastic_net": r**2 + sp.Abs(w) + w**2 / 2,
    "contrastive": y * u**2 + (1 - y) * sp.Max(0, 1 - u) ** 2,
    "exp_margin_soft": softplus(-y * u) ** 2, "entropy_sigmoid": -(sigmoid(u) * sp.log(sigmoid(u))
                                                               + sigmoid(-u) * sp.log(sigmoid(-u))),
    "log_ratio": sp.log((1 + sp.exp(u)) / (1 + sp.exp(-u))),
    "mish_like": (w * x * sp.tanh(softplus(b * x)) - y) ** 2,
}


def _data(rng: np.random.Generator, n: int = 6) -> dict[str, np.ndarray]:
    xs = rng.uniform(-400.0, 400.0, n)
    xs[0], xs[1] = 400.0, -400.0
    return {"x": xs, "y": rng.choice([-1.0, 1.0], n) if rng.random() < 0.5
            else rng.uniform(-400, 400, n)}


def _exact(expr: sp.Expr) -> tuple:
    grads = real_derivatives(expr, [w, b])
    return mp_function(expr, [w, b, x, y]), [mp_function(g, [w, b, x, y]) for g in grads]


def _ref(fn, args) -> float | None:
    """The exact value (None outside float64's range or where not real), from mpmath at 60
    digits, raised to 150, 400 and 1000 while two precisions disagree (the naive forms cancel)."""
    prev = None
    for dps in (60, 150, 400, 1000):
        with mpmath.workdps(dps):
            try:
                v = fn(*[mpmath.mpf(float(a)) for a in args])
            except (ArithmeticError, ValueError, TypeError):
                return None
        if isinstance(v, mpmath.mpc) or not mpmath.isfinite(v) or abs(v) > 1e300:
            return None
        if prev is not None and abs(v - prev) <= 1e-13 * max(abs(v), 1e-300):
            return float(v)
        prev = v
    return None


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 70


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_finite_wherever_the_exact_value_is(name):
    expr = CORPUS[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # b is absent from a few losses
        f = sc.Loss(expr, params=[w, b], data=[x, y], reduce="sum").compile()
    value_fn, grad_fns = _exact(expr)
    checked = 0
    for theta in ([1.0, 0.5], [-1.5, 2.0], rng.uniform(-2, 2, 2)):
        data = _data(rng)
        for i in range(len(data["x"])):
            row = {"x": data["x"][i:i + 1], "y": data["y"][i:i + 1]}
            with np.errstate(all="ignore"):
                out = f.evaluate(np.asarray(theta, dtype=float), row, order=1)
            args = [*theta, row["x"][0], row["y"][0]]
            for k, fn in enumerate([value_fn, *grad_fns]):
                want = _ref(fn, args)
                if want is None:
                    continue
                got = float(out[k])
                what = "value" if k == 0 else f"d/d{'wb'[k - 1]}"
                assert math.isfinite(got), f"{name}: {what} = {got} at {args}, exact {want:.6g}"
                assert abs(got - want) <= 1e-6 * max(1.0, abs(want)), (
                    f"{name}: {what} = {got!r} at {args}, exact {want!r}")
                checked += 1
    assert checked >= 20
