"""Tests of ``symcalc fit``: CSV round trips (text and JSON) and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symcalc.cli import main


@pytest.fixture
def line_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = 3.0 * x - 0.5 + rng.normal(0, 0.1, 40)
    path = tmp_path / "points.csv"
    path.write_text("x,y,unused\n" + "".join(f"{float(a)!r},{float(b)!r},z\n" for a, b in zip(x, y)))
    design = np.column_stack([x, np.ones_like(x)])
    return path, np.linalg.lstsq(design, y, rcond=None)[0]


def test_fit_text_output(line_csv, capsys):
    path, (w_star, b_star) = line_csv
    code = main(["fit", "(w*x + b - y)^2", "--params", "w,b", "--data", str(path),
                 "--lr", "0.1", "--epochs", "3000"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].startswith("w = ") and float(out[0].split("=")[1]) == pytest.approx(w_star, abs=1e-6)
    assert float(out[1].split("=")[1]) == pytest.approx(b_star, abs=1e-6)
    assert out[2].startswith("loss = ")
    assert out[3].startswith("converged after ") and "(gd): Converged" in out[3]


@pytest.mark.parametrize("extra", [["--newton"], ["--method", "BFGS"], ["--method", "adam", "--lr", "0.05",
                                                                          "--epochs", "4000", "--tol", "1e-7"]])
def test_fit_json_round_trip(line_csv, capsys, extra):
    path, x_star = line_csv
    code = main(["fit", "(w*x + b - y)^2", "--params", "w,b", "--data", str(path), "--json", *extra])
    assert code == 0
    got = json.loads(capsys.readouterr().out)
    assert got["converged"] is True and got["status"]
    np.testing.assert_allclose([got["params"]["w"], got["params"]["b"]], x_star, atol=1e-4)
    resid = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1))
    mse = np.mean((x_star[0] * resid[:, 0] + x_star[1] - resid[:, 1]) ** 2)
    assert got["loss"] == pytest.approx(mse, rel=1e-6)


def test_fit_without_data_symbols(capsys):
    assert main(["fit", "(a-2)^2 + (c+1)^2", "--params", "a,c", "--newton", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["params"] == {"a": pytest.approx(2.0), "c": pytest.approx(-1.0)}


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--data", "{missing}"], "file not found"),
        (["--data", "{csv}", "--params", "w,b,q"], None),  # q unused: still fits
        (["--data", "{nocol}"], "has no column 'y'"),
        (["--data", "{badcell}"], "line 3, column 'x': 'abc' is not a number"),
        (["--data", "{csv}", "--expr", "(w*x + b - y"], "was never closed"),
        (["--data", "{csv}", "--lr", "fast"], "--lr must be comma-separated numbers"),
        (["--data", "{csv}", "--lr", "-1"], "learning_rate must be > 0"),
        (["--data", "{csv}", "--method", "rmsprop"], "method must be one of 'newton'"),
        (["--data", "{csv}", "--x0", "1"], "x0 has length 1; expected 2"),
        ([], "uses data symbol"),
    ],
)
def test_fit_errors_exit_2_with_one_line(tmp_path, line_csv, capsys, argv, match):
    csv, _ = line_csv
    (tmp_path / "nocol.csv").write_text("x,z\n1,2\n")
    (tmp_path / "badcell.csv").write_text("x,y\n1,2\nabc,3\n")
    paths = {"missing": tmp_path / "nope.csv", "csv": csv, "nocol": tmp_path / "nocol.csv",
             "badcell": tmp_path / "badcell.csv"}
    argv = [a.format(**paths) for a in argv]
    expr = "(w*x + b - y)^2"
    if "--expr" in argv:
        i = argv.index("--expr")
        expr = argv[i + 1]
        del argv[i : i + 2]
    params = [] if "--params" in argv else ["--params", "w,b"]
    code = main(["fit", expr, *params, *argv])
    err = capsys.readouterr().err
    if match is None:  # a warning, printed as one line (no source path)
        assert code == 0 and err.startswith("symcalc: warning:") and "do not appear" in err
        assert err.count("\n") == 1
        return
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("symcalc: error: ")
    assert match in err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
