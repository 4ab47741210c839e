"""CLI tests for ``symcalc auc`` and ``symcalc integrate``."""

from __future__ import annotations

import sys
import types

import matplotlib
import numpy as np
import pytest
import sympy as sp
from sklearn.metrics import roc_auc_score as sk_auc

from symcalc.cli import main

matplotlib.use("Agg")


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    s = np.round(rng.normal(size=60) + y, 2)
    path = tmp_path / "scores.csv"
    lines = ["label,score,num"] + [
        f"{'spam' if a else 'ham'},{b},{10 if a else 9}" for a, b in zip(y, s)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path, y, s


def test_auc_string_labels(csv_file, capsys):
    path, y, s = csv_file
    assert main(["auc", str(path), "--label", "label", "--score", "score"]) == 0
    out = capsys.readouterr().out
    assert f"AUC = {sk_auc(y, s):.6f}" in out
    assert f"{int(y.sum())} positive [label = spam]" in out


def test_auc_pos_label_ci_and_plot(csv_file, capsys, tmp_path):
    path, y, s = csv_file
    png = tmp_path / "roc.png"
    argv = ["auc", str(path), "--label", "label", "--score", "score", "--pos-label", "ham"]
    assert main(argv + ["--ci", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert f"AUC = {1 - sk_auc(y, s):.6f}" in out
    assert "95% CI (delong):" in out and png.stat().st_size > 1000


def test_auc_numeric_labels_compare_as_numbers(csv_file, capsys):
    path, y, s = csv_file  # labels 9 and 10: as strings "9" > "10", as numbers 10 is positive
    assert main(["auc", str(path), "--label", "num", "--score", "score", "--ci",
                 "--method", "bootstrap"]) == 0
    out = capsys.readouterr().out
    assert f"AUC = {sk_auc(y, s):.6f}" in out and "[num = 10]" in out
    assert "95% CI (bootstrap):" in out


def test_auc_errors_exit_2_with_one_line(csv_file, capsys, tmp_path):
    path, _, _ = csv_file
    assert main(["auc", str(path), "--label", "nope", "--score", "score"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column 'nope'" in err
    assert main(["auc", str(path), "--label", "label", "--score", "score",
                 "--pos-label", "eggs"]) == 2
    assert "pos_label='eggs' is not one of the labels" in capsys.readouterr().err
    bad = tmp_path / "one.csv"
    bad.write_text("label,score\n1,0.5\n1,0.7\n")
    assert main(["auc", str(bad), "--label", "label", "--score", "score"]) == 2
    assert "only one class" in capsys.readouterr().err
    assert main(["auc", str(path), "--label", "label", "--score", "label"]) == 2
    assert "is not a number" in capsys.readouterr().err


@pytest.fixture
def parser_stand_in(monkeypatch):
    """A test-only stand-in for symcalc.parsing (merged separately by the lead)."""
    try:
        import symcalc.parsing  # noqa: F401
    except ImportError:
        module = types.ModuleType("symcalc.parsing")
        module.parse = lambda text, symbols=None: sp.parse_expr(text.replace("^", "**"))
        monkeypatch.setitem(sys.modules, "symcalc.parsing", module)


def test_integrate_gaussian_with_infinite_bounds(parser_stand_in, capsys):
    assert main(["integrate", "exp(-x^2)", "x", "-oo", "oo"]) == 0
    out = capsys.readouterr().out
    assert "exact:   sqrt(pi)" in out
    assert "numeric: 1.77245385090551" in out and "agree:   yes" in out


def test_integrate_pi_bound_and_timeout(parser_stand_in, capsys):
    assert main(["integrate", "sin(t)", "t", "-pi", "0", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert "exact:   -2" in out and "from -pi to 0" in out and "agree:   yes" in out


def test_integrate_no_closed_form(parser_stand_in, capsys):
    assert main(["integrate", "sin(x)/log(x+2)", "x", "0", "1"]) == 0
    out = capsys.readouterr().out
    assert "exact:   none" in out and "numeric: 0.47741594" in out
    assert "agree:   cannot tell" in out  # no closed form is not a disagreement


def test_integrate_bad_bound_exits_2(parser_stand_in, capsys):
    assert main(["integrate", "x", "x", "0", "y"]) == 2
    assert "upper bound b must be a number" in capsys.readouterr().err
    assert main(["integrate", "x", "x", "0"]) == 2
    assert "required" in capsys.readouterr().err
