"""CLI input faults found in issue 19's Low items: warnings, CSV headers and rows, line
numbers, the --plot file name and huge --timeout values."""

from __future__ import annotations

import re

import pytest

from symcalc.cli import main


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_warning_is_one_line_without_a_source_path(capsys, tmp_path):
    data = _csv(tmp_path, "d.csv", "x,y\n1,3\n2,5\n")
    code, out, err = _run(capsys, ["fit", "(w*x - y)^2", "--params", "w,b", "--data", data,
                                   "--epochs", "2"])
    assert code == 0
    assert err == "symcalc: warning: parameter(s) ['b'] do not appear in the loss; their " \
                  "gradient is always 0\n"


@pytest.mark.parametrize("text, match", [
    ("x,x,y\n1,2,3\n2,3,5\n", r"has the column 'x' more than once in its header \['x', 'x', 'y'\]"),
    ("x,y\n1,3\n2,5,7\n", "line 3 has 3 cells but the header has 2"),
    ("x,y\n\n1,3\n\n2,nan\n", "line 5, column 'y': 'nan' is not a finite number"),
    ("x,y\n1,3\n\n2,five\n", "line 4, column 'y': 'five' is not a number"),
])
def test_csv_faults_name_the_file_line(capsys, tmp_path, text, match):
    data = _csv(tmp_path, "d.csv", text)
    code, out, err = _run(capsys, ["fit", "(w*x - y)^2", "--params", "w", "--data", data])
    assert code == 2 and err.count("\n") == 1
    assert re.search(match, err), err


def test_trailing_empty_cells_are_tolerated(capsys, tmp_path):
    data = _csv(tmp_path, "d.csv", "x,y\n1,2,\n2,4,\n")
    code, out, err = _run(capsys, ["fit", "(w*x - y)^2", "--params", "w", "--data", data,
                                   "--method", "newton"])
    assert code == 0 and "w = 2" in out and not err


def test_auc_plot_reports_the_file_it_wrote(capsys, tmp_path):
    data = _csv(tmp_path, "s.csv", "label,score\n0,0.1\n1,0.9\n0,0.4\n1,0.3\n")
    target = tmp_path / "roc"
    code, out, err = _run(capsys, ["auc", data, "--label", "label", "--score", "score",
                                   "--plot", str(target)])
    assert code == 0 and f"saved ROC plot to {target}.png" in out
    assert (tmp_path / "roc.png").is_file() and not target.exists()


def test_huge_timeout_is_accepted(capsys):
    code, out, err = _run(capsys, ["integrate", "x^2", "x", "0", "1", "--timeout", "1e308"])
    assert code == 0 and "1/3" in out and not err
