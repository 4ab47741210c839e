"""CLI faults: bad files, malformed CSV, bad flags -> exit 2 and one stderr line; accurate
``--help``; plus the long-run promises (interrupts and callbacks lose nothing)."""

from __future__ import annotations

import argparse
import re

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc import nn
from symcalc.cli import COMMANDS, build_parser, main

GOOD_FIT = "x,y\n1,3\n2,5\n3,7\n4,9\n"
GOOD_AUC = "label,score\n0,0.1\n1,0.9\n0,0.3\n1,0.8\n0,0.35\n1,0.4\n"


def _run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _fails_cleanly(capsys, argv, match):
    code, _, err = _run(capsys, argv)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("symcalc"), err
    assert "Traceback" not in err
    assert re.search(match, err), err


@pytest.fixture
def files(tmp_path):
    """Name -> path of good and broken CSV files."""
    contents = {
        "good.csv": GOOD_FIT.encode(),
        "auc.csv": GOOD_AUC.encode(),
        "bom.csv": ("\ufeff" + GOOD_FIT).encode("utf-8"),
        "ragged.csv": b"x,y\n1,3\n2\n",
        "empty.csv": b"",
        "blank.csv": b"\n\n  \n",
        "header.csv": b"x,y\n",
        "quoted.csv": b'x,y\n"1,3\n2,5\n',
        "nonnum.csv": b"x,y\n1,3\n2,five\n",
        "nan.csv": b"x,y\n1,3\n2,nan\n",
        "inf.csv": b"x,y\n1,3\n2,1e999\n",
        "binary.csv": b"\xff\xfe\x00\x01x,y\n\x80\x81\n",
        "latin1.csv": "x,y\n1,3\n2,caf\u00e9\n".encode("latin-1"),
        "nul.csv": b"x,y\n1,\x003\n",
        "auc_labels.csv": b"label,score\nyes,0.1\nno,0.9\n",
        "auc_3class.csv": b"label,score\n0,0.1\n1,0.9\n2,0.4\n",
        "auc_nonnum.csv": b"label,score\n0,0.1\n1,high\n",
    }
    out = {}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
        out[name] = str(tmp_path / name)
    out["dir"] = str(tmp_path)
    out["missing"] = str(tmp_path / "missing.csv")
    return out


def _fit(path, *extra):
    return ["fit", "(w*x + b - y)^2", "--params", "w,b", "--data", path, "--epochs", "3", *extra]


@pytest.mark.parametrize(
    "name, match",
    [
        ("missing", "file not found"),
        ("dir", "is a directory, not a CSV file"),
        ("empty.csv", "is empty; expected a header row"),
        ("blank.csv", "is empty; expected a header row"),
        ("header.csv", "has a header but no data rows"),
        ("ragged.csv", "line 3 has 1 cells; column 'y' is missing"),
        ("quoted.csv", "line 2, column 'x': '1,3\\\\n2,5' is not a number"),
        ("nonnum.csv", "line 3, column 'y': 'five' is not a number"),
        ("nan.csv", r"data\['y'\] contains nan at row 1"),
        ("inf.csv", r"data\['y'\] contains inf at row 1"),
        ("binary.csv", "cannot read .*binary.csv: 'utf-8' codec can't decode"),
        ("latin1.csv", "cannot read .*latin1.csv"),
        ("nul.csv", "not a number|cannot read"),
    ],
)
def test_fit_bad_files(capsys, files, name, match):
    _fails_cleanly(capsys, _fit(files[name]), match)


def test_fit_reads_a_bom_file(capsys, files):
    code, out, err = _run(capsys, _fit(files["bom.csv"], "--method", "newton"))
    assert code == 0 and not err
    assert re.search(r"w = 2(\.0+)?\n\s*b = 1", out), out


def test_device_files_are_refused(capsys):
    _fails_cleanly(capsys, _fit("/dev/zero"), "is not a regular file")  # used to hang
    _fails_cleanly(capsys, _fit("/dev/null"), "is not a regular file")


@pytest.mark.parametrize("path", ["a\x00b.csv", "x" * 5000])
def test_impossible_file_names(capsys, path):
    _fails_cleanly(capsys, _fit(path), "file not found|cannot use .* as a file name")


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--lr", "-1"], "learning_rate must be > 0; got -1"),
        (["--lr", "abc"], "--lr must be comma-separated numbers; got 'abc'"),
        (["--lr", "nan"], "learning_rate must be finite"),
        (["--epochs", "0"], "epochs must be >= 1; got 0"),
        (["--epochs", "abc"], "argument --epochs: invalid int value: 'abc'"),
        (["--epochs", "-5", "--method", "BFGS"], "maxiter must be >= 1; got -5"),
        (["--tol", "-1"], "tol must be >= 0"),
        (["--tol", "x"], "argument --tol: invalid float value"),
        (["--batch-size", "0"], "batch_size must be >= 1"),
        (["--batch-size", "99"], "batch_size must be at most the number of data rows"),
        (["--seed", "-1", "--batch-size", "2"], "seed must be non-negative"),
        (["--x0", "1"], r"x0 has length 1; expected 2"),
        (["--x0", "1,nan"], "x0 contains nan"),
        (["--x0", "a,b"], "--x0 must be comma-separated numbers"),
        (["--method", "foo"], "method must be one of"),
        (["--method", "adam", "--lr", "auto"], "learning_rate='auto' picks 1/L"),
        (["--nosuch"], "unrecognized arguments: --nosuch"),
        (["--dir", "x"], "unrecognized arguments: --dir x"),
    ],
)
def test_fit_bad_flags(capsys, files, extra, match):
    _fails_cleanly(capsys, _fit(files["good.csv"], *extra), match)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["fit", "(w*x - y)^2", "--params", "w"], r"data symbol\(s\) \['x', 'y'\]; pass --data"),
        (["fit", "(w*x - y)^2", "--params", ","], "--params must name at least one parameter"),
        (["fit", "(w*x - y)^2", "--params", "w,w", "--data", "@"], "more than once|not found"),
        (["fit", "(w*z - y)^2", "--params", "w", "--data", "@"], r"has no column 'z'"),
        (["fit", "__import__('os')", "--params", "w"], "dunder names"),
    ],
)
def test_fit_bad_formula_and_params(capsys, files, argv, match):
    _fails_cleanly(capsys, [files["good.csv"] if a == "@" else a for a in argv], match)


def test_fit_undefined_start_is_a_result_not_a_crash(capsys):
    code, out, err = _run(capsys, ["fit", "log(w)", "--params", "w", "--x0", "-1"])
    assert code == 0 and not err
    assert "not converged" in out and "not finite at the starting point" in out


@pytest.mark.parametrize(
    "name, extra, match",
    [
        ("missing", [], "file not found"),
        ("dir", [], "is a directory"),
        ("binary.csv", [], "cannot read"),
        ("good.csv", [], r"has no column 'label', 'score'; columns are \['x', 'y'\]"),
        ("auc.csv", ["--ci", "--level", "2"], r"level must be in \(0, 1\)"),
        ("auc.csv", ["--ci", "--level", "abc"], "argument --level: invalid float value"),
        ("auc.csv", ["--ci", "--method", "jackknife"], "argument --method: invalid choice"),
        ("auc.csv", ["--pos-label", "7"], "pos_label=7.0 is not one of the labels"),
        ("auc.csv", ["--plot", "out.unknownext"], "--plot 'out.unknownext': Format"),
        ("auc.csv", ["--plot", "/nonexistent/dir/x.png"], "No such file or directory"),
        ("auc_3class.csv", [], "binary labels"),
        ("auc_nonnum.csv", [], "line 3, column 'score': 'high' is not a number"),
    ],
)
def test_auc_bad_input(capsys, files, name, extra, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fails_cleanly(capsys, ["auc", files[name], "--label", "label", "--score", "score", *extra],
                   match)


def test_auc_string_labels(capsys, files):
    code, out, _ = _run(capsys, ["auc", files["auc_labels.csv"], "--label", "label",
                                 "--score", "score", "--pos-label", "no"])
    assert code == 0 and out.startswith("AUC = 1.000000")


@pytest.mark.parametrize(
    "argv, match",
    [
        (["limit", "sin(x)/x", "x", "0", "--timeout", "abc"], "invalid float value: 'abc'"),
        (["limit", "sin(x)/x", "x", "0", "--timeout", "-1"], "timeout must be > 0"),
        (["limit", "sin(x)/x", "x", "0", "--timeout", "nan"], "timeout must be finite"),
        (["limit", "sin(x)/x", "x", "0", "--dir", "x"], "argument --dir: invalid choice"),
        (["limit", "sin(x)/x", "x", "y"], "point must be a number; got y"),
        (["limit", "sin(x)/x", "__x", "0"], "var must be a symbol name"),
        (["limit", "sin(x)/x", "x"], "the following arguments are required: point"),
        (["integrate", "x", "x", "0", "1", "--timeout", "abc"], "invalid float value: 'abc'"),
        (["integrate", "x", "x", "0", "1", "--timeout", "0"], "timeout must be > 0"),
        (["integrate", "1/0 + x", "x", "0", "1"], "division by zero"),
        (["integrate", "x", "x", "0", "y"], "upper bound b must be a number"),
        (["diff", "x^2"], "the following arguments are required: --wrt"),
        (["diff", "x^2", "--wrt", "1x"], "--wrt must be a symbol name"),
        (["diff", "", "--wrt", "x"], "empty|formula"),
        (["demo", "--out", "/dev/null/sub"], "Not a directory"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        ([], "a COMMAND is required"),
    ],
)
def test_other_commands_bad_input(capsys, argv, match):
    _fails_cleanly(capsys, argv, match)


def test_negative_points_and_bounds_are_positionals(capsys):
    code, out, _ = _run(capsys, ["limit", "exp(x)", "x", "-oo", "--timeout", "2"])
    assert code == 0 and "symbolic: 0" in out
    code, out, _ = _run(capsys, ["integrate", "exp(x)", "x", "-oo", "0", "--timeout", "2"])
    assert code == 0 and "exact:   1" in out


def test_help_and_version_return_zero_in_process(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"symcalc {sc.__version__}"
    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: symcalc {name}")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


@pytest.mark.parametrize("name", COMMANDS)
def test_help_is_accurate(name):
    """Every argument has help text, shows up in --help, and every --flag the help text
    mentions exists."""
    p = _subparsers()[name]
    text = p.format_help()
    flags = set()
    for action in p._actions:
        flags.update(action.option_strings)
        assert action.help, f"{name}: argument {action.dest} has no help text"
        shown = action.option_strings[-1] if action.option_strings else action.metavar or action.dest
        assert shown in text, f"{name}: {shown} missing from --help"
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))
    assert mentioned <= flags, f"{name} --help mentions unknown flags {mentioned - flags}"
    assert p.description, f"{name} has no description"


def test_top_level_help_lists_every_command():
    text = build_parser().format_help()
    for name in COMMANDS:
        assert name in text
    for name, p in _subparsers().items():
        sub = next(a for a in build_parser()._actions if a.dest == "command")
        assert any(c.dest == name and c.help for c in sub._choices_actions), name


# --------------------------------------------------------------------------------------------
# long runs lose nothing
# --------------------------------------------------------------------------------------------
def _line_problem():
    w, b, x, y = sp.symbols("w b x y")
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    rng = np.random.default_rng(0)
    xs = rng.normal(size=64)
    return loss, {x: xs, y: 2 * xs + 1 + 0.1 * rng.normal(size=64)}


@pytest.mark.parametrize("method", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_interrupted_descent_keeps_the_best_iterate(method, batch_size):
    loss, data = _line_problem()

    def cb(epoch, x, value):
        if epoch == 7:
            raise KeyboardInterrupt

    res = sc.gradient_descent(loss, data, learning_rate=0.05, epochs=100, method=method,
                              batch_size=batch_size, callback=cb, seed=0)
    assert res.status == "interrupted" and not res.converged
    assert "interrupted" in res.message
    i = int(np.argmin(res.history["loss"]))
    np.testing.assert_array_equal(res.x, res.history["x"][i])
    assert res.fun == min(res.history["loss"]) and len(res.history["loss"]) == 8


def test_interrupt_inside_the_compiled_call(monkeypatch):
    """Ctrl-C can land anywhere, e.g. inside evaluate: the best finished epoch is kept."""
    loss, data = _line_problem()
    f = loss.compile()
    original, calls = f.evaluate, []

    def flaky(theta, prepared=None, *, order=1):
        calls.append(order)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return original(theta, prepared, order=order)

    monkeypatch.setattr(f, "evaluate", flaky)
    res = sc.gradient_descent(loss, data, learning_rate=0.05, epochs=100)
    assert res.status == "interrupted" and len(res.history["loss"]) == 5
    assert res.fun == min(res.history["loss"])


def test_callback_returning_true_stops_cleanly():
    loss, data = _line_problem()
    res = sc.gradient_descent(loss, data, learning_rate=0.05, epochs=100,
                              callback=lambda k, x, value: k == 4)
    assert res.status == "callback" and not res.converged and res.nit == 4
    assert res.message == "Stopped by the callback at epoch 4."
    np.testing.assert_array_equal(res.x, res.history["x"][-1])


def _xor_model():
    model = nn.Sequential([nn.Dense(6, activation="tanh", input_dim=2, seed=0),
                           nn.Dense(1, activation="sigmoid", seed=1)])
    model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05)
    return model


class _InterruptAt(nn.Callback):
    """Records the weights after each epoch; raises KeyboardInterrupt in a later batch."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.weights = epoch, []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            original = self.model._loss_and_grads
            calls = []

            def flaky(xb, yb, *weights):  # interrupt in the middle of the epoch, after one step
                calls.append(1)
                if len(calls) == 2:
                    raise KeyboardInterrupt
                return original(xb, yb, *weights)

            self.model._loss_and_grads = flaky


def test_interrupted_fit_keeps_the_best_epoch_weights():
    X, Y = sc.datasets.make_xor(64, noise=0.1, seed=0)
    model = _xor_model()
    rec = _InterruptAt(epoch=5)
    hist = model.fit(X, Y, epochs=50, batch_size=16, callbacks=[rec], shuffle=False)
    del model._loss_and_grads
    assert hist.interrupted and not hist.converged and "interrupted" in hist.message
    assert len(hist.history["loss"]) == 5
    best = int(np.argmin(hist.history["loss"]))
    for now, then in zip(model.get_weights(), rec.weights[best]):
        np.testing.assert_array_equal(now, then)  # not the half-finished epoch 5
    more = model.fit(X, Y, epochs=2, batch_size=16)  # training can simply continue
    assert not more.interrupted and np.isfinite(more.history["loss"]).all()


def test_early_stopping_counts_as_converged():
    X, Y = sc.datasets.make_xor(64, noise=0.1, seed=0)
    hist = _xor_model().fit(X, Y, epochs=200, batch_size=64,
                            callbacks=[nn.EarlyStopping(monitor="loss", patience=0,
                                                        min_delta=10.0)])
    assert hist.converged and hist.stopped_epoch == 1
    assert hist.message == "Stopped early by a callback after epoch 1."
