"""Numerical faults: overflow, undefined values, bad data and bad parameters, everywhere.

Each case gets either a correct finite answer or a clear SymcalcError; no RuntimeWarning
escapes (every test runs under ``warnings.simplefilter("error")``).

Policy for non-finite results of finite input (documented in CompiledLoss): a NaN value,
gradient or Hessian entry raises NonFiniteError naming the quantity and theta; an infinite
one (``exp`` overflow, ``log(0)``) is returned as ``+-inf``. The optimizers, which use the fast
``evaluate`` path, treat any non-finite value as divergence and keep the last finite iterate.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symcalc as sc
from symcalc import nn
from symcalc.errors import DataError, NonFiniteError, ShapeError, SymbolError, SymcalcError

w, b, x, y = sp.symbols("w b x y")


@pytest.fixture(autouse=True)
def _all_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(scope="module")
def line():
    return sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y]).compile()


# --------------------------------------------------------------------------------------------
# CompiledLoss: overflow, underflow, undefined values
# --------------------------------------------------------------------------------------------
def test_exp_overflow_is_inf_not_a_warning():
    f = sc.Loss(sp.exp(w * x), params=[w], data=[x]).compile()
    assert f.value([1e4], {x: [1.0]}) == math.inf
    assert f.grad([1e4], {x: [1.0]})[0] == math.inf
    assert f.value([-1e4], {x: [1.0]}) == 0.0  # underflow to 0 is exact enough
    assert f.value([700.0], {x: [1.0]}) == pytest.approx(math.exp(700.0), rel=1e-12)


def test_stable_rewrite_keeps_logistic_loss_finite_at_huge_margins():
    f = sc.Loss(sp.log(1 + sp.exp(-w * x)), params=[w], data=[x]).compile()
    assert f.value([1e6], {x: [-1.0]}) == 1e6
    assert f.value([1e6], {x: [1.0]}) == 0.0
    assert f.grad([1e6], {x: [-1.0]})[0] == pytest.approx(1.0)


def test_log_at_zero_and_tiny_values():
    f = sc.Loss(sp.log(w), params=[w]).compile()
    assert f.value([0.0]) == -math.inf  # log(0+) is -inf: a genuinely infinite loss
    assert f.value([1e-320]) == pytest.approx(math.log(1e-320))  # subnormal: still exact
    with pytest.raises(NonFiniteError, match=r"the loss value is NaN at theta \(w=-1\)"):
        f.value([-1.0])
    g = sc.Loss(sp.sqrt(w**2), params=[w]).compile()  # |w|: finite value, 0/0 slope at 0
    assert g.value([0.0]) == 0.0 and g.grad([2.0])[0] == 1.0
    with pytest.raises(NonFiniteError, match=r"the gradient entry d/dw is NaN at theta \(w=0\)"):
        g.grad([0.0])


def test_hessian_nan_entry_is_named():
    f = sc.Loss(w * sp.sqrt(b), params=[w, b]).compile()
    with pytest.raises(NonFiniteError, match=r"the Hessian entry \(w, b\) is NaN"):
        f.hessian([1.0, -1.0])
    np.testing.assert_allclose(f.hessian([1.0, 4.0]), [[0.0, 0.25], [0.25, -1 / 32]])


def test_division_by_zero_at_a_data_point():
    f = sc.Loss(w / (x - 1), params=[w], data=[x]).compile()
    assert f.value([1.0], {x: [0.0, 1.0]}) == math.inf  # 1/0 in one row: +inf mean
    with pytest.raises(NonFiniteError, match="NaN at theta"):  # 0/0 at w=0
        f.value([0.0], {x: [0.0, 1.0]})
    res = sc.gradient_descent(sc.Loss((w - x) ** 2 / (x - 1), params=[w], data=[x]),
                              {x: [0.0, 1.0]}, learning_rate=0.1, epochs=5)
    assert res.status == "bad_start" and not res.converged


def test_float_constant_overflow_in_formula():
    with pytest.raises(NonFiniteError, match="a constant in the loss overflows float64"):
        sc.Loss("pi**4000 * w^2", params=["w"]).compile().value([1.0])


@pytest.mark.parametrize("text", ["w + log(0)", "w*sqrt(-1)", "(-1)^(1/2)*w", "w + oo - oo"])
def test_undefined_constants_are_refused_at_construction(text):
    with pytest.raises(SymcalcError, match="loss must be real and finite as written"):
        sc.Loss(text, params=["w"])
    with pytest.raises(SymcalcError, match="division by zero"):
        sc.Loss("w + 0/0", params=["w"])


# --------------------------------------------------------------------------------------------
# data: NaN/inf, dtypes, empty, one sample, mismatched lengths
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, error, match",
    [
        ({x: [1.0, np.nan], y: [1.0, 2.0]}, NonFiniteError, r"data\['x'\] contains nan at row 1"),
        ({x: [1.0, 2.0], y: [np.inf, 2.0]}, NonFiniteError, r"data\['y'\] contains inf at row 0"),
        ({x: [], y: []}, DataError, r"data\['x'\] is empty"),
        ({x: [1.0, 2.0], y: [1.0]}, ShapeError, "same length; got x: 2, y: 1"),
        ({x: [[1.0, 2.0]], y: [[1.0, 2.0]]}, ShapeError, r"data\['x'\] must be 1-D"),
        ({x: 1.0, y: 2.0}, ShapeError, "must be a 1-D array; got a scalar"),
        ({x: np.array([1, "a"], dtype=object), y: [1.0, 2.0]}, DataError, "found 'a'"),
        ({x: [1 + 1j], y: [1.0]}, DataError, "must be real; got complex"),
        ({x: [1.0]}, SymbolError, "data is missing symbol 'y'"),
        (None, SymbolError, "data is required"),
        ([[1.0], [2.0]], DataError, "data must be a mapping"),
    ],
)
def test_bad_data_is_refused(line, data, error, match):
    with pytest.raises(error, match=match):
        line.value_and_grad([1.0, 0.0], data)


def test_integer_bool_and_object_dtypes_give_the_float_answer(line):
    ref = line.value([2.0, 1.0], {x: [1.0, 0.0], y: [3.0, 2.0]})
    assert ref == pytest.approx(0.5)  # (2+1-3)^2 = 0 and (0+1-2)^2 = 1
    assert line.value([2, 1], {x: np.array([1, 0]), y: np.array([3, 2])}) == ref
    assert line.value([2.0, 1.0], {x: np.array([True, False]), y: [3, 2]}) == ref
    assert line.value([2.0, 1.0], {x: np.array([1, 0], dtype=object), y: [3.0, 2.0]}) == ref
    assert line.value([2.0, 1.0], {x: np.array([1, 0], dtype=np.int8), y: [3.0, 2.0]}) == ref


def test_one_sample_is_fine(line):
    assert line.value([1.0, 1.0], {x: [2.0], y: [5.0]}) == 4.0
    np.testing.assert_allclose(line.grad([1.0, 1.0], {x: [2.0], y: [5.0]}), [-8.0, -4.0])


@pytest.mark.parametrize(
    "theta, error, match",
    [
        ([1.0], ShapeError, r"theta has length 1; expected 2 \(parameters \['w', 'b'\]\)"),
        ([1.0, 2.0, 3.0], ShapeError, "theta has length 3; expected 2"),
        ([[1.0, 2.0]], ShapeError, "theta must be 1-D"),
        ([np.nan, 0.0], NonFiniteError, "theta contains nan at index 0"),
        (None, DataError, "theta must be numeric"),
        ("1,2", DataError, "theta must be numeric; got the string"),
        (["a", 1.0], DataError, "theta must contain numbers only; found 'a'"),
        ({"w": "1", "b": 2.0}, DataError, r"theta\['w'\] must be a real number; got '1'"),
        ({"w": 1.0}, SymbolError, r"theta is missing parameter\(s\) \['b'\]"),
        ({"w": 1.0, "b": 1.0, "z": 1.0}, SymbolError, r"unknown parameter\(s\) \['z'\]"),
    ],
)
def test_bad_theta_is_refused(line, theta, error, match):
    with pytest.raises(error, match=match):
        line.hessian(theta, {x: [1.0], y: [2.0]})


def test_numeric_strings_in_a_theta_vector_are_read_as_numbers(line):
    # the validation layer converts numeric text in arrays (as NumPy does), never code
    assert line.value(["1", "0"], {x: [2.0], y: [2.0]}) == 0.0


@pytest.mark.parametrize(
    "params, data, error, match",
    [
        ([w, w, b], [x, y], SymbolError, "params lists w more than once"),
        ([w, b], [x, y, x], SymbolError, "data lists x more than once"),
        ([w, b], [x, y, w], SymbolError, r"\['w'\] are listed as both params and data"),
        (["w b"], [x, y], SymbolError, "must be a symbol name like 'x'"),
        ([1, b], [x, y], SymbolError, "must be a sympy Symbol or its name"),
        ([], [x, y], SymbolError, "params is empty"),
        ([w], [x], SymbolError, r"uses symbol\(s\) \['b', 'y'\] that are neither"),
    ],
)
def test_bad_symbols_are_refused(params, data, error, match):
    with pytest.raises(error, match=match):
        sc.Loss((w * x + b - y) ** 2, params=params, data=data)


def test_two_symbols_with_one_name():
    with pytest.raises(SymbolError, match="two different symbols named 'w'"):
        sc.Loss(w + sp.Symbol("w", positive=True), params=[w])


# --------------------------------------------------------------------------------------------
# optimizers: divergence is a result, bad input an error
# --------------------------------------------------------------------------------------------
def test_gradient_descent_overflow_is_divergence_not_a_warning():
    loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
    res = sc.gradient_descent(loss, {x: [1e100, 2e100], y: [1.0, 2.0]}, x0=[1.0],
                              learning_rate=1.0, epochs=50)
    assert res.status == "diverged" and not res.converged
    assert np.isfinite(res.x).all() and math.isfinite(res.fun)
    assert "smaller learning rate" in res.message


def test_gradient_descent_at_an_undefined_start():
    res = sc.gradient_descent(sc.Loss(sp.log(w), params=[w]), x0=[-1.0], learning_rate=0.1)
    assert res.status == "bad_start" and not res.converged


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(learning_rate=-1.0), SymcalcError, "learning_rate must be > 0; got -1"),
        (dict(learning_rate="0.1"), SymcalcError, "learning_rate must be a positive number"),
        (dict(learning_rate=math.nan), NonFiniteError, "learning_rate must be finite"),
        (dict(epochs=0), SymcalcError, "epochs must be >= 1; got 0"),
        (dict(epochs=2.5), SymcalcError, "epochs must be an integer"),
        (dict(x0=["a", 0.0]), DataError, "x0 must contain numbers only"),
        (dict(x0=[0.0]), ShapeError, "x0 has length 1; expected 2"),
        (dict(x0=[math.inf, 0.0]), NonFiniteError, "x0 contains inf"),
        (dict(batch_size=0), SymcalcError, "batch_size must be >= 1"),
        (dict(batch_size=10), SymcalcError, "batch_size must be at most the number of data rows"),
        (dict(method="sgdd"), SymcalcError, "method must be one of"),
        (dict(tol=-1.0), SymcalcError, "tol must be >= 0"),
        (dict(seed=-3), SymcalcError, "seed must be non-negative"),
    ],
)
def test_gradient_descent_bad_options(kwargs, error, match):
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    options = dict(learning_rate=0.1, epochs=5)
    options.update(kwargs)
    with pytest.raises(error, match=match):
        sc.gradient_descent(loss, {x: [1.0, 2.0], y: [1.0, 3.0]}, **options)


def test_gradient_descent_one_sample_and_int_data():
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    res = sc.gradient_descent(loss, {x: np.array([1, 2, 3]), y: np.array([3, 5, 7])},
                              learning_rate=0.05, epochs=5000, tol=1e-10)
    assert res.converged and res.x == pytest.approx([2.0, 1.0], abs=1e-5)
    one = sc.gradient_descent(loss, {x: [2.0], y: [5.0]}, learning_rate=0.05, epochs=2000)
    assert one.converged and one.fun == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("method", ["newton", "BFGS", "L-BFGS-B", "Nelder-Mead", "trust-exact"])
def test_minimize_non_finite_start_and_nan_data(method):
    res = sc.minimize(sc.Loss(sp.exp(w * x), params=[w], data=[x]), {x: [1.0]}, [1e3],
                      method=method)
    assert res.status == "bad_start" and not res.converged
    with pytest.raises(NonFiniteError, match=r"data\['x'\] contains nan"):
        sc.minimize(sc.Loss((w * x - y) ** 2, params=[w], data=[x, y]),
                    {x: [1.0, np.nan], y: [1.0, 2.0]}, [0.0], method=method)


def test_minimize_bad_method_and_empty_data():
    loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
    with pytest.raises(SymcalcError, match="method must be one of 'newton'"):
        sc.minimize(loss, {x: [1.0], y: [1.0]}, [0.0], method="foo")
    with pytest.raises(DataError, match="is empty"):
        sc.minimize(loss, {x: [], y: []}, [0.0], method="newton")


def test_stable_learning_rate_at_an_undefined_point():
    loss = sc.Loss(sp.log(w) + w**2, params=[w])
    with pytest.raises(SymcalcError, match="not finite|NaN"):
        sc.stable_learning_rate(loss, at=[0.0])
    assert sc.stable_learning_rate(loss, at=[1.0]).bound == pytest.approx(2 / 1.0)  # -1 + 2


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [sc.roc_auc_score, sc.roc_curve, sc.roc_auc_ci])
@pytest.mark.parametrize(
    "y_true, y_score, error, match",
    [
        ([0, 1, 0, 1], [0.1, np.nan, 0.2, 0.3], NonFiniteError, "y_score contains nan"),
        ([0, 1, 0, 1], [0.1, np.inf, 0.2, 0.3], NonFiniteError, "y_score contains inf"),
        ([], [], DataError, "y_true is empty"),
        ([0, 1, 1], [0.1, 0.2], ShapeError, "same length"),
        ([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4], SymcalcError, "multiclass format|multi_class"),
        ([0, 1, 0, 1], np.array([0.1, "a", 0.2, 0.3], dtype=object), DataError, "found 'a'"),
        ([[0, 1], [1, 0]], [0.1, 0.2], ShapeError, "1-D|shape of the indicator matrix"),
    ],
)
def test_metrics_refuse_bad_input(fn, y_true, y_score, error, match):
    with pytest.raises(error, match=match):
        fn(y_true, y_score)


def test_one_class_is_nan_with_a_warning_or_refused():
    # as scikit-learn: the curve and the score are nan with an UndefinedMetricWarning
    with pytest.warns(sc.UndefinedMetricWarning, match="No negative samples"):
        assert np.isnan(sc.roc_curve([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4])[0]).all()
    with pytest.warns(sc.UndefinedMetricWarning, match="Only one class is present"):
        assert np.isnan(sc.roc_auc_score([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4]))
    with pytest.raises(DataError, match="at least 2 positive and 2 negative"):
        sc.roc_auc_ci([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4])


def test_metrics_with_extreme_scores_and_dtypes():
    scores = [1e308, -1e308, 1.7e308, 5e-324]
    labels = [1, 0, 1, 0]
    assert sc.roc_auc_score(labels, scores) == 1.0
    assert sc.roc_auc_score(np.array(labels, dtype=bool), scores) == 1.0
    assert sc.roc_auc_score(labels, np.array([3, 1, 4, 2], dtype=np.int64)) == 1.0
    rep = sc.roc_auc_ci([1, 0, 1, 0, 1, 0], [1e308, -1e308, 1e300, 1e307, -1e300, 0.0])
    assert 0.0 <= rep.ci[0] <= rep.auc <= rep.ci[1] <= 1.0
    with pytest.raises(SymcalcError, match="level must be in"):
        sc.roc_auc_ci(labels, scores, level=1.0)


def test_auc_of_bad_curves():
    with pytest.raises(NonFiniteError, match="x contains nan"):
        sc.auc([0.0, np.nan, 1.0], [0.0, 1.0, 1.0])
    with pytest.raises(DataError, match="x is neither increasing nor decreasing"):
        sc.auc([0.0, 1.0, 0.5], [0.0, 1.0, 1.0])
    with pytest.raises(DataError, match="At least 2 points are needed"):
        sc.auc([0.0], [0.0])


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(scores=st.lists(st.one_of(st.floats(-1e308, 1e308),
                                 st.sampled_from([1e308, -1e308, 0.0, 5e-324])),
                       min_size=4, max_size=30),
       seed=st.integers(0, 10**6))
def test_auc_of_extreme_scores_matches_rank_statistic(scores, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(len(scores)) % 2
    rng.shuffle(labels)
    s = np.array(scores)
    pos, neg = s[labels == 1], s[labels == 0]
    expected = (np.sum(pos[:, None] > neg[None, :]) + 0.5 * np.sum(pos[:, None] == neg[None, :]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sc.roc_auc_score(labels, s) == pytest.approx(expected / (pos.size * neg.size))


# --------------------------------------------------------------------------------------------
# convergence
# --------------------------------------------------------------------------------------------
def test_sequences_near_the_float_limit_do_not_warn():
    rep = sc.analyze_sequence([1e308, -1e308, 1e308, -1e308, 1e308])
    assert not rep.converged
    rep = sc.analyze_sequence([1e308, -1e308, 1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125])
    assert rep.converged and rep.limit == pytest.approx(0.0, abs=1e-6)
    assert "skipped" in rep.reason and rep.n == 8
    assert not sc.analyze_sequence([0.0, 0.0, 179769314.0]).converged  # huge growth, no error
    assert not sc.check_convergence([1e308, -1e308, 1e308])


def test_sequences_with_nan_inf_and_odd_dtypes():
    rep = sc.analyze_sequence([1.0, 0.5, np.nan])
    assert not rep.converged and "values[2] is nan" in rep.reason
    rep = sc.analyze_sequence([1.0, 2.0, np.inf])
    assert not rep.converged and rep.limit == math.inf
    assert sc.analyze_sequence(np.array([5, 5, 5, 5])).converged  # ints
    assert not sc.analyze_sequence([1.0, 0.5]).converged  # too few values: a verdict, no error
    assert not sc.check_convergence([1.0, 0.5, np.nan])
    with pytest.raises(DataError, match="values is empty"):
        sc.analyze_sequence([])
    with pytest.raises(DataError, match="found 'a'"):
        sc.analyze_sequence(np.array([1.0, "a"], dtype=object))
    with pytest.raises(ShapeError, match="values must be 1-D"):
        sc.analyze_sequence([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(SymcalcError, match="tol must be >= 0"):
        sc.check_convergence([1.0, 1.0, 1.0], tol=-1)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from([1e308, -1e308, 1.7e308, 5e-324, 0.0, 1e154])),
                min_size=1, max_size=30))
def test_analyze_sequence_never_warns_or_crashes(values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = sc.analyze_sequence(values)
        sc.check_convergence(values, tol=1e-3, window=3, rtol=1e-3)
    assert isinstance(rep.converged, bool) and rep.reason
    if rep.converged:
        assert math.isfinite(rep.limit)


# --------------------------------------------------------------------------------------------
# nn
# --------------------------------------------------------------------------------------------
def _net(activation="tanh", loss="mse", lr=0.1, out="linear"):
    model = nn.Sequential([nn.Dense(4, activation=activation, input_dim=2, seed=0),
                           nn.Dense(1, activation=out, seed=1)])
    model.compile(optimizer="sgd", loss=loss, learning_rate=lr)
    return model


def _xy(n=12):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, X[:, :1] - X[:, 1:]


@pytest.mark.parametrize(
    "X, Y, error, match",
    [
        (np.array([[np.nan, 1.0]]), np.zeros((1, 1)), NonFiniteError, "X contains nan"),
        (np.ones((2, 2)), np.array([[np.inf], [0.0]]), NonFiniteError, "y contains inf"),
        (np.zeros((0, 2)), np.zeros((0, 1)), DataError, "X is empty"),
        (np.ones((3, 2)), np.ones((2, 1)), ShapeError, "same number of samples; got 3 and 2"),
        (np.ones((3, 1)), np.ones((3, 1)), ShapeError, "expects input_dim=2"),
        (np.ones(3), np.ones(3), ShapeError, "X must be 2-D"),
        (np.ones((3, 2)), np.ones((3, 2)), ShapeError, r"y must have shape \(n_samples, 1\)"),
        (np.array([[1, "a"]], dtype=object), np.ones((1, 1)), DataError, "found 'a'"),
    ],
)
def test_nn_fit_refuses_bad_data(X, Y, error, match):
    with pytest.raises(error, match=match):
        _net().fit(X, Y, epochs=1)


def test_nn_predict_refuses_bad_data_and_handles_extremes():
    model = _net()
    with pytest.raises(NonFiniteError, match="X contains nan"):
        model.predict(np.full((2, 2), np.nan))
    with pytest.raises(ShapeError, match="expects input_dim=2"):
        model.predict(np.zeros((2, 3)))
    big = model.predict(np.full((2, 2), 1e308))  # tanh saturates: finite output
    assert np.isfinite(big).all()
    sig = _net("sigmoid").predict(np.full((2, 2), -1e308))
    assert np.isfinite(sig).all()


def test_nn_int_bool_dtypes_and_one_sample():
    X, Y = _xy()
    ref = _net().fit(X.round(), Y.round(), epochs=2, shuffle=False).history["loss"]
    ints = _net().fit(X.round().astype(int), Y.round().astype(int), epochs=2, shuffle=False)
    assert ints.history["loss"] == pytest.approx(ref)
    assert np.isfinite(_net().fit(X > 0, Y > 0, epochs=2).history["loss"]).all()
    one = _net().fit(X[:1], Y[:1], epochs=3)
    assert len(one.history["loss"]) == 3 and one.message == "Ran all 3 epoch(s)."


def test_nn_binary_crossentropy_needs_labels_in_0_1():
    X, Y = _xy()
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_dim=2, seed=0)])
    model.compile(optimizer="sgd", loss="binary_crossentropy", learning_rate=0.1)
    with pytest.raises(DataError, match=r"y must hold labels .* in \[0, 1\].*found 5"):
        model.fit(X, np.full_like(Y, 5.0), epochs=1)
    hist = model.fit(X * 1e3, (Y > 0) * 1.0, epochs=3)  # huge logits: the stable BCE form
    assert np.isfinite(hist.history["loss"]).all()


def test_nn_divergence_restores_the_best_weights():
    X, Y = _xy()
    model = _net("relu", lr=1.0)
    start = model.get_weights()
    with pytest.warns(UserWarning, match="training loss became"):
        hist = model.fit(X * 1e200, Y * 1e200, epochs=3, batch_size=4)
    assert hist.diverged and not hist.converged and "diverged" in hist.message
    weights = model.get_weights()
    assert all(np.isfinite(v).all() for v in weights)
    for a, b_ in zip(weights, start):  # no finite epoch: the starting weights are back
        np.testing.assert_array_equal(a, b_)
