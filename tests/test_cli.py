"""The command line: --version, diff (plain, LaTeX, steps), demo end to end, error exits."""

import subprocess
import sys

import matplotlib.image as mpimg
import pytest

import symcalc as sc
from symcalc.cli import COMMANDS, build_parser, main


def test_version(capsys):
    assert main(["--version"]) == 0  # in-process: argparse's SystemExit becomes the code
    assert capsys.readouterr().out.strip() == f"symcalc {sc.__version__}"


def test_diff_prints_partials(capsys):
    assert main(["diff", "(w*x + b - y)^2", "--wrt", "w", "b"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["d/dw: 2*x*(w*x + b - y)", "d/db: 2*(w*x + b - y)"]


def test_diff_shows_the_readable_form_with_named_inner_expressions(capsys):
    assert main(["diff", "log(1 + exp(w1*x1 + w2*x2 + b)) - y*(w1*x1 + w2*x2 + b)",
                 "--wrt", "w1", "w2", "b"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "z = w1*x1 + w2*x2 + b", "d/dw1: x1*(sigmoid(z) - y)", "d/dw2: x2*(sigmoid(z) - y)",
        "d/db: sigmoid(z) - y"]
    assert main(["diff", "log(1 + exp(w*x + b)) - y*(w*x + b)", "--wrt", "w", "--latex"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        r"z = w x + b", r"\frac{\partial}{\partial w} = x \left(\sigma\left(z\right) - y\right)"]


def test_diff_latex_and_steps(capsys):
    assert main(["diff", "sin(x^2)", "--wrt", "x", "--latex"]) == 0
    assert capsys.readouterr().out.strip() == r"\frac{\partial}{\partial x} = 2 x \cos{\left(x^{2} \right)}"
    assert main(["diff", "sin(x^2)*exp(3*x)", "--wrt", "x", "--steps"]) == 0
    out = capsys.readouterr().out
    assert "product rule" in out and "u = x**2" in out and "verified" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["diff", "x.__class__", "--wrt", "x"], "attribute access is not allowed"),
        (["diff", "x^2"], "the following arguments are required: --wrt"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        (["diff", "x^2", "--wrt", "1x"], "--wrt must be a symbol name"),
    ],
)
def test_errors_exit_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == set(COMMANDS)
    for name, p in sub.choices.items():
        assert p.format_help().startswith(f"usage: symcalc {name}")


def test_demo_writes_readable_pngs(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "symcalc", "demo", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for heading in ("1. Derivatives", "2. Integrals", "3. Limits", "4. Partial derivatives", "5. Chain rule"):
        assert heading in text
    assert "converged=True" in text and "agree=True" in text and "accuracy 100%" in text
    names = {"loss_curve.png", "contour_path.png", "roc_curve.png", "network_loss.png"}
    assert {p.name for p in out.iterdir()} == names
    for name in names:
        image = mpimg.imread(out / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image.std() > 0
