"""Tests of symcalc.optimize: standard problems x every solver, divergence, interrupts, inputs."""

from __future__ import annotations

import math
import warnings

import matplotlib
import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import ShapeError, SymbolError, SymcalcError
from symcalc.optimize import MESSAGES

from problems import PROBLEMS, linear_regression, logistic_loss, logistic_regression

matplotlib.use("Agg")

SECOND_ORDER = ["newton", "BFGS", "L-BFGS-B", "Newton-CG", "trust-exact", "trust-ncg", "CG"]


@pytest.fixture(scope="module")
def problems():
    return {name: make() for name, make in PROBLEMS.items()}


def _cases():
    made = {name: make() for name, make in PROBLEMS.items()}
    for name, p in made.items():
        for m in SECOND_ORDER:
            yield pytest.param(name, m, id=f"{name}-{m}")
        for m in p.descent:
            yield pytest.param(name, m, id=f"{name}-{m}")


@pytest.mark.parametrize("name, method", list(_cases()))
def test_problem_method_reaches_known_minimum(problems, name, method):
    p = problems[name]
    if method in p.descent:
        res = sc.gradient_descent(p.loss, p.data, x0=p.x0, method=method, **p.descent[method])
        atol = p.atol
    else:
        tol = 1e-10 if method in ("newton", "trust-exact") else 1e-8
        if method == "Newton-CG":  # scipy's CG stops at curvature p'Hp <= 3 eps: |g| ~ 6e-8
            tol = 1e-7
        res = sc.minimize(p.loss, p.data, p.x0, method=method, tol=tol, maxiter=20_000)
        atol = p.atol
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, p.x_star, atol=atol, rtol=0)
    # the reported loss and gradient norm are those at x
    f = p.loss.compile()
    value, grad = f.value_and_grad(res.x, p.data)
    assert res.fun == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert res.grad_norm == pytest.approx(np.linalg.norm(grad), rel=1e-9, abs=1e-300)
    # history: entry 0 is x0 and the path ends at x
    np.testing.assert_array_equal(res.history["x"][0], p.x0)
    np.testing.assert_array_equal(res.history["x"][-1], res.x)
    assert len(res.history["loss"]) == len(res.history["grad_norm"]) == len(res.history["x"])
    assert res.params == {s: pytest.approx(v) for s, v in zip(p.loss.params, res.x)}


def test_linear_regression_gd_matches_normal_equations_with_defaults():
    p = linear_regression()
    res = sc.gradient_descent(p.loss, p.data, learning_rate=0.05, epochs=5000)
    assert res.converged and res.status in ("grad_tol", "loss_tol")
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-6, rtol=0)
    assert res.nit < 5000 and res.nfev == res.nit + 1


def test_logistic_newton_matches_sklearn_unpenalized():
    p = logistic_regression()  # x_star from sklearn LogisticRegression(penalty=None)
    res = sc.minimize(p.loss, p.data, method="newton")
    assert res.converged and res.status == "grad_tol"
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-4, rtol=0)
    assert res.nit < 15 and res.nhev == res.nit + 1


def test_rosenbrock_newton_under_50_iterations():
    p = PROBLEMS["rosenbrock"]()
    res = sc.minimize(p.loss, x0={"a": -1.2, "b": 1.0}, method="newton")
    assert res.converged and res.nit < 50
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-8)
    # every Newton step decreased the loss (damped, with line search)
    assert all(b <= a for a, b in zip(res.history["loss"], res.history["loss"][1:]))


def test_newton_escapes_saddle_with_indefinite_hessian():
    a, b = sp.symbols("a b")
    # saddle at the origin of a^2 - b^2 + b^4/4, minima at (0, +-sqrt(2))
    loss = sc.Loss(a**2 - b**2 + b**4 / 4, params=[a, b])
    res = sc.minimize(loss, x0=[0.5, 1e-3], method="newton")
    assert res.converged
    np.testing.assert_allclose(res.x, [0.0, math.sqrt(2)], atol=1e-8)
    assert res.fun == pytest.approx(-1.0)


def test_auto_learning_rate_is_inverse_top_eigenvalue():
    from symcalc.optimize.descent import auto_learning_rate

    p = PROBLEMS["ill_conditioned"]()
    f = p.loss.compile()
    assert auto_learning_rate(f, None, p.x0, f.prepare(None)) == pytest.approx(1 / 100)
    res = sc.gradient_descent(p.loss, x0=p.x0, learning_rate="auto", epochs=5000)
    assert res.converged
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-6)
    # concave at x0 (no positive eigenvalue): Armijo backtracking gives a usable step
    a = sp.Symbol("a")
    g = sc.Loss(-sp.cos(a), params=[a]).compile()
    lr = auto_learning_rate(g, None, np.array([3.0]), g.prepare(None))
    assert 0 < lr <= 1 and -math.cos(3 - lr * math.sin(3)) < -math.cos(3)


def test_too_large_learning_rate_diverges_without_exception_or_warning():
    p = linear_regression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sc.gradient_descent(p.loss, p.data, learning_rate=10.0, epochs=10_000)
    assert not res.converged and res.status == "diverged"
    assert np.isfinite(res.x).all() and math.isfinite(res.fun)
    assert f"epoch {res.nit}" in res.message and "smaller learning rate" in res.message
    # x is the last finite iterate: the history ends there
    np.testing.assert_array_equal(res.x, res.history["x"][-1])
    assert res.nit == len(res.history["x"])


@pytest.mark.parametrize("method", ["momentum", "adam"])
def test_divergence_with_minibatches_keeps_last_finite_iterate(method):
    p = linear_regression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sc.gradient_descent(p.loss, p.data, learning_rate=1e3 if method == "adam" else 5.0,
                                  epochs=5000, method=method, batch_size=8, seed=0)
    if method == "adam":  # Adam's step is bounded by lr: it never overflows, it just fails
        assert not res.converged and res.status == "max_epochs"
    else:
        assert res.status == "diverged" and np.isfinite(res.x).all()


def test_max_epochs_message_and_counts():
    p = PROBLEMS["ill_conditioned"]()
    res = sc.gradient_descent(p.loss, x0=p.x0, learning_rate=1e-4, epochs=7)
    assert not res.converged and res.status == "max_epochs" and res.nit == 7
    assert res.message == MESSAGES["max_epochs"].format(nit=7, tol=1e-10, grad_norm=res.grad_norm)
    assert len(res.history["loss"]) == 8 and res.nfev == 8


def test_minibatch_reproducible_with_seed_and_differs_across_seeds():
    p = linear_regression()
    kw = dict(learning_rate=0.02, epochs=30, batch_size=7, method="momentum")
    r1 = sc.gradient_descent(p.loss, p.data, seed=3, **kw)
    r2 = sc.gradient_descent(p.loss, p.data, seed=3, **kw)
    r3 = sc.gradient_descent(p.loss, p.data, seed=4, **kw)
    np.testing.assert_array_equal(r1.x, r2.x)
    assert r1.history["loss"] == r2.history["loss"]
    assert not np.array_equal(r1.x, r3.x)
    # 60 rows in batches of 7: 9 steps per epoch, plus the full-data loss at x0 and at the end
    assert r1.nfev == 30 * 9 + 2
    np.testing.assert_allclose(r1.x, p.x_star, atol=0.15)  # near, with SGD noise
    f = p.loss.compile()
    assert r1.fun == pytest.approx(f.value(r1.x, p.data), rel=1e-12)


def test_minibatch_without_shuffle_is_deterministic_without_seed():
    p = linear_regression()
    kw = dict(learning_rate=0.01, epochs=20, batch_size=10, shuffle=False)
    r1, r2 = (sc.gradient_descent(p.loss, p.data, **kw) for _ in range(2))
    np.testing.assert_array_equal(r1.x, r2.x)


def test_callback_stops_cleanly():
    p = PROBLEMS["bowl"]()
    seen = []

    def cb(epoch, x, loss):
        seen.append((epoch, loss))
        return epoch == 3

    res = sc.gradient_descent(p.loss, learning_rate=0.1, epochs=100, callback=cb)
    assert res.status == "callback" and not res.converged and res.nit == 3
    assert [e for e, _ in seen] == [0, 1, 2, 3]
    assert res.message == "Stopped by the callback at epoch 3."
    assert seen[-1][1] == res.fun


@pytest.mark.parametrize("batch_size", [None, 16])
def test_keyboard_interrupt_returns_best_so_far(batch_size):
    p = linear_regression()

    def cb(epoch, x, loss):
        if epoch == 12:
            raise KeyboardInterrupt

    res = sc.gradient_descent(p.loss, p.data, learning_rate=0.01, epochs=100, callback=cb,
                              batch_size=batch_size, seed=0)
    assert res.status == "interrupted" and not res.converged
    assert "interrupted" in res.message and "epoch 12" in res.message
    best = int(np.argmin(res.history["loss"]))
    np.testing.assert_array_equal(res.x, res.history["x"][best])
    assert res.fun == min(res.history["loss"])


def test_keyboard_interrupt_in_newton(monkeypatch):
    p = PROBLEMS["rosenbrock"]()
    f = p.loss.compile()
    original, calls = f.evaluate, []

    def flaky(theta, data=None, *, order=1):
        calls.append(order)
        if sum(o == 2 for o in calls) == 4:
            raise KeyboardInterrupt
        return original(theta, data, order=order)

    monkeypatch.setattr(f, "evaluate", flaky)
    res = sc.minimize(f, x0=p.x0, method="newton")
    assert res.status == "interrupted" and len(res.history["x"]) == 3
    assert res.fun == min(res.history["loss"])


def test_optimizer_object_and_result_repr_and_plot():
    p = PROBLEMS["bowl"]()
    opt = sc.Momentum(learning_rate=0.05, momentum=0.5)
    res = sc.gradient_descent(p.loss, method=opt, epochs=3000)
    assert res.converged and res.method == "momentum"
    np.testing.assert_allclose(res.x, p.x_star, atol=1e-6)
    text = repr(res)
    assert text.startswith("DescentResult(\n    message:") and "converged: True" in text
    assert text.index("message") < text.index("converged") < text.index("x:")
    ax = res.plot()
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    assert len(ax.lines[0].get_ydata()) == len(res.history["loss"])


def test_minimize_bad_start_and_scipy_failure_are_results():
    a = sp.Symbol("a")
    loss = sc.Loss(sp.log(a) + a**2, params=[a])
    for method in ("newton", "BFGS"):
        res = sc.minimize(loss, x0=[-1.0], method=method)
        assert not res.converged and res.status == "bad_start"
        assert "not finite at the starting point" in res.message
    res = sc.minimize(PROBLEMS["rosenbrock"]().loss, x0=[-1.2, 1.0], method="BFGS", maxiter=3)
    assert not res.converged and res.status == "scipy" and "BFGS" in res.message


def test_minimize_with_bounds_and_progress_bar(capsys):
    p = PROBLEMS["bowl"]()
    res = sc.minimize(p.loss, method="L-BFGS-B", bounds=[(None, 0.5), (None, None), (0, None)])
    np.testing.assert_allclose(res.x, [0.5, -2.0, 3.0], atol=1e-6)
    res = sc.gradient_descent(p.loss, learning_rate=0.1, epochs=50, progress=True)
    assert "gradient_descent" in capsys.readouterr().err


def test_plots_contour_and_gradient_field():
    loss, data = logistic_loss()
    res = sc.minimize(loss, data, method="newton")
    ax = sc.plot_contour(loss, data, res, params=("w1", "b"), resolution=12, levels=8)
    assert ax.get_xlabel() == "w1" and ax.get_ylabel() == "b"
    path = ax.lines[0]
    np.testing.assert_array_equal(path.get_xdata(), [x[0] for x in res.history["x"]])
    ax2 = sc.plot_gradient_field(loss, data, res, params=("w1", "w2"), resolution=6)
    quiver = ax2.collections[0]
    u = quiver.U.reshape(6, 6)
    assert np.allclose(np.hypot(u, quiver.V.reshape(6, 6)), 1.0)
    assert sc.plot_loss_curve([1.0, 0.0, -1.0]).get_yscale() == "symlog"
    with pytest.raises(SymbolError, match="'zz', which is not a parameter"):
        sc.plot_contour(loss, data, params=("w1", "zz"))
    a = sp.Symbol("a")
    with pytest.raises(SymcalcError, match="at least two parameters"):
        sc.plot_contour(sc.Loss(a**2, params=[a]))


BAD_INPUTS = [
    (dict(x0=[1.0, 2.0, 3.0]), ShapeError, r"x0 has length 3; expected 2"),
    (dict(x0={"w": 1.0, "q": 0.0}), SymbolError, r"x0 has unknown parameter\(s\) \['q'\]"),
    (dict(learning_rate=-0.1), SymcalcError, r"learning_rate must be > 0; got -0.1"),
    (dict(learning_rate="fast"), SymcalcError, r"learning_rate must be a positive number or 'auto'"),
    (dict(learning_rate="auto", method="adam"), SymcalcError, r"Adam's steps do not scale"),
    (dict(epochs=0), SymcalcError, r"epochs must be >= 1; got 0"),
    (dict(epochs=2.5), SymcalcError, r"epochs must be an integer"),
    (dict(method="rmsprop"), SymcalcError, r"method must be one of 'gd'.*got 'rmsprop'"),
    (dict(batch_size=61), SymcalcError, r"batch_size must be at most the number of data rows \(60\); got 61"),
    (dict(batch_size=0), SymcalcError, r"batch_size must be >= 1; got 0"),
    (dict(tol=-1.0), SymcalcError, r"tol must be >= 0"),
    (dict(seed=1.5), SymcalcError, r"seed must be an int"),
    (dict(callback=3), SymcalcError, r"callback must be callable"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_INPUTS)
def test_gradient_descent_bad_inputs(kwargs, error, match):
    p = linear_regression()
    with pytest.raises(error, match=match):
        sc.gradient_descent(p.loss, p.data, **kwargs)


def test_bad_loss_and_data():
    p = linear_regression()
    with pytest.raises(SymcalcError, match="loss must be a symcalc.Loss"):
        sc.gradient_descent(sp.Symbol("w") ** 2)
    with pytest.raises(SymbolError, match="data is missing symbol 'y'"):
        sc.gradient_descent(p.loss, {"x": [1.0, 2.0]})
    with pytest.raises(SymbolError, match="data is required"):
        sc.minimize(p.loss)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="newtonian"), r"method must be one of 'newton', 'Nelder-Mead'.*'newtonian'"),
        (dict(maxiter=0), r"maxiter must be >= 1; got 0"),
        (dict(tol=-1e-3), r"tol must be >= 0"),
        (dict(c1=2.0), r"c1 must be in \(0, 1\); got 2"),
        (dict(damping=1.0), r"unknown option\(s\) \['damping'\] for method 'newton'"),
        (dict(x0=[0.0]), r"x0 has length 1; expected 2"),
    ],
)
def test_minimize_bad_inputs(kwargs, match):
    p = PROBLEMS["rosenbrock"]()
    with pytest.raises(SymcalcError, match=match):
        sc.minimize(p.loss, **kwargs)
