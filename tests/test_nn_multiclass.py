"""Multiclass networks: softmax, categorical cross-entropy (dense and sparse labels), from_logits,
checked against finite differences, hand formulas and scikit-learn's MLPClassifier."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy as sp

from symcalc import nn
from symcalc.errors import DataError, ShapeError, SymcalcError
from symcalc.nn.rowwise import LOG_SOFTMAX, NORMALIZE, REDUCTIONS, SOFTMAX, X, R

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _data(n=12, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n)
    return rng.normal(size=(n, d)), labels, np.eye(k)[labels]


def _net(out_act, loss, k=3, hidden="tanh", seed=1):
    model = nn.Sequential([nn.Dense(5, hidden, input_dim=4), nn.Dense(k, out_act)], seed=seed)
    return model.compile("sgd", loss)


# ------------------------------------------------------------------ derivations
def test_row_reduction_partials_are_derived_by_sympy():
    # d/dx_1 log(sum exp(x_i)) = exp(x_1)/sum exp(x_i) = exp(x_1 - R); d/dx_1 sum x_i = 1
    assert sp.simplify(REDUCTIONS["logsumexp"].partial - sp.exp(X - R)) == 0
    assert REDUCTIONS["sum"].partial == 1
    assert LOG_SOFTMAX.expr == X - R  # log(exp(x - R)) simplified by SymPy
    loss = nn.CategoricalCrossentropy()
    assert loss.expr_log_p == -sp.Symbol("y_true", real=True) * sp.Symbol("log_p", real=True)


def test_softmax_vjp_equals_its_jacobian():
    rng = np.random.default_rng(0)
    z, g = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    p, cache = SOFTMAX.forward(z)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(1, keepdims=True), rtol=1e-14)
    for i in range(5):
        jac = np.diag(p[i]) - np.outer(p[i], p[i])  # d p_j / d z_k = p_j (delta_jk - p_k)
        np.testing.assert_allclose(SOFTMAX.vjp(cache, g)[i], g[i] @ jac, rtol=1e-12, atol=1e-15)
    q, cache = NORMALIZE.forward(np.abs(z))
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=1e-15)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    "out_act, loss, target, fused",
    [
        ("softmax", "categorical_crossentropy", "onehot", True),
        ("softmax", "sparse_categorical_crossentropy", "labels", True),
        ("linear", nn.CategoricalCrossentropy(from_logits=True), "onehot", False),
        ("linear", nn.SparseCategoricalCrossentropy(from_logits=True), "labels", False),
        ("sigmoid", "categorical_crossentropy", "onehot", False),   # normalized probabilities
        ("softmax", "mse", "onehot", False),                        # softmax's own Jacobian
        ("softmax", nn.CategoricalCrossentropy(from_logits=True), "onehot", False),
    ],
)
def test_gradient_check_every_new_activation_and_loss(out_act, loss, target, fused):
    X, labels, onehot = _data()
    model = _net(out_act, loss)
    assert model._fused == fused
    assert model.gradient_check(X, labels if target == "labels" else onehot) < 1e-6


def test_binary_crossentropy_from_logits_gradient_check():
    X, labels, _ = _data()
    y = (labels > 0).astype(float)
    model = _net("linear", nn.BinaryCrossentropy(from_logits=True), k=1)
    assert model.gradient_check(X, y) < 1e-6
    z = model.predict(X).ravel()
    want = np.mean(np.logaddexp(0, z) - y * z)
    assert model.evaluate(X, y) == pytest.approx(want, rel=1e-13)


def test_softmax_cross_entropy_delta_is_p_minus_y_over_n():
    X, labels, onehot = _data(n=9)
    model = nn.Sequential([nn.Dense(3, "softmax", input_dim=4)], seed=0)
    model.compile("sgd", "categorical_crossentropy")
    W, b = model.get_weights()
    z = X @ W + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d = (p - onehot) / len(X)
    gW, gb = model.gradients(X, onehot)
    np.testing.assert_allclose(gW, X.T @ d, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(gb, d.sum(axis=0), rtol=1e-12, atol=1e-16)
    cce = -np.mean(np.log(p[np.arange(9), labels]))
    assert model.evaluate(X, onehot) == pytest.approx(cce, rel=1e-13)
    sparse = nn.Sequential([nn.Dense(3, "softmax", input_dim=4)], seed=0)
    sparse.compile("sgd", "sparse_categorical_crossentropy")
    assert sparse.evaluate(X, labels) == pytest.approx(cce, rel=1e-13)
    np.testing.assert_array_equal(sparse.gradients(X, labels)[0], gW)


def test_huge_logits_give_finite_loss_and_gradients():
    model = nn.Sequential([nn.Dense(3, "softmax", input_dim=1, use_bias=False)])
    model.compile("sgd", "categorical_crossentropy")
    model.set_weights([np.array([[1e4, -1e4, 0.0]])])
    X, y = np.array([[1.0], [-1.0]]), np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # each sample's true class has logit -1e4 against a maximum of +1e4: loss 2e4
    assert model.evaluate(X, y) == pytest.approx(2e4, rel=1e-15)
    (gW,) = model.gradients(X, y)
    # p is one-hot on the wrong class: (p - y) = (1, -1, 0) and (-1, 1, 0); x^T d / n
    np.testing.assert_allclose(gW, [[1.0, -1.0, 0.0]], rtol=1e-15)
    assert np.isfinite(model.predict(X)).all()
    logits = nn.Sequential([nn.Dense(3, input_dim=1, use_bias=False)])
    logits.compile("sgd", nn.CategoricalCrossentropy(from_logits=True))
    logits.set_weights([np.array([[1e4, -1e4, 0.0]])])
    assert logits.evaluate(X, y) == pytest.approx(2e4, rel=1e-15)
    np.testing.assert_allclose(logits.gradients(X, y)[0], [[1.0, -1.0, 0.0]], rtol=1e-15)


def test_probability_cross_entropy_matches_keras_formula():
    X, labels, onehot = _data(n=8)
    model = _net("sigmoid", "categorical_crossentropy")
    p = model.predict(X)
    q = np.clip(p / p.sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    assert model.evaluate(X, onehot) == pytest.approx(-np.mean((onehot * np.log(q)).sum(1)),
                                                      rel=1e-13)


# ------------------------------------------------------------------ accuracy vs scikit-learn
def _accuracy(model, X, y):
    return float((model.predict(X).argmax(axis=1) == y).mean())


def _compare_with_sklearn(X, y, hidden, epochs, lr, batch):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    ref = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", solver="adam",
                        alpha=0.0, learning_rate_init=lr, batch_size=batch, max_iter=epochs,
                        random_state=0, n_iter_no_change=epochs, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # it runs max_iter epochs, as we do
        ref.fit(Xtr, ytr)
    k = len(np.unique(y))
    model = nn.Sequential([nn.Input(shape=(X.shape[1],)), nn.Dense(hidden, "relu"),
                           nn.Dense(k, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", lr, metrics=["accuracy"])
    hist = model.fit(Xtr, ytr, epochs=epochs, batch_size=batch, verbose=0)
    ours, theirs = _accuracy(model, Xte, yte), float(ref.score(Xte, yte))
    assert hist.history["accuracy"][-1] > hist.history["accuracy"][0]
    return ours, theirs


def test_iris_reaches_sklearn_accuracy():
    X, y = load_iris(return_X_y=True)
    ours, theirs = _compare_with_sklearn(X, y, hidden=16, epochs=200, lr=0.01, batch=16)
    assert theirs > 0.9
    assert ours >= theirs - 0.02, (ours, theirs)


def test_ten_classes_reach_sklearn_accuracy():
    X, y = make_classification(n_samples=2000, n_features=20, n_informative=15, n_redundant=0,
                               n_classes=10, n_clusters_per_class=1, class_sep=2.0,
                               random_state=0)
    ours, theirs = _compare_with_sklearn(X, y, hidden=64, epochs=60, lr=0.003, batch=64)
    assert theirs > 0.7
    assert ours >= theirs - 0.02, (ours, theirs)


# ------------------------------------------------------------------ bad input
def test_bad_multiclass_inputs():
    X, labels, onehot = _data()
    sparse = _net("softmax", "sparse_categorical_crossentropy")
    with pytest.raises(DataError, match=r"integer class labels 0..2.*found 3 at index 0"):
        sparse.fit(X, np.r_[3, labels[1:]], verbose=0)
    with pytest.raises(DataError, match="found 0.5 at index 2"):
        sparse.evaluate(X, np.r_[labels[:2], 0.5, labels[3:]])
    with pytest.raises(ShapeError, match=r"one integer class label per sample.*shape \(12, 3\)"):
        sparse.evaluate(X, onehot)
    dense = _net("softmax", "categorical_crossentropy")
    with pytest.raises(ShapeError, match="sparse_categorical_crossentropy"):
        dense.evaluate(X, labels)
    with pytest.raises(SymcalcError, match="from_logits must be True or False"):
        nn.CategoricalCrossentropy(from_logits="yes")
    with pytest.raises(SymcalcError, match="from_logits applies to the cross-entropy"):
        nn.get_loss("mse", from_logits=True)
    with pytest.raises(SymcalcError, match="'softmax'"):
        nn.Dense(3, activation="softmax2")
