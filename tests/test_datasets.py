"""Tests for symcalc.datasets: determinism, shapes, known parameters, documented properties."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pytest
from scipy.stats import norm

import symcalc as sc
from symcalc import datasets
from symcalc.datasets import Dataset, make_linear, make_logistic, make_scores, make_sine, make_xor
from symcalc.errors import NonFiniteError, SymcalcError


def _pairwise_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counted 1/2, by counting all pairs."""
    pos, neg = y_score[y_true == 1], y_score[y_true == 0]
    wins = 0.0
    for start in range(0, len(pos), 500):
        block = pos[start : start + 500, None]
        wins += np.sum(block > neg[None, :]) + 0.5 * np.sum(block == neg[None, :])
    return wins / (len(pos) * len(neg))


# -- determinism --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda s: list(make_linear(50, 2, seed=s).data.values()),
        lambda s: list(make_logistic(50, 3, seed=s).data.values()),
        lambda s: list(make_scores(50, seed=s)),
        lambda s: list(make_xor(50, seed=s)),
        lambda s: list(make_sine(50, noise=0.1, seed=s)),
    ],
)
def test_same_seed_same_data_other_seed_other_data(make):
    a, b, c = make(3), make(3), make(4)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))


def test_generator_seed_is_accepted_and_global_state_untouched():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    X1, _ = make_xor(20, seed=np.random.default_rng(7))
    assert np.random.random() == before
    X2, _ = make_xor(20, seed=7)
    assert np.array_equal(X1, X2)


# -- make_linear --------------------------------------------------------------------------------


def test_linear_one_feature_layout():
    ds = make_linear()
    assert isinstance(ds, Dataset) and isinstance(ds, Mapping)
    assert list(ds) == ["x", "y"] and len(ds) == 2
    assert ds.true_params == {"w": 2.0, "b": -1.0}
    assert ds["x"].shape == (200,) and ds["y"].dtype == np.float64
    assert ds.X.shape == (200, 1) and ds.y is ds["y"]
    assert "y = 2*x - 1" in ds.description
    assert "true_params" in repr(ds)


def test_linear_several_features_names_and_noise_free_values():
    ds = make_linear(30, 3, noise=0.0, seed=5)
    assert list(ds) == ["x1", "x2", "x3", "y"]
    assert ds.true_params == {"w1": 2.0, "w2": -1.0, "w3": 0.5, "b": -1.0}
    expected = 2.0 * ds["x1"] - 1.0 * ds["x2"] + 0.5 * ds["x3"] - 1.0
    np.testing.assert_allclose(ds["y"], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_features", [1, 3])
def test_least_squares_recovers_true_params(n_features):
    n, noise = 4000, 0.2
    ds = make_linear(n, n_features, noise=noise, seed=1)
    A = np.column_stack([ds.X, np.ones(n)])
    coef, *_ = np.linalg.lstsq(A, ds.y, rcond=None)
    truth = np.array(list(ds.true_params.values()))
    # standard error of each coefficient is about noise / sqrt(n) for standard-normal features
    assert np.max(np.abs(coef - truth)) < 5 * noise / math.sqrt(n)
    residual_sd = np.std(ds.y - A @ coef)
    assert abs(residual_sd - noise) < 0.05 * noise


# -- make_logistic ------------------------------------------------------------------------------


def test_logistic_labels_and_params():
    ds = make_logistic()
    assert list(ds) == ["x1", "x2", "y"]
    assert ds.true_params == {"w1": 2.0, "w2": -1.0, "b": 0.5}
    assert set(np.unique(ds["y"])) == {0.0, 1.0} and ds["y"].shape == (300,)
    assert list(make_logistic(10, 1).true_params) == ["w", "b"]


def test_logistic_maximum_likelihood_recovers_true_params():
    from sklearn.linear_model import LogisticRegression

    ds = make_logistic(20000, 2, seed=2)
    model = LogisticRegression(C=1e12, tol=1e-10, max_iter=1000).fit(ds.X, ds.y)
    assert np.allclose(model.coef_[0], [2.0, -1.0], atol=0.12)
    assert abs(model.intercept_[0] - 0.5) < 0.08


# -- make_scores --------------------------------------------------------------------------------


def test_scores_layout():
    y_true, y_score = make_scores(11, seed=0)
    assert y_true.shape == y_score.shape == (11,)
    assert y_true.dtype == np.int64 and y_score.dtype == np.float64
    assert int(y_true.sum()) == 5 and set(np.unique(y_true)) == {0, 1}


@pytest.mark.parametrize("separation", [0.0, 1.0, 2.0, -0.5])
def test_scores_auc_matches_binormal_population_value(separation):
    y_true, y_score = make_scores(6000, separation=separation, seed=3)
    expected = norm.cdf(separation / math.sqrt(2))
    # the standard error of the AUC at this size is below 0.008
    assert abs(_pairwise_auc(y_true, y_score) - expected) < 0.03


# -- make_xor / make_sine -----------------------------------------------------------------------


def test_xor_labels_shapes_and_balance():
    X, y = make_xor(200, noise=0.0)
    assert X.shape == (200, 2) and y.shape == (200, 1) and y.dtype == np.float64
    assert set(map(tuple, X)) == {(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)}
    np.testing.assert_array_equal(y[:, 0], (X[:, 0] * X[:, 1] < 0).astype(float))
    assert y.sum() == 100
    Xn, yn = make_xor(400, noise=0.1, seed=9)
    np.testing.assert_array_equal(yn[:, 0], (Xn[:, 0] * Xn[:, 1] < 0).astype(float))
    assert 0.05 < np.std(Xn - np.sign(Xn)) < 0.15


def test_sine_range_and_values():
    X, y = make_sine()
    assert X.shape == y.shape == (200, 1)
    assert X.min() >= -math.pi and X.max() <= math.pi
    np.testing.assert_allclose(y, np.sin(X), rtol=0, atol=1e-15)
    Xn, yn = make_sine(5000, noise=0.3, seed=2)
    assert abs(np.std(yn - np.sin(Xn)) - 0.3) < 0.02


# -- bad arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: make_linear(0), "n_samples must be >= 1"),
        (lambda: make_linear(10, 0), "n_features must be >= 1"),
        (lambda: make_linear(10.5), "n_samples must be an integer"),
        (lambda: make_linear(10, noise=-0.1), "noise must be >= 0"),
        (lambda: make_logistic(0), "n_samples must be >= 1"),
        (lambda: make_logistic(10, seed=-1), "seed must be non-negative"),
        (lambda: make_scores(1), "n_samples must be >= 2"),
        (lambda: make_scores(10, separation="far"), "separation must be a real number"),
        (lambda: make_xor(0), "n_samples must be >= 1"),
        (lambda: make_xor(10, noise=-1), "noise must be >= 0"),
        (lambda: make_sine(0), "n_samples must be >= 1"),
        (lambda: make_sine(10, noise=-0.5), "noise must be >= 0"),
        (lambda: make_sine(10, seed="x"), "seed must be an int"),
    ],
)
def test_bad_arguments_raise_symcalc_error(call, match):
    with pytest.raises(SymcalcError, match=match):
        call()


def test_non_finite_arguments():
    with pytest.raises(NonFiniteError, match="separation"):
        make_scores(10, separation=float("nan"))
    with pytest.raises(NonFiniteError, match="noise"):
        make_linear(10, noise=float("inf"))


def test_module_is_exported():
    assert sc.datasets is datasets and "datasets" in sc.__all__


def test_dataset_is_usable_as_loss_data():
    import sympy as sp

    w, b, x, y = sp.symbols("w b x y")
    ds = make_linear(300, noise=0.0, seed=4)
    f = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y]).compile()
    assert f.value(np.array([2.0, -1.0]), ds) == pytest.approx(0.0, abs=1e-20)
    expected = np.mean((3.0 * ds["x"] - ds["y"]) ** 2)
    assert f.value(np.array([3.0, 0.0]), ds) == pytest.approx(expected, rel=1e-12)
