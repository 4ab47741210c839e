"""Tests of symcalc.nn: symbolic activations/losses, backprop gradients, training, callbacks."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc import nn
from symcalc.errors import NonFiniteError, ShapeError, SymbolError, SymcalcError
from symcalc.nn.callbacks import Callback

BUILTIN = ["linear", "relu", "tanh", "sigmoid", "softplus", "elu", "swish"]
z = sp.Symbol("z")
MISH = z * sp.tanh(sp.log(1 + sp.exp(z)))


def _data(n=6, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k))


def _net(act, out_act=None, loss="mse", k=2, seed=0, optimizer="sgd"):
    model = nn.Sequential([nn.Dense(4, activation=act, input_dim=3),
                           nn.Dense(k, activation=out_act if out_act is not None else act)],
                          seed=seed)
    return model.compile(optimizer=optimizer, loss=loss, learning_rate=0.1)


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", BUILTIN)
def test_compiled_activation_matches_sympy_subs(name):
    act = nn.get_activation(name)
    pts = np.array([-2.3, -0.7, 0.4, 1.9])
    value, deriv = act.value_and_derivative(pts)
    sym = act.symbol
    for p, v, d in zip(pts, value, deriv):
        assert v == pytest.approx(float(act.expr.subs(sym, p).evalf()), rel=1e-13, abs=1e-15)
        assert d == pytest.approx(float(sp.diff(act.expr, sym).subs(sym, p).evalf()), rel=1e-12)
    np.testing.assert_allclose(act(pts), value, rtol=0, atol=0)


def test_relu_derivative_is_heaviside_zero_at_zero():
    act = nn.get_activation("relu")
    assert act.derivative == sp.Heaviside(act.symbol, 0)
    np.testing.assert_array_equal(act.value_and_derivative([-1.0, 0.0, 2.0])[1], [0.0, 0.0, 1.0])


def test_elu_and_sigmoid_stable_for_large_inputs():
    for name in ("elu", "sigmoid", "softplus", "swish"):
        a, da = nn.get_activation(name).value_and_derivative([-800.0, 800.0])
        assert np.isfinite(a).all() and np.isfinite(da).all()
    np.testing.assert_allclose(nn.get_activation("elu")([-800.0, 3.0]), [-1.0, 3.0])


@pytest.mark.parametrize("name", BUILTIN)
def test_gradient_check_builtin_activations(name):
    X, y = _data()
    model = _net(name)
    if name == "relu":  # pick initial weights whose pre-activations stay away from the kink
        model = next(m for m in (_net(name, seed=s) for s in range(100)) if _away_from_kink(m, X))
    assert model.gradient_check(X, y) < 1e-6


def _away_from_kink(model, X, margin=0.05):
    a, pre = X, []
    for layer in model.layers:
        zl = a @ layer.W + layer.b
        pre.append(zl)
        a = np.maximum(zl, 0)
    both_signs = all((zl > 0).any() and (zl < 0).any() for zl in pre)
    return both_signs and min(np.abs(zl).min() for zl in pre) > margin


def test_gradient_check_custom_activation():
    X, y = _data()
    model = _net(MISH)
    assert model.layers[0].activation.name == str(MISH)
    assert model.gradient_check(X, y) < 1e-6


@pytest.mark.parametrize(
    "loss, out_act, target",
    [
        ("mse", "linear", "normal"),
        ("mae", "linear", "normal"),
        ("binary_crossentropy", "sigmoid", "binary"),            # combined form on logits
        ("binary_crossentropy", (sp.tanh(z) + 1) / 2, "binary"),  # generic path
        (sp.log(sp.cosh(sp.Symbol("y_pred") - sp.Symbol("y_true"))), "tanh", "normal"),
    ],
)
def test_gradient_check_every_loss(loss, out_act, target):
    X, y = _data()
    if target == "binary":
        y = (y > 0).astype(float)
    model = _net("tanh", out_act=out_act, loss=loss)
    assert model._fused == (out_act == "sigmoid")
    assert model.gradient_check(X, y) < 1e-6


# ------------------------------------------------------------------ hand-derived gradients
def test_one_hidden_layer_gradients_equal_hand_formulas():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    model = nn.Sequential([nn.Dense(5, "tanh", input_dim=3), nn.Dense(2)], seed=1)
    model.compile("sgd", "mse")
    W1, b1, W2, b2 = model.get_weights()
    # forward
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    # L = mean over 7*2 elements of (out - Y)^2
    d_out = 2.0 * (out - Y) / out.size
    dW2, db2 = h.T @ d_out, d_out.sum(axis=0)
    d_h = (d_out @ W2.T) * (1.0 - h**2)
    dW1, db1 = X.T @ d_h, d_h.sum(axis=0)
    grads = model.gradients(X, Y)
    assert [g.shape for g in grads] == [w.shape for w in model.get_weights()]
    for got, want in zip(grads, [dW1, db1, dW2, db2]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert model.evaluate(X, Y) == pytest.approx(np.mean((out - Y) ** 2), rel=1e-13)


def test_sigmoid_cross_entropy_gradient_is_p_minus_y():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(9, 2)), (rng.random(9) > 0.5).astype(float)
    model = nn.Sequential([nn.Dense(1, "sigmoid", input_dim=2)], seed=0)
    model.compile("sgd", "binary_crossentropy")
    W, b = model.get_weights()
    p = 1 / (1 + np.exp(-(X @ W + b)))
    d = (p - y[:, None]) / len(X)
    gW, gb = model.gradients(X, y)
    np.testing.assert_allclose(gW, X.T @ d, rtol=1e-12)
    np.testing.assert_allclose(gb, d.sum(axis=0), rtol=1e-12)
    bce = -np.mean(y[:, None] * np.log(p) + (1 - y[:, None]) * np.log(1 - p))
    assert model.evaluate(X, y) == pytest.approx(bce, rel=1e-12)


def test_stable_cross_entropy_on_saturated_logits():
    model = nn.Sequential([nn.Dense(1, "sigmoid", input_dim=1)])
    model.compile("sgd", "binary_crossentropy")
    model.set_weights([np.array([[1000.0]]), np.array([0.0])])
    X, y = np.array([[1.0], [-1.0]]), np.array([0.0, 1.0])
    assert model.evaluate(X, y) == pytest.approx(1000.0)  # log(1 + e^1000) - 0, no inf
    gW, gb = model.gradients(X, y)
    np.testing.assert_allclose(gW, [[1.0]])  # ((1-0)*1 + (0-1)*(-1)) / 2
    np.testing.assert_allclose(gb, [0.0])


# ------------------------------------------------------------------ training
def test_xor_reaches_full_accuracy():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0], dtype=float)
    model = nn.Sequential([nn.Dense(8, "tanh", input_dim=2), nn.Dense(1, "sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05)
    model.fit(X, y, epochs=400, batch_size=4, seed=0)
    assert ((model.predict(X).ravel() > 0.5) == (y > 0.5)).all()


def test_sin_regression():
    X = np.linspace(-np.pi, np.pi, 256).reshape(-1, 1)
    y = np.sin(X).ravel()
    model = nn.Sequential([nn.Dense(32, "tanh", input_dim=1), nn.Dense(1)], seed=0)
    model.compile(optimizer="adam", loss="mse", learning_rate=0.01)
    hist = model.fit(X, y, epochs=300, batch_size=32, seed=0)
    mse = float(np.mean((model.predict(X).ravel() - y) ** 2))
    assert mse < 0.01
    assert model.evaluate(X, y) == pytest.approx(mse, rel=1e-12)
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 10


def _fitted(seed, fit_seed):
    X, y = _data(n=40, seed=5)
    model = _net("tanh", out_act="linear", seed=seed, optimizer="momentum")
    hist = model.fit(X, y, epochs=5, batch_size=8, seed=fit_seed)
    return model.get_weights(), hist.history["loss"]


def test_reproducible_with_seed():
    w1, h1 = _fitted(0, 1)
    w2, h2 = _fitted(0, 1)
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    _, h3 = _fitted(0, 2)  # another shuffle order
    assert h3 != h1


def test_validation_split_uses_last_fraction_before_shuffling():
    X, y = _data(n=50, seed=6)
    a = _net("tanh", "linear", seed=0)
    ha = a.fit(X, y, epochs=3, batch_size=8, validation_split=0.2, seed=3)
    b = _net("tanh", "linear", seed=0)
    hb = b.fit(X[:40], y[:40], epochs=3, batch_size=8, validation_data=(X[40:], y[40:]), seed=3)
    assert ha.params["samples"] == 40
    assert ha.history["val_loss"] == hb.history["val_loss"]
    assert ha.history["loss"] == hb.history["loss"]
    assert ha.history["val_loss"][-1] == pytest.approx(a.evaluate(X[40:], y[40:]), rel=1e-12)


def test_validation_split_rounds_like_keras():
    X, y = _data(n=10, seed=7)
    hist = _net("tanh", "linear").fit(X, y, validation_split=0.25)
    assert hist.params["samples"] == 8  # ceil(10 * 0.75) training samples, last 2 validate


class _Recorder(Callback):
    def __init__(self, stop_at=None):
        self.weights, self.stop_at = [], stop_at

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        if epoch == self.stop_at:
            raise KeyboardInterrupt


def _diverging_validation():
    """Training fits y = x; validation wants y = -x: val_loss rises as training proceeds."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(64, 1))
    model = nn.Sequential([nn.Dense(1, input_dim=1)], seed=0).compile("sgd", "mse", 0.1)
    return model, X, X.ravel(), (X, -X.ravel())


def test_early_stopping_patience_and_restore_best_weights():
    model, X, y, val = _diverging_validation()
    rec = _Recorder()
    stop = nn.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(X, y, epochs=20, batch_size=16, validation_data=val,
                     callbacks=[rec, stop], shuffle=False)
    vl = hist.history["val_loss"]
    best = int(np.argmin(vl))
    assert best == 0 and len(vl) == best + 3  # stopped after `patience` epochs without gain
    assert hist.stopped_epoch == stop.stopped_epoch == 2
    for w, b in zip(model.get_weights(), rec.weights[best]):
        np.testing.assert_array_equal(w, b)
    assert not np.allclose(rec.weights[-1][0], rec.weights[best][0])


def test_restore_best_weights_also_when_training_runs_to_the_end():
    model, X, y, val = _diverging_validation()
    rec = _Recorder()
    stop = nn.EarlyStopping(monitor="val_loss", patience=50, restore_best_weights=True)
    hist = model.fit(X, y, epochs=4, batch_size=16, validation_data=val, callbacks=[rec, stop])
    assert len(hist.epoch) == 4 and hist.stopped_epoch is None
    best = int(np.argmin(hist.history["val_loss"]))
    for w, b in zip(model.get_weights(), rec.weights[best]):
        np.testing.assert_array_equal(w, b)


class _FakeModel:
    stop_training = False

    def get_weights(self):
        return []

    def set_weights(self, w):
        pass


def _stop_epoch(values, **kw):
    cb = nn.EarlyStopping(monitor="loss", **kw)
    cb.set_model(_FakeModel())
    cb.on_train_begin({})
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {"loss": v})
        if cb.model.stop_training:
            return epoch
    return None


def test_early_stopping_rule_matches_keras():
    seq = [1.0, 0.9, 0.95, 0.92, 0.91, 0.5]
    assert _stop_epoch(seq, patience=3) == 4   # epochs 2, 3, 4 did not beat 0.9
    assert _stop_epoch(seq, patience=2) == 3
    assert _stop_epoch(seq, patience=0) == 2   # first epoch without improvement
    assert _stop_epoch(seq, patience=4) is None
    # min_delta: 0.97 and 0.96 are not better than 1.0 by more than 0.05; 0.94 is
    assert _stop_epoch([1.0, 0.97, 0.96, 0.94, 0.93, 0.92], patience=3, min_delta=0.05) is None
    assert _stop_epoch([1.0, 0.97, 0.96, 0.94, 0.93, 0.92], patience=2, min_delta=0.05) == 2
    assert _stop_epoch([1.0, 1.0, 1.0], patience=2) == 2  # equal is not an improvement


def test_keyboard_interrupt_keeps_weights_so_far():
    X, y = _data(n=20, seed=9)
    model = _net("tanh", "linear")
    rec = _Recorder(stop_at=2)
    hist = model.fit(X, y, epochs=10, batch_size=5, callbacks=[rec])
    assert hist.interrupted and hist.params["interrupted"]
    assert len(hist.history["loss"]) == 3
    for w, b in zip(model.get_weights(), rec.weights[-1]):
        np.testing.assert_array_equal(w, b)


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = _data(n=12, seed=10)
    _net("tanh", "linear").fit(X, y, epochs=3, validation_split=0.25, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3") and "val_loss" in lines[2]


def test_optimizer_state_one_key_per_weight_array():
    X, y = _data(n=10)
    model = _net("tanh", optimizer="adam")
    model.fit(X, y, epochs=1, batch_size=5)
    assert sorted(model.optimizer.state) == [0, 1, 2, 3]
    assert [model.optimizer.state[k]["shape"] for k in range(4)] == [(3, 4), (4,), (4, 2), (2,)]


# ------------------------------------------------------------------ structure and display
def test_summary_param_counts(capsys):
    model = nn.Sequential([nn.Dense(8, activation="tanh", input_dim=2), nn.Dense(1),
                           nn.Dense(3, use_bias=False)])
    text = model.summary()
    assert capsys.readouterr().out.strip() == text.strip()
    rows = [line.split() for line in text.splitlines() if "(Dense)" in line]
    assert [r[-2] for r in rows] == ["24", "9", "3"]
    assert model.count_params() == 36 and "Total params: 36" in text
    assert "(None, 8)" in text and "tanh" in text


def test_get_set_weights_keras_order():
    model = nn.Sequential([nn.Dense(3, input_dim=2), nn.Dense(1)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(2, 3), (3,), (3, 1), (1,)]
    new = [np.full(s, float(i)) for i, s in enumerate(shapes)]
    model.set_weights(new)
    X = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(model.predict(X), [[(0 * 3 + 1) * 3 * 2 + 3]])


def test_initializers_and_layer_seed():
    a = nn.Dense(4, input_dim=3, seed=5, kernel_initializer="he_normal")
    b = nn.Dense(4, input_dim=3, seed=5, kernel_initializer="he_normal")
    a.build(3), b.build(3)
    np.testing.assert_array_equal(a.W, b.W)
    z0 = nn.Dense(4, kernel_initializer="zeros")
    z0.build(3)
    assert not z0.W.any()
    g = nn.Dense(200, seed=0)
    g.build(300)
    limit = np.sqrt(6 / 500)
    assert np.abs(g.W).max() <= limit and np.abs(g.W).max() > 0.99 * limit


def test_backprop_equations_show_activation_derivatives():
    model = nn.Sequential([nn.Dense(4, "tanh", input_dim=2), nn.Dense(3, "relu"), nn.Dense(1)])
    model.compile("sgd", "mse")
    eq = model.backprop_equations()
    text = str(eq)
    assert r"1 - \tanh^{2}{\left(z^{(1)} \right)}" in text
    assert r"\theta\left(z^{(2)}, 0\right)" in text
    assert r"\delta^{(3)}" in text and r"a^{(2)\top} \delta^{(3)}" in text
    assert eq._repr_latex_().startswith("$$") and len(eq.layers) == 3


# ------------------------------------------------------------------ bad input
def test_bad_inputs():
    X, y = _data()
    model = _net("tanh")
    with pytest.raises(ShapeError, match="same number of samples; got 6 and 5"):
        model.fit(X, y[:5])
    with pytest.raises(ShapeError, match="expects input_dim=3"):
        model.fit(X[:, :2], y)
    with pytest.raises(ShapeError, match=r"reshape\(-1, 1\)"):
        model.predict(X[:, 0])
    with pytest.raises(ShapeError, match=r"shape \(n_samples, 2\)"):
        model.fit(X, y[:, 0])
    Xn = X.copy()
    Xn[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="X contains nan"):
        model.fit(Xn, y)
    with pytest.raises(SymcalcError, match="'relu'.*'swish'.*got 'rectifier'"):
        nn.Dense(3, activation="rectifier")
    with pytest.raises(SymbolError, match="exactly one free symbol.*found 2: a, z"):
        nn.Dense(3, activation=z * sp.Symbol("a"))
    with pytest.raises(SymbolError, match="found 0"):
        nn.Dense(3, activation=sp.Integer(2))
    with pytest.raises(SymcalcError, match="loss must be one of 'mse', 'mae'.*got 'hinge'"):
        model.compile("sgd", "hinge")
    with pytest.raises(SymbolError, match="y_pred and y_true"):
        model.compile("sgd", (sp.Symbol("p") - sp.Symbol("y_true")) ** 2)
    with pytest.raises(SymcalcError, match="optimizer must be one of"):
        model.compile("rmsprop", "mse")
    with pytest.raises(SymcalcError, match="learning_rate applies to optimizer names"):
        model.compile(sc.Adam(0.1), "mse", learning_rate=0.5)
    fresh = nn.Sequential([nn.Dense(2, input_dim=3)])
    with pytest.raises(SymcalcError, match="before fit"):
        fresh.fit(X, y)
    with pytest.raises(SymcalcError, match="not built"):
        nn.Sequential([nn.Dense(2)]).summary()
    with pytest.raises(ShapeError, match=r"weights\[1\].*shape \(4,\)"):
        model.set_weights([np.zeros((3, 4)), np.zeros(5), np.zeros((4, 2)), np.zeros(2)])
    with pytest.raises(ShapeError, match="list of 4 arrays; got 2"):
        model.set_weights([np.zeros((3, 4)), np.zeros(4)])
    with pytest.raises(SymcalcError, match=r"validation_split must be a number in \[0, 1\)"):
        model.fit(X, y, validation_split=1.5)
    with pytest.raises(SymcalcError, match="needs validation"):
        model.fit(X, y, callbacks=[nn.EarlyStopping()])
    with pytest.raises(SymcalcError, match="kernel_initializer must be one of"):
        nn.Dense(2, kernel_initializer="orthogonal")
    with pytest.raises(SymcalcError, match="units must be >= 1"):
        nn.Dense(0)
    with pytest.raises(SymcalcError, match="layers must be Dense"):
        nn.Sequential(["dense"])
    with pytest.raises(SymcalcError, match="batch_size must be >= 1"):
        model.fit(X, y, batch_size=0)
    with pytest.raises(SymcalcError, match=r"monitor='accuracy'\) is not among the logged keys"):
        model.fit(X, y, callbacks=[nn.EarlyStopping(monitor="accuracy")])
    with pytest.raises(SymcalcError, match="mode must be one of"):
        nn.EarlyStopping(mode="maximize")
    with pytest.raises(ShapeError, match="validation X has 2 feature"):
        model.fit(X, y, validation_data=(X[:, :2], y))


def test_inner_input_dim_conflict():
    model = nn.Sequential([nn.Dense(4, input_dim=3), nn.Dense(2, input_dim=5)])
    with pytest.raises(ShapeError, match="expects input_dim=5 but receives 4"):
        model.compile("sgd", "mse")


def test_divergence_stops_with_a_warning_not_a_runtime_warning():
    rng = np.random.default_rng(11)
    X, y = rng.normal(size=(64, 3)) * 10, rng.normal(size=64)
    model = nn.Sequential([nn.Dense(16, "relu", input_dim=3), nn.Dense(1)], seed=0)
    model.compile("sgd", "mse", learning_rate=1e3)
    with pytest.warns(UserWarning, match="training loss became nan in epoch 0"):
        hist = model.fit(X, y, epochs=30, batch_size=8)
    assert len(hist.epoch) == 1 and hist.stopped_epoch == 0
