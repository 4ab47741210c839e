"""Keras equivalence: the tutorial's snippet, metrics and History keys, EarlyStopping modes,
evaluate(return_dict=True), verbose output, summary counts, Input/input_shape, weights."""

from __future__ import annotations

import io

import numpy as np
import pytest

from symcalc import nn
from symcalc.errors import DataError, ShapeError, SymcalcError
from symcalc.nn.callbacks import Callback
from symcalc.nn.progress import EpochProgress, resolve_verbose


def _blobs(n=120, seed=0, k=3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n)
    centers = rng.normal(scale=2.0, size=(k, 4))
    return centers[labels] + rng.normal(size=(n, 4)), labels


def _binary(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0).astype(float)


class _Recorder(Callback):
    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


# ------------------------------------------------------------------ the tutorial, verbatim
def test_tutorial_snippet_runs_verbatim(capsys):
    from symcalc.nn import Dense, Sequential

    rng = np.random.default_rng(0)
    X = rng.random((1000, 10))
    y = X @ rng.random(10) + 0.1 * rng.random(1000)

    model = Sequential([
        Dense(64, activation='relu', input_shape=(10,)),
        Dense(1)
    ])
    model.compile(optimizer='sgd', loss='mse')
    history = model.fit(X, y, epochs=10)

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("Epoch 10/10 - 32/32")  # verbose="auto"
    assert model.count_params() == 10 * 64 + 64 + 64 + 1  # 769, as Keras counts
    assert history.history["loss"][-1] < history.history["loss"][0]
    # 769 weights x 8 loss evaluations: a slice of the data keeps it to a second or two
    assert model.gradient_check(X[:100], y[:100]) < 1e-6  # the checks issue's kink-safe check


# ------------------------------------------------------------------ metrics and History
def test_history_keys_are_keras_keys_and_values_are_right():
    X, y = _binary()
    model = nn.Sequential([nn.Dense(8, "tanh", input_shape=(3,)), nn.Dense(1, "sigmoid")],
                          seed=0)
    model.compile("adam", "binary_crossentropy", 0.01, metrics=["accuracy", "auc", "mse"])
    hist = model.fit(X, y, epochs=3, validation_split=0.25, verbose=0)
    assert list(hist.history) == ["accuracy", "auc", "loss", "mse",
                                  "val_accuracy", "val_auc", "val_loss", "val_mse"]
    # validation metrics are computed on the weights after each epoch: recompute the last
    Xv, yv = X[75:], y[75:]
    p = model.predict(Xv).ravel()
    from sklearn.metrics import roc_auc_score

    assert hist.history["val_accuracy"][-1] == pytest.approx(np.mean((p > 0.5) == yv), abs=0)
    assert hist.history["val_auc"][-1] == pytest.approx(roc_auc_score(yv, p), rel=1e-12)
    assert hist.history["val_mse"][-1] == pytest.approx(np.mean((p - yv) ** 2), rel=1e-12)
    got = model.evaluate(Xv, yv, return_dict=True)
    assert list(got) == ["accuracy", "auc", "loss", "mse"]
    assert got["loss"] == pytest.approx(hist.history["val_loss"][-1], rel=1e-12)
    assert model.evaluate(Xv, yv) == [got["loss"], got["accuracy"], got["auc"], got["mse"]]
    assert model.metrics_names == ["loss", "accuracy", "auc", "mse"]


def test_training_metrics_accumulate_over_batches_before_each_update():
    X, y = _binary(n=40)
    model = nn.Sequential([nn.Dense(1, "sigmoid", input_dim=3)], seed=0)
    model.compile("sgd", "binary_crossentropy", 0.5, metrics=["binary_accuracy", "mae"])
    w0 = model.get_weights()
    hist = model.fit(X, y, epochs=1, batch_size=40, shuffle=False, verbose=0)  # one batch
    p = 1 / (1 + np.exp(-(X @ w0[0] + w0[1]))).ravel()
    assert hist.history["binary_accuracy"] == [np.mean((p > 0.5) == y)]
    assert hist.history["mae"][0] == pytest.approx(np.mean(np.abs(p - y)), rel=1e-12)


def test_callable_metric_logged_under_its_name():
    X, labels = _blobs()

    def top2(y_true, y_pred):
        ranks = np.argsort(-y_pred, axis=1)[:, :2]
        return (ranks == y_true.argmax(axis=1)[:, None]).any(axis=1)

    model = nn.Sequential([nn.Dense(3, "softmax", input_dim=4)], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", 0.05,
                  metrics=["accuracy", top2])
    hist = model.fit(X, labels, epochs=2, verbose=0, validation_data=(X, labels))
    assert set(hist.history) == {"accuracy", "loss", "top2", "val_accuracy", "val_loss",
                                 "val_top2"}
    assert all(t >= a for t, a in zip(hist.history["val_top2"], hist.history["val_accuracy"]))
    with pytest.raises(SymcalcError, match=r"cannot tell whether that metric should be"):
        model.fit(X, labels, epochs=1, verbose=0, validation_data=(X, labels),
                  callbacks=[nn.EarlyStopping(monitor="val_top2")])


# ------------------------------------------------------------------ EarlyStopping
class _MetricModel:
    """Stands in for a model with one "accuracy" metric (direction up)."""

    stop_training = False
    metrics = [nn.Metric("accuracy", None, "up"), nn.Metric("mse", None, "down")]

    def get_weights(self):
        return []

    def set_weights(self, w):
        pass


def _stop_epoch(values, monitor="accuracy", **kw):
    cb = nn.EarlyStopping(monitor=monitor, **kw)
    cb.set_model(_MetricModel())
    cb.on_train_begin({"validating": True})
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {monitor: v})
        if cb.model.stop_training:
            return epoch, cb
    return None, cb


def test_early_stopping_mode_auto_follows_keras():
    seq = [0.5, 0.7, 0.6, 0.65, 0.9]
    epoch, cb = _stop_epoch(seq, patience=2)  # accuracy is maximized: 0.7 is the best
    assert (epoch, cb.mode_used, cb.best, cb.best_epoch) == (3, "max", 0.7, 1)
    epoch, cb = _stop_epoch(seq, patience=2, mode="min")
    assert (epoch, cb.best) == (2, 0.5)
    epoch, cb = _stop_epoch(seq, monitor="val_mse", patience=2)  # errors are minimized
    assert (epoch, cb.mode_used) == (2, "min")
    epoch, cb = _stop_epoch([0.5, 0.52, 0.53, 0.9], patience=1, min_delta=0.05)
    assert epoch == 1  # +0.02 is not an improvement by more than min_delta
    epoch, cb = _stop_epoch([0.5, 0.4, 0.3, 0.2, 0.9], patience=1, start_from_epoch=3)
    assert epoch is None and cb.best == 0.9


def test_early_stopping_on_val_accuracy_restores_best_weights():
    X, labels = _blobs(n=90, seed=3)
    Xv, lv = _blobs(n=30, seed=4)
    model = nn.Sequential([nn.Dense(16, "relu", input_dim=4), nn.Dense(3, "softmax")], seed=2)
    model.compile("sgd", "sparse_categorical_crossentropy", 0.02, metrics=["accuracy"])
    rec = _Recorder()
    stop = nn.EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    hist = model.fit(X, labels, epochs=200, batch_size=8, validation_data=(Xv, lv),
                     callbacks=[rec, stop], verbose=0)
    acc = hist.history["val_accuracy"]
    best = int(np.argmax(acc))  # the first epoch reaching the maximum (ties do not improve)
    assert stop.mode_used == "max" and stop.best == acc[best] and stop.best_epoch == best
    assert hist.stopped_epoch == best + 3 == len(acc) - 1
    for w, b in zip(model.get_weights(), rec.weights[best]):
        np.testing.assert_array_equal(w, b)
    assert model.evaluate(Xv, lv, return_dict=True)["accuracy"] == acc[best]


# ------------------------------------------------------------------ verbose and progress
def test_verbose_modes(capsys):
    X, y = _binary(n=64)

    def run(verbose):
        model = nn.Sequential([nn.Dense(1, "sigmoid", input_dim=3)], seed=0)
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
        model.fit(X, y, epochs=3, batch_size=16, validation_split=0.25, verbose=verbose)
        return capsys.readouterr().out.splitlines()

    assert run(0) == []
    two = run(2)
    assert [line.split(" - ")[:2] for line in two] == [[f"Epoch {e}/3", "3/3"] for e in (1, 2, 3)]
    assert all(" - accuracy: " in line and line.endswith(tuple("0123456789")) for line in two)
    assert " - loss: " in two[0] and " - val_accuracy: " in two[0] and " - val_loss: " in two[0]
    auto = run("auto")  # captured output is not interactive: one line per epoch
    assert [line.split(" - ")[0] for line in auto] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    one = run(1)  # not interactive: the finished bar once per epoch
    assert len(one) == 3 and all("━" in line for line in one)
    with pytest.raises(SymcalcError, match="verbose must be 0, 1, 2 or 'auto'; got 3"):
        run(3)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_one_draws_a_tqdm_bar_on_a_terminal():
    stream = _Terminal()
    progress = EpochProgress(1, epochs=2, steps=4, stream=stream)
    assert progress.live
    progress.epoch_begin(0)
    for step in range(4):
        progress.batch_end(0.5 - 0.1 * step)
    progress.epoch_end(0, {"accuracy": 0.75, "loss": 0.2})
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "4/4" in text and "100%" in text
    assert "accuracy: 0.7500 - loss: 0.2000" in text
    assert resolve_verbose(2) == 2 and not EpochProgress(2, 2, 4, stream=stream).live


# ------------------------------------------------------------------ structure
def test_summary_counts_match_keras_and_input_layer():
    model = nn.Sequential([nn.Input(shape=(784,)), nn.Dense(128, "relu"),
                           nn.Dense(10, "softmax")])
    text = model.summary()
    # Keras: 784*128 + 128 = 100480 and 128*10 + 10 = 1290; 101770 parameters in all
    rows = [line.split() for line in text.splitlines() if "(Dense)" in line]
    assert [r[-2] for r in rows] == ["100480", "1290"]
    assert "Total params: 101770 (795.08 KB)" in text
    assert "Trainable params: 101770" in text and "Non-trainable params: 0" in text
    assert "softmax" in text
    assert nn.Dense(3, input_shape=(5,)).input_dim == 5
    assert nn.Dense(3, input_shape=[5], input_dim=5).input_dim == 5


def test_predict_batch_size_gives_the_same_outputs():
    X, _ = _blobs(n=50)
    model = nn.Sequential([nn.Dense(6, "tanh", input_dim=4), nn.Dense(3, "softmax")], seed=0)
    full = model.predict(X)
    np.testing.assert_allclose(model.predict(X, batch_size=7), full, rtol=1e-14, atol=0)
    np.testing.assert_allclose(full.sum(axis=1), 1.0, rtol=1e-14)


# ------------------------------------------------------------------ sample and class weights
def _linear_model(lr=0.05):
    model = nn.Sequential([nn.Dense(1, input_dim=3)], seed=0)
    return model.compile("sgd", "mse", lr)


def test_sample_weight_scales_the_loss_as_keras():
    X, y = _binary(n=30)
    w = np.random.default_rng(5).random(30)
    model = _linear_model()
    pred = model.predict(X).ravel()
    # Keras's "sum_over_batch_size": sum(w_i * l_i) / n, not divided by sum(w)
    want = np.sum(w * (pred - y) ** 2) / 30
    assert model.evaluate(X, y, sample_weight=w) == pytest.approx(want, rel=1e-13)
    # weights of 2 everywhere are SGD with twice the learning rate, bit for bit
    a, b = _linear_model(0.05), _linear_model(0.1)
    ha = a.fit(X, y, epochs=3, batch_size=8, sample_weight=np.full(30, 2.0), seed=1, verbose=0)
    b.fit(X, y, epochs=3, batch_size=8, seed=1, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert ha.history["loss"][0] > 0


def test_class_weight_equals_the_matching_sample_weight():
    X, labels = _blobs(n=60)
    onehot = np.eye(3)[labels]
    cw = {0: 1.0, 1: 3.0, 2: 0.5}

    def run(**kw):
        model = nn.Sequential([nn.Dense(3, "softmax", input_dim=4)], seed=0)
        model.compile("sgd", "categorical_crossentropy", 0.1)
        return model.fit(X, onehot, epochs=2, batch_size=16, seed=0, verbose=0, **kw)

    by_class = run(class_weight=cw)
    by_sample = run(sample_weight=np.array([cw[c] for c in labels]))
    assert by_class.history["loss"] == by_sample.history["loss"]
    assert by_class.history["loss"] != run().history["loss"]


def test_bad_keras_arguments():
    X, y = _binary(n=20)
    model = _linear_model()
    with pytest.raises(SymcalcError, match="class_weight or sample_weight, not both"):
        model.fit(X, y, class_weight={0: 1.0}, sample_weight=np.ones(20), verbose=0)
    with pytest.raises(ShapeError, match=r"sample_weight must have shape \(20,\)"):
        model.fit(X, y, sample_weight=np.ones(19), verbose=0)
    with pytest.raises(DataError, match="sample_weight must be non-negative; found -1"):
        model.fit(X, y, sample_weight=np.r_[np.ones(19), -1.0], verbose=0)
    with pytest.raises(SymcalcError, match="class_weight must map integer class indices"):
        model.fit(X, y, class_weight={"a": 1.0}, verbose=0)
    with pytest.raises(ShapeError, match=r"input_shape must be a 1-tuple \(n_features,\)"):
        nn.Dense(3, input_shape=(28, 28))
    with pytest.raises(ShapeError, match="input_dim=4 and input_shape=.5,. disagree"):
        nn.Dense(3, input_dim=4, input_shape=(5,))
    with pytest.raises(SymcalcError, match="Input may only be the first"):
        nn.Sequential([nn.Dense(3, input_dim=2), nn.Input(shape=(3,))])
    with pytest.raises(ShapeError, match="model's Input has shape"):
        nn.Sequential([nn.Input(shape=(3,)), nn.Dense(2, input_dim=4)])
    with pytest.raises(SymcalcError, match="metrics must be names.*got 'f1'"):
        model.compile("sgd", "mse", metrics=["f1"])
    with pytest.raises(SymcalcError, match="metrics must be a list"):
        model.compile("sgd", "mse", metrics="accuracy")
    with pytest.raises(SymcalcError, match="must be unique"):
        model.compile("sgd", "mse", metrics=["mae", "mae"])
    with pytest.raises(SymcalcError, match="validation_data must be a pair"):
        model.fit(X, y, validation_data=(X,), verbose=0)
    with pytest.raises(SymcalcError, match="initial_epoch must be >= 0"):
        model.fit(X, y, initial_epoch=-1, verbose=0)


def test_gradient_check_warns_for_weights_at_a_relu_kink():
    # every pre-activation is exactly 0: the ReLU's one-sided slopes differ, finite
    # differences never settle, so those weights are reported (warned), not compared
    from symcalc.nn import Dense, Sequential

    model = Sequential([Dense(1, activation="relu", input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    model.set_weights([np.zeros((2, 1)), np.zeros(1)])
    with pytest.warns(UserWarning, match="3 of 3 weights sit at a kink"):
        assert model.gradient_check(np.ones((5, 2)), np.ones(5)) == 0.0
