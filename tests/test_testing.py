"""The gradient checkers: no false alarm at kinks or optima, every wrong derivative caught."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.testing import KINK, MISMATCH, OK, check_grad, compare_gradient


def _relu_net(seed: int = 0):
    """The tutorial's 10 -> 64 relu -> 1 regression network after 10 epochs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 10))
    Y = (X @ rng.normal(size=10) + 0.1 * rng.normal(size=200))[:, None]
    model = sc.nn.Sequential([sc.nn.Dense(64, activation="relu", input_dim=10),
                              sc.nn.Dense(1)], seed=seed)
    model.compile(optimizer="adam", loss="mse", learning_rate=0.01)
    model.fit(X, Y, epochs=10, batch_size=32, seed=seed)
    return model, X, Y


@pytest.fixture(scope="module")
def relu_net():
    return _relu_net()


def test_relu_network_exact_backprop_passes(relu_net):
    # Before: 1.59 (the order-4 stencil straddled ReLU kinks 2.7e-4 away).
    model, X, Y = relu_net
    assert model.gradient_check(X, Y) < 1e-6


@pytest.mark.parametrize("wrong", ["sign", "half", "1e-4"])
def test_relu_network_wrong_backprop_is_caught(relu_net, monkeypatch, wrong):
    model, X, Y = relu_net
    exact = model.gradients(X, Y)
    bad = [g.copy() for g in exact]
    big = np.unravel_index(np.argmax(np.abs(bad[0])), bad[0].shape)  # a first-layer weight
    if wrong == "sign":
        bad[0][big] *= -1
    elif wrong == "half":  # a missing factor 2
        bad[0][big] *= 0.5
    else:
        bad[0][big] *= 1 + 1e-4
    monkeypatch.setattr(model, "_gradients", lambda *args, **kwargs: bad)  # backprop's result
    err = model.gradient_check(X, Y)
    assert err > (5e-5 if wrong == "1e-4" else 0.3)


def test_kink_straddled_by_the_first_stencil_is_resolved():
    # |v - 3e-5| has its kink inside the first stencil (h ~ 7e-4) but not inside h0 / 64.
    fun = lambda v: float(np.sum(np.abs(v - 3e-5)))  # noqa: E731
    cmp = compare_gradient(fun, [0.0, 1.0], [-1.0, 1.0])
    assert cmp.status.tolist() == [OK, OK]
    np.testing.assert_allclose(cmp.numeric, [-1.0, 1.0], rtol=1e-9)
    wrong = compare_gradient(fun, [0.0, 1.0], [1.0, 1.0])
    assert wrong.status.tolist() == [MISMATCH, OK]


def test_derivative_at_the_kink_itself_is_a_kink_not_a_mismatch():
    # At x = 0 the derivative of |x| is one-sided; a gradient that picks a side cannot be
    # checked by central differences, which settle on the mean of the two slopes.
    chk = check_grad(lambda v: float(abs(v[0])), lambda v: np.array([1.0]), [0.0])
    assert chk.verdict == "kink" and chk.kinks == ["x0"] and not chk.ok
    assert "not smooth" in str(chk)
    # A kink that never stops moving (|x|^0.5-like cusp near the point) is not checkable either.
    cusp = compare_gradient(lambda v: float(np.sqrt(abs(v[0] - 1e-9))), [0.0], [-1.0])
    assert cusp.status.tolist() == [KINK]


def _logistic():
    w, b, x, y = sp.symbols("w b x y")
    rng = np.random.default_rng(0)
    X = rng.normal(size=300)
    Yb = (rng.random(300) < 1 / (1 + np.exp(-(1.5 * X - 0.5)))).astype(float)
    loss = sc.Loss(sp.log(1 + sp.exp(w * x + b)) - y * (w * x + b), params=[w, b], data=[x, y])
    return loss, {"x": X, "y": Yb}


def test_check_at_the_optimum_is_no_false_alarm():
    # Before: MISMATCH with relative error 4.5e-6 from absolute errors of 4e-14.
    loss, data = _logistic()
    res = sc.minimize(loss, data, x0=[0.0, 0.0], method="newton")
    assert res.grad_norm < 1e-10
    chk = loss.check_gradient(res.x, data)
    assert chk.ok and chk.verdict == "ok", str(chk)
    assert chk.max_rel_error < 1e-6 and chk.max_abs_error < 1e-12


@pytest.mark.parametrize("factor", [-1.0, 0.5, 1 + 1e-4])
def test_wrong_gradient_caught_away_from_the_optimum(factor):
    loss, data = _logistic()
    f = loss.compile()
    P = f.prepare(data)
    theta = np.array([0.7, 0.2])

    def grad(t):
        g = f.evaluate(t, P, order=1)[1:].copy()
        g[0] *= factor
        return g

    chk = check_grad(lambda t: f.evaluate(t, P, order=0)[0], grad, theta, names=["w", "b"])
    assert chk.verdict == "mismatch" and not chk.ok
    assert chk.rel_error[0] > 5e-5 and chk.rel_error[1] < 1e-8


def test_wrong_hessian_caught_and_exact_one_passes():
    fun = lambda v: float(np.exp(v[0]) * np.sin(v[1]))  # noqa: E731
    grad = lambda v: np.array([np.exp(v[0]) * np.sin(v[1]), np.exp(v[0]) * np.cos(v[1])])  # noqa: E731

    def hess(v, wrong=1.0):
        e, s, c = np.exp(v[0]), np.sin(v[1]), np.cos(v[1])
        return np.array([[e * s, e * c * wrong], [e * c * wrong, -e * s]])

    good = check_grad(fun, grad, [0.3, 0.4], hess=hess)
    assert good.ok and good.hessian_max_rel_error < 1e-7
    bad = check_grad(fun, grad, [0.3, 0.4], hess=lambda v: hess(v, 1 + 1e-3))
    assert bad.verdict == "mismatch" and bad.hessian_max_rel_error > 5e-4


def test_compare_gradient_rejects_bad_order():
    with pytest.raises(ValueError, match="order must be 2 or 4"):
        compare_gradient(lambda v: float(v @ v), [1.0], [2.0], order=3)
