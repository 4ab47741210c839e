"""The compile path: values vs SymPy evalf, gradients/Hessians vs finite differences,
reductions, stable rewrites vs high-precision mpmath, size, chunking and bad input."""

import linecache

import mpmath
import numpy as np
import pandas as pd
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symcalc as sc
from symcalc.codegen import compile_elementwise
from symcalc.errors import DataError, NonFiniteError, ShapeError, SymbolError, SymcalcError
from symcalc.testing import numeric_gradient, numeric_hessian, relative_error

w, b, x, y = sp.symbols("w b x y")
RNG = np.random.default_rng(1234)


def reference_total(loss, theta, data, expr=None):
    """Mean/sum of the per-sample expression evaluated by SymPy at 30 digits, row by row."""
    expr = loss.expr if expr is None else expr
    subs = dict(zip(loss.params, theta))
    rows = len(next(iter(data.values()))) if loss.data else 1
    vals = []
    for i in range(rows):
        point = {**subs, **{d: data[d.name][i] for d in loss.data}}
        vals.append(sp.N(expr.subs(point), 30))
    total = sp.Add(*vals)
    return float(total / rows if loss.reduce == "mean" and loss.data else total)


# ---------------------------------------------------------------- hypothesis expressions
_leaves = st.sampled_from([w, b, x, y, sp.Integer(2), sp.Rational(1, 3)])


def _combine(children):
    unary = st.sampled_from([sp.exp, sp.sin, sp.tanh, sp.cos]).flatmap(
        lambda f: children.map(lambda c: f(c / 4))
    )
    logs = children.map(lambda c: sp.log(1 + c**2))
    binary = st.tuples(children, children, st.sampled_from(["+", "*", "-"])).map(
        lambda t: t[0] + t[1] if t[2] == "+" else (t[0] * t[1] if t[2] == "*" else t[0] - t[1])
    )
    powers = st.tuples(children, st.sampled_from([2, 3])).map(lambda t: t[0] ** t[1])
    return st.one_of(unary, logs, binary, powers)


expressions = st.recursive(_leaves, _combine, max_leaves=6).filter(
    lambda e: e.has(w) or e.has(b)
)


@pytest.mark.filterwarnings("ignore:parameter.*do not appear:UserWarning")
@given(expr=expressions, reduce=st.sampled_from(["mean", "sum"]))
def test_random_expressions_value_grad_hessian(expr, reduce):
    loss = sc.Loss(expr, params=[w, b], data=[x, y], reduce=reduce)
    f = loss.compile()
    theta = np.array([0.7, -0.4])
    data = {"x": np.array([0.5, -1.2, 2.0]), "y": np.array([1.5, 0.3, -0.8])}
    value, grad = f.value_and_grad(theta, data)
    ref = reference_total(loss, theta, data)
    assert value == pytest.approx(ref, rel=1e-12, abs=1e-12)
    num_g = numeric_gradient(lambda t: f.value(t, data), theta)
    assert np.all(relative_error(grad, num_g, floor=1e-6) < 1e-6)
    num_h = numeric_hessian(lambda t: f.grad(t, data), theta)
    assert np.all(relative_error(f.hessian(theta, data), num_h, floor=1e-5) < 1e-5)


def test_value_matches_evalf_at_random_points():
    expr = sp.exp(-w * x) * sp.sin(b + y) + sp.sqrt(1 + (w - y) ** 2)
    loss = sc.Loss(expr, params=[w, b], data=[x, y])
    f = loss.compile()
    for _ in range(5):
        theta = RNG.normal(size=2)
        data = {"x": RNG.normal(size=4), "y": RNG.normal(size=4)}
        assert f.value(theta, data) == pytest.approx(reference_total(loss, theta, data), rel=1e-12)


def test_sum_reduction_scales_data_free_derivative_by_n():
    # d/db of (w*x - y)**2 + b**2 is 2*b: no data in it, but summed over N rows it is N*2*b
    loss = sc.Loss((w * x - y) ** 2 + b**2, params=[w, b], data=[x, y], reduce="sum")
    f = loss.compile()
    n = 7
    data = {"x": np.arange(n, dtype=float), "y": np.ones(n)}
    g = f.grad([0.5, 3.0], data)
    assert g[1] == pytest.approx(n * 2 * 3.0)
    assert g[0] == pytest.approx(np.sum(2 * (0.5 * data["x"] - 1) * data["x"]))
    mean = sc.Loss(loss.expr, params=[w, b], data=[x, y]).compile()
    assert mean.grad([0.5, 3.0], data)[1] == pytest.approx(6.0)
    assert f.hessian([0.5, 3.0], data)[1, 1] == pytest.approx(2.0 * n)


def test_logistic_loss_is_finite_at_margin_minus_1000():
    loss = sc.Loss(sp.log(1 + sp.exp(-y * w * x)), params=[w], data=[x, y])
    f = loss.compile()
    v, g = f.value_and_grad([1000.0], {"x": [1.0], "y": [-1.0]})
    assert v == pytest.approx(1000.0) and g[0] == pytest.approx(1.0)
    assert "log(1 + exp(u)) -> logaddexp(0, u)" in f.rewrites
    h = f.hessian([1000.0], {"x": [1.0], "y": [-1.0]})
    assert np.isfinite(h).all() and h[0, 0] >= 0.0


def test_cross_entropy_with_explicit_sigmoid_is_stable():
    s = 1 / (1 + sp.exp(-(w * x + b)))
    loss = sc.Loss(-(y * sp.log(s) + (1 - y) * sp.log(1 - s)), params=[w, b], data=[x, y])
    f = loss.compile()
    data = {"x": [1.0, -1.0], "y": [0.0, 1.0]}
    v, g = f.value_and_grad([1000.0, 0.0], data)
    # each sample has margin -1000: loss 1000 each, gradient -(y - sigmoid) x
    assert v == pytest.approx(1000.0)
    np.testing.assert_allclose(g, [1.0, 0.0], atol=1e-12)
    assert "log(sigmoid(u)) -> -logaddexp(0, -u)" in f.rewrites


@pytest.mark.parametrize(
    "expr, point, rule",
    [
        (sp.log(1 + sp.exp(w)), 30.5, "log(1 + exp(u)) -> logaddexp(0, u)"),
        (sp.log(1 + sp.exp(w)), -40.0, "log(1 + exp(u)) -> logaddexp(0, u)"),
        (sp.exp(w) / (1 + sp.exp(w)), -700.0, "exp(m*u)/(1 + exp(u))**k -> sigmoid(u)**m * sigmoid(-u)**(k-m)"),
        (1 - 1 / (1 + sp.exp(-w)), 25.0, "1 - sigmoid(u) -> sigmoid(-u)"),
        (sp.log(1 + w**2), 1e-9, "log(1 + u) -> log1p(u)"),
        (sp.exp(w) - 1, 1e-12, "exp(u) - 1 -> expm1(u)"),
        (sp.log(sp.exp(w)), 3.25, "log(exp(u)) -> u"),
        (sp.log(1 / (1 + sp.exp(-w))), 800.0, "log(sigmoid(u)) -> -logaddexp(0, -u)"),
    ],
)
def test_each_rewrite_agrees_with_high_precision_mpmath(expr, point, rule):
    f = sc.Loss(expr, params=[w]).compile()
    assert rule in f.rewrites
    with mpmath.workdps(50):
        exact = sp.lambdify(w, expr, "mpmath")(mpmath.mpf(point))
        exact_d = sp.lambdify(w, sp.diff(expr, w), "mpmath")(mpmath.mpf(point))
    v, g = f.value_and_grad([point])
    assert v == pytest.approx(float(exact), rel=1e-13, abs=1e-300)
    assert g[0] == pytest.approx(float(exact_d), rel=1e-12, abs=1e-300)


def test_value_and_grad_share_one_cse_pass():
    loss = sc.Loss(sp.log(1 + sp.exp(-y * (w * x + b))), params=[w, b], data=[x, y])
    src = loss.compile().source
    vg = src.split("def _value_and_grad")[1]
    assert vg.count("numpy.logaddexp") == 1 and vg.count("scipy.special.expit") == 1
    assert "def _value(" in src


N_TERMS = 600  # plain SymPy derivation grows superlinearly; symengine (extra) handles 2,000+


def test_large_sum_compiles_without_recursion_error():
    xs = sp.symbols(f"x0:{N_TERMS}")
    expr = sp.Add(*[sp.exp(-((w * xi - b) ** 2)) * sp.sin(w + xi) + sp.log(1 + xi**2 * b**2) for xi in xs])
    assert sp.count_ops(expr) > 8_000
    loss = sc.Loss(expr, params=[w, b], data=list(xs))
    f = loss.compile()
    t = 0.001 * np.arange(N_TERMS)
    data = {f"x{i}": np.array([t[i]]) for i in range(N_TERMS)}
    v, g = f.value_and_grad([0.5, 0.25], data)
    ref = np.sum(np.exp(-((0.5 * t - 0.25) ** 2)) * np.sin(0.5 + t) + np.log1p(t**2 / 16))
    ref_g = np.sum(-2 * t * (0.5 * t - 0.25) * np.exp(-((0.5 * t - 0.25) ** 2)) * np.sin(0.5 + t)
                   + np.exp(-((0.5 * t - 0.25) ** 2)) * np.cos(0.5 + t))
    assert v == pytest.approx(ref, rel=1e-12)
    assert g[0] == pytest.approx(ref_g, rel=1e-12)


def test_chunked_evaluation_equals_single_pass():
    loss = sc.Loss(sp.log(1 + sp.exp(-y * (w * x + b))) + 0.1 * w**2, params=[w, b], data=[x, y])
    data = {"x": RNG.normal(size=1001), "y": np.sign(RNG.normal(size=1001))}
    whole = loss.compile().value_and_grad([0.2, 0.1], data)
    chunked = loss.compile(chunk_rows=64).value_and_grad([0.2, 0.1], data)
    assert whole[0] == pytest.approx(chunked[0], rel=1e-13)
    np.testing.assert_allclose(whole[1], chunked[1], rtol=1e-12)


def test_theta_as_mapping_and_dataframe_data():
    f = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y]).compile()
    df = pd.DataFrame({"x": [1.0, 2.0], "y": [3.0, 5.0], "extra": ["a", "b"]})
    assert f.value({w: 2.0, "b": 1.0}, df) == 0.0
    assert f.value([2.0, 1.0], {x: [1, 2], y: [3, 5]}) == 0.0  # int lists and Symbol keys


def test_no_data_loss_is_a_plain_function():
    f = sc.Loss((w - 1) ** 2 * 3, params=[w]).compile()
    assert f.value([1.0]) == 0.0
    assert f.grad([2.0])[0] == pytest.approx(6.0)
    assert f.hessian([0.0])[0, 0] == pytest.approx(6.0)


def test_source_is_registered_for_tracebacks_and_repr():
    f = sc.Loss(w * x, params=[w], data=[x]).compile()
    code = f._kernels["value"].__code__
    assert linecache.getline(code.co_filename, 1).startswith("def _value")
    assert repr(f) == "CompiledLoss(params=['w'], data=['x'], reduce='mean', backend='numpy', rewrites=0)"


def test_unsafe_symbol_names_get_safe_identifiers():
    lam, dat = sp.Symbol("lambda"), sp.Symbol("x[0]")
    f = sc.Loss(lam**2 * dat, params=[lam], data=[dat]).compile()
    assert f.value([3.0], {"x[0]": [2.0]}) == 18.0


def test_elementwise_shares_cse_and_broadcasts():
    z = sp.Symbol("z")
    f = compile_elementwise([sp.tanh(z), 1 - sp.tanh(z) ** 2, sp.Integer(1)], [z])
    t, dt, one = f(np.array([[0.0, 0.5]]))
    np.testing.assert_allclose(t, np.tanh([[0.0, 0.5]]))
    np.testing.assert_allclose(dt, 1 - np.tanh([[0.0, 0.5]]) ** 2)
    assert one.shape == (1, 2) and f.source.count("numpy.tanh") == 1
    with pytest.raises(SymcalcError, match=r"expected 1 argument\(s\) \(z\); got 2"):
        f(1.0, 2.0)


# ---------------------------------------------------------------- bad input
@pytest.fixture
def f():
    return sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y]).compile()


@pytest.mark.parametrize(
    "theta, data, error, match",
    [
        ([1.0, 2.0], {"x": [1.0]}, SymbolError, r"data is missing symbol 'y' used by the loss; got keys \['x'\]"),
        ([1.0, 2.0], {"x": [1.0, 2.0], "y": [1.0]}, ShapeError, "same length; got x: 2, y: 1"),
        ([1.0, 2.0], {"x": ["a", "b"], "y": [1.0, 2.0]}, DataError, r"data\['x'\] must contain numbers only; found 'a'"),
        ([1.0, 2.0], {"x": [1.0, np.nan], "y": [1.0, 2.0]}, NonFiniteError, r"data\['x'\] contains nan at row 1"),
        ([1.0, 2.0], {"x": [], "y": []}, DataError, r"data\['x'\] is empty"),
        ([1.0, 2.0], {"x": [[1.0]], "y": [[1.0]]}, ShapeError, r"data\['x'\] must be 1-D"),
        ([1.0, 2.0, 3.0], {"x": [1.0], "y": [1.0]}, ShapeError, r"theta has length 3; expected 2 \(parameters \['w', 'b'\]\)"),
        ({"w": 1.0}, {"x": [1.0], "y": [1.0]}, SymbolError, r"theta is missing parameter\(s\) \['b'\]"),
        ({"w": 1.0, "b": 0.0, "q": 1}, {"x": [1.0], "y": [1.0]}, SymbolError, r"unknown parameter\(s\) \['q'\]"),
        ([1.0, np.inf], {"x": [1.0], "y": [1.0]}, NonFiniteError, "theta contains inf at index 1"),
        ([1.0, 2.0], None, SymbolError, "data is required"),
        ([1.0, 2.0], [1.0, 2.0], DataError, "data must be a mapping"),
        (["a", 1.0], {"x": [1.0], "y": [1.0]}, DataError, "theta must contain numbers only"),
    ],
)
def test_bad_input(f, theta, data, error, match):
    with pytest.raises(error, match=match):
        f.value_and_grad(theta, data)


def test_unknown_backend(f):
    with pytest.raises(SymcalcError, match="backend must be one of 'numpy', 'numba'; got 'torch'"):
        sc.Loss(w**2, params=[w]).compile(backend="torch")


def test_bad_chunk_rows():
    with pytest.raises(SymcalcError, match="chunk_rows must be >= 1; got 0"):
        sc.Loss(w**2, params=[w]).compile(chunk_rows=0)


def test_overflow_without_bad_data_is_returned_not_warned():
    f = sc.Loss(sp.exp(w * x), params=[w], data=[x]).compile()
    v = f.value([1000.0], {"x": [1.0]})  # a genuinely infinite loss, no RuntimeWarning
    assert v == np.inf
