"""Saving and loading networks: exact round trips, resumed training, and hostile files."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
import sympy as sp

from symcalc import nn
from symcalc.errors import ParseError, SymcalcError
from symcalc.nn._srepr import read_srepr

z = sp.Symbol("z")
MISH = z * sp.tanh(sp.log(1 + sp.exp(z)))


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] - X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)


def _model(seed=0, optimizer="adam"):
    model = nn.Sequential([nn.Dense(6, MISH, input_dim=4), nn.Dense(5, "elu"),
                           nn.Dense(3, "softmax")], seed=seed)
    return model.compile(optimizer, "sparse_categorical_crossentropy", 0.01,
                         metrics=["accuracy"])


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("optimizer", ["adam", "momentum", "sgd"])
def test_save_load_predicts_bit_identically_and_resumes_training(tmp_path, optimizer):
    X, y = _data()
    path = tmp_path / "model.symcalc.npz"
    straight = _model(optimizer=optimizer)
    full = straight.fit(X, y, epochs=6, batch_size=16, verbose=0).history["loss"]

    first = _model(optimizer=optimizer)
    part = first.fit(X, y, epochs=3, batch_size=16, verbose=0).history["loss"]
    first.save(path)
    assert path.exists() and sorted(os.listdir(tmp_path)) == ["model.symcalc.npz"]
    loaded = nn.load_model(path)
    assert np.array_equal(loaded.predict(X), first.predict(X))  # bit for bit
    assert loaded.layers[0].activation.expr == first.layers[0].activation.expr
    assert [layer.activation.name for layer in loaded.layers] == [str(MISH), "elu", "softmax"]
    assert loaded.evaluate(X, y, return_dict=True) == first.evaluate(X, y, return_dict=True)
    rest = loaded.fit(X, y, epochs=6, initial_epoch=3, batch_size=16, verbose=0)
    assert part + rest.history["loss"] == full  # the same losses as one uninterrupted run
    assert rest.epoch == [3, 4, 5]
    for a, b in zip(loaded.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_save_weights_and_load_weights(tmp_path):
    X, y = _data()
    a, b = _model(seed=0), _model(seed=1)
    a.fit(X, y, epochs=2, verbose=0)
    a.save_weights(tmp_path / "w.npz")
    b.load_weights(tmp_path / "w.npz")
    assert np.array_equal(a.predict(X), b.predict(X))
    c = _model(seed=2)
    c.load_weights(tmp_path / "w.npz")
    a.save(tmp_path / "full.npz")  # a full model file holds the weights too
    c.load_weights(tmp_path / "full.npz")
    assert np.array_equal(a.predict(X), c.predict(X))
    small = nn.Sequential([nn.Dense(2, input_dim=4)])
    with pytest.raises(SymcalcError, match="holds weight arrays.*the model needs 2"):
        small.load_weights(tmp_path / "w.npz")


def test_custom_loss_and_callable_metric_round_trip(tmp_path):
    X, _ = _data()
    y = np.sin(X[:, :1])
    yp, yt = sp.symbols("y_pred y_true")

    def max_error(y_true, y_pred):
        return np.abs(y_true - y_pred).max(axis=1)

    model = nn.Sequential([nn.Dense(4, "tanh", input_dim=4), nn.Dense(1)], seed=0)
    model.compile("nesterov", sp.log(sp.cosh(yp - yt)), 0.05, metrics=["mae", max_error])
    model.fit(X, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.npz")
    with pytest.raises(SymcalcError, match=r"custom_objects=\{'max_error': max_error\}"):
        nn.load_model(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz", custom_objects={"max_error": max_error})
    assert loaded.loss.expr == model.loss.expr and loaded.optimizer.momentum == 0.9
    assert loaded.evaluate(X, y) == model.evaluate(X, y)
    bare = nn.load_model(tmp_path / "m.npz", compile=False)
    assert bare.loss is None and np.array_equal(bare.predict(X), model.predict(X))


def test_an_uncompiled_model_saves_its_architecture(tmp_path):
    model = nn.Sequential([nn.Input(shape=(3,)), nn.Dense(2, "relu")], seed=0)
    model.save(tmp_path / "m.npz")
    loaded = nn.load_model(tmp_path / "m.npz")
    assert loaded.loss is None and loaded.count_params() == 8
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


# ------------------------------------------------------------------ hostile files
def _saved_config(tmp_path):
    X, y = _data()
    model = _model()
    model.fit(X, y, epochs=1, verbose=0)
    model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("config"))), arrays


def _write(path, config, arrays):
    members = {"config": np.array(json.dumps(config)), **arrays}
    with open(path, "wb") as f:
        np.savez(f, **members)
    return path


class _Payload:
    """Unpickling this would create the canary file."""

    def __init__(self, canary):
        self.canary = str(canary)

    def __reduce__(self):
        return (open, (self.canary, "w"))


def _hostile_files(tmp_path, canary):
    config, arrays = _saved_config(tmp_path)
    files = {}
    # 1. code in the activation text
    bad = json.loads(json.dumps(config))
    bad["layers"][0]["activation"]["srepr"] = f"__import__('os').system('touch {canary}')"
    files["payload in the activation"] = (_write(tmp_path / "1.npz", bad, arrays),
                                          "only calls of SymPy classes by plain name")
    # 2. a weight of the wrong shape
    wrong = dict(arrays, weight_0=np.zeros((5, 6)))
    files["wrong shape"] = (_write(tmp_path / "2.npz", config, wrong), r"weight_0 has shape")
    # 3. a truncated array: cut the archive's data short
    good = (tmp_path / "good.npz").read_bytes()
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        raw = {n: zf.read(n) for n in zf.namelist()}
    raw["weight_2.npy"] = raw["weight_2.npy"][:-40]
    with zipfile.ZipFile(tmp_path / "3.npz", "w") as zf:
        for name, data in raw.items():
            zf.writestr(name, data)
    files["truncated array"] = (tmp_path / "3.npz", "truncated or corrupt")
    # 4. a huge declared size: a header claiming 10**12 x 10**12 float64 values
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 10**12)})
    raw4 = dict(raw, **{"weight_2.npy": header.getvalue()})
    big = json.loads(json.dumps(config))
    big["layers"][0]["units"] = 10**12
    raw4["config.npy"] = _npy_bytes(np.array(json.dumps(big)))
    with zipfile.ZipFile(tmp_path / "4.npz", "w") as zf:
        for name, data in raw4.items():
            zf.writestr(name, data)
    files["huge declared size"] = (tmp_path / "4.npz", "declares shape")
    # 5. a pickled object array, and a plain pickle instead of an archive
    obj = np.empty(1, dtype=object)
    obj[0] = _Payload(canary)
    raw5 = dict(raw, **{"weight_1.npy": _npy_bytes(obj, allow_pickle=True)})
    with zipfile.ZipFile(tmp_path / "5.npz", "w") as zf:
        for name, data in raw5.items():
            zf.writestr(name, data)
    files["pickled object array"] = (tmp_path / "5.npz", "object and pickled arrays")
    (tmp_path / "6.npz").write_bytes(pickle.dumps(_Payload(canary)))
    files["a pickle file"] = (tmp_path / "6.npz", "not a readable symcalc archive")
    return files


def _npy_bytes(array, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_hostile_model_files_are_refused_and_run_nothing(tmp_path):
    canary = tmp_path / "canary"
    files = _hostile_files(tmp_path, canary)
    assert len(files) == 6
    for what, (path, message) in files.items():
        with pytest.raises(SymcalcError, match=message):
            nn.load_model(path)
        if what == "payload in the activation":
            _model().load_weights(path)  # reads the weights only; the text is never looked at
        else:
            with pytest.raises(SymcalcError):
                _model().load_weights(path)
        assert not canary.exists(), what


def test_damaged_configs_are_refused(tmp_path):
    config, arrays = _saved_config(tmp_path)

    def refused(change, message):
        bad = json.loads(json.dumps(config))
        change(bad)
        with pytest.raises(SymcalcError, match=message):
            nn.load_model(_write(tmp_path / "bad.npz", bad, arrays))

    refused(lambda c: c.update(format="keras"), "not a symcalc Sequential model")
    refused(lambda c: c["layers"][1].update(units=True), "units.*must be int")
    refused(lambda c: c["layers"][1].update(input_dim=7), "does not match the previous")
    refused(lambda c: c["layers"][2]["activation"].update(name="softmax2"), "unknown activation")
    refused(lambda c: c["compile"]["optimizer"].update(name="rmsprop"), "unknown optimizer")
    refused(lambda c: c["compile"]["optimizer"]["hyper"].update(learning_rate=-1.0),
            "learning_rate must be > 0")
    refused(lambda c: c["compile"]["loss"].update(name="hinge"), "unknown loss")
    refused(lambda c: c["compile"]["optimizer"]["state"][0].update(shape=[1, 1]),
            "differs from the weight's")
    refused(lambda c: c["rng"].update(bit_generator="Evil"), "unknown random generator")
    refused(lambda c: c.pop("layers"), "missing field 'layers'")
    with pytest.raises(SymcalcError, match="does not exist"):
        nn.load_model(tmp_path / "missing.npz")
    extra = dict(arrays, **{"weight_9": np.zeros(2)})
    with pytest.raises(SymcalcError, match="holds weight arrays"):
        nn.load_model(_write(tmp_path / "extra.npz", config, extra))


@pytest.mark.parametrize(
    "text, message",
    [
        ("Symbol('z').__class__", "only calls of SymPy classes"),
        ("exp(Symbol('__builtins__'))", "dunder names"),
        ("Symbol('z', commutative=False)", "assumption 'commutative' is not allowed"),
        ("Pow(Integer(9), Integer(99999999))", "too large an exact number"),
        ("Pow(Symbol('z'), Integer(99999999))", "exponents beyond"),
        ("__import__('os').system('ls')", "only calls of SymPy classes by plain name"),
        ("eval('1')", "'eval' is not an allowed SymPy class"),
        ("Pow(Integer(10), Integer(100000))", "too large an exact number"),
        ("Integer(" + "9" * 2000 + ")", "longer than 1000 digits"),
        ("Float('1e9999')", "outside the float64 range"),
        ("Float('1e999999')", "one decimal number"),
        ("exp(" * 300 + "Symbol('z')" + ")" * 300, "nested more than"),
        ("lambda: 0", "only calls of SymPy classes"),
        ("ExprCondPair(Integer(1), true)", "only allowed inside Piecewise"),
        ("gamma(Integer(100000))", "not an allowed SymPy class"),
        ("Add(Symbol('z'))", "at least two arguments"),
        ("x" * 60_000, "characters long"),
    ],
)
def test_srepr_reader_refuses_what_is_not_a_formula(text, message):
    with pytest.raises(ParseError, match=message):
        read_srepr(text)


def test_srepr_reader_reads_back_every_builtin_activation():
    for name, expr in nn.ACTIVATIONS.items():
        assert read_srepr(sp.srepr(expr)) == expr, name
    assert read_srepr(sp.srepr(MISH)) == MISH
    assert read_srepr("Float('0.10000000000000001', precision=53)") == sp.Float(0.1)
