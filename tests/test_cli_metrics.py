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
    assert "--pos-label 'eggs' is not one of the labels in column 'label': [ham, spam]" in (
        capsys.readouterr().err)
    bad = tmp_path / "one.csv"
    bad.write_text("label,score\n1,0.5\n1,0.7\n")
    assert main(["auc", str(bad), "--label", "label", "--score", "score"]) == 2
    assert "only one class" in capsys.readouterr().err
    assert main(["auc", str(path), "--label", "label", "--score", "label"]) == 2
    assert "is not a number" in capsys.readouterr().err
    assert main(["auc", str(path), "--label", "label", "--score", "score", "num"]) == 2
    assert "holds 2 classes [ham, spam]: give one --score column" in capsys.readouterr().err
    assert main(["auc", str(path), "--label", "label", "--score", "score", "num",
                 "--compare", "num"]) == 2
    assert "--compare works with one --score column" in capsys.readouterr().err


@pytest.fixture
def multiclass_csv(tmp_path):
    """Seven samples of three classes (the hand example of test_roc_multiclass.py)."""
    rows = [(0, 0.7, 0.2, 0.1), (0, 0.4, 0.4, 0.2), (1, 0.3, 0.6, 0.1), (1, 0.5, 0.3, 0.2),
            (2, 0.2, 0.2, 0.6), (2, 0.1, 0.5, 0.4), (2, 0.1, 0.1, 0.8)]
    path = tmp_path / "three.csv"
    path.write_text("y,p0,p1,p2\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_auc_multiclass_columns(multiclass_csv, capsys, tmp_path):
    argv = ["auc", str(multiclass_csv), "--label", "y", "--score", "p0", "p1", "p2"]
    assert main(argv + ["--ci", "--plot", str(tmp_path / "three")]) == 0
    out = capsys.readouterr().out
    assert "AUC (ovr, macro) = 0.900000  (n = 7, 3 classes)" in out
    assert "class 0 [p0]: AUC = 0.900000  (2 samples)" in out
    assert "class 1 [p1]: AUC = 0.800000" in out and "class 2 [p2]: AUC = 1.000000" in out
    assert "95% CI of the macro average (bootstrap, 2000 resamples)" in out
    assert f"saved ROC plot to {tmp_path / 'three.png'}" in out  # the file matplotlib wrote
    assert (tmp_path / "three.png").stat().st_size > 1000
    assert main(argv + ["--multi-class", "ovo", "--average", "weighted"]) == 0
    assert "AUC (ovo, weighted) = 0.898810" in capsys.readouterr().out
    assert main(["auc", str(multiclass_csv), "--label", "y", "--score", "p0", "p1"]) == 2
    assert "2 --score columns for 3 classes [0, 1, 2] in column 'y'" in capsys.readouterr().err
    assert main(["auc", str(multiclass_csv), "--label", "y", "--score", "p0"]) == 2
    assert "holds 3 classes [0, 1, 2]: give one --score column per class" in (
        capsys.readouterr().err)


def test_auc_compare_two_models(csv_file, capsys):
    path, y, s = csv_file
    argv = ["auc", str(path), "--label", "label", "--score", "score", "--compare", "num"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"AUC(score) = {sk_auc(y, s):.6f}, AUC(num) = 1.000000" in out
    assert "difference = " in out and "(DeLong, std error" in out and "z = " in out


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
