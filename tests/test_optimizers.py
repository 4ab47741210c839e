"""The shared optimizer objects: one update each, checked against hand-computed steps."""

import numpy as np
import pytest

from symcalc.errors import SymcalcError
from symcalc.optimizers import Adam, GradientDescent, Momentum, Nesterov, get_optimizer


def test_gradient_descent_step():
    np.testing.assert_allclose(GradientDescent(0.1).step(np.array([1.0, 2.0]), np.array([10.0, -5.0])), [0.0, 2.5])


def test_momentum_two_steps_by_hand():
    opt = Momentum(0.1, momentum=0.5)
    x = opt.step(np.array([1.0]), np.array([2.0]))  # v = -0.2, x = 0.8
    x = opt.step(x, np.array([1.0]))                # v = 0.5*(-0.2) - 0.1 = -0.2, x = 0.6
    np.testing.assert_allclose(x, [0.6])


def test_nesterov_two_steps_by_hand():
    opt = Nesterov(0.1, momentum=0.5)
    x = opt.step(np.array([1.0]), np.array([2.0]))  # v=-0.2; x = 1 + 0.5*(-0.2) - 0.2 = 0.7
    np.testing.assert_allclose(x, [0.7])
    x = opt.step(x, np.array([1.0]))                # v=-0.2; x = 0.7 - 0.1 - 0.1 = 0.5
    np.testing.assert_allclose(x, [0.5])


def test_adam_first_step_is_learning_rate_times_sign():
    # bias correction makes the first step lr * g/|g| (up to epsilon)
    opt = Adam(0.01)
    x = opt.step(np.array([1.0, 1.0]), np.array([3.0, -0.5]))
    np.testing.assert_allclose(x, [0.99, 1.01], rtol=1e-6)


def test_state_is_kept_per_key_and_reset():
    opt = Momentum(0.1, momentum=0.9)
    opt.step(np.zeros(2), np.ones(2), key="W")
    opt.step(np.zeros(3), np.ones(3), key="b")
    assert set(opt.state) == {"W", "b"}
    opt.reset()
    assert opt.state == {}


@pytest.mark.parametrize("name, cls", [("sgd", GradientDescent), ("gd", GradientDescent), ("adam", Adam), ("nesterov", Nesterov)])
def test_get_optimizer_by_name(name, cls):
    opt = get_optimizer(name, 0.05)
    assert type(opt) is cls and opt.learning_rate == 0.05
    assert get_optimizer(opt) is opt


def test_bad_hyperparameters():
    with pytest.raises(SymcalcError, match="learning_rate must be > 0; got -0.1"):
        GradientDescent(-0.1)
    with pytest.raises(SymcalcError, match=r"momentum must be in \[0, 1\); got 1"):
        Momentum(0.1, momentum=1.0)
    with pytest.raises(SymcalcError, match=r"beta2 must be in \[0, 1\); got 1"):
        Adam(beta2=1.0)
    with pytest.raises(SymcalcError, match="optimizer must be one of 'gd', 'sgd', 'momentum', 'nesterov', 'adam'; got 'rmsprop'"):
        get_optimizer("rmsprop")
    with pytest.raises(SymcalcError, match="optimizer must be a name"):
        get_optimizer(3)
