"""Hostile formula text beyond the parser: Loss, limit, integrate, explain and every CLI command.

Every generated input must end in a valid result or a SymcalcError (for the CLI: exit 0, or
exit 2 with exactly one stderr line and no traceback), must not create the canary file, and
must return within one second (limit and integrate get timeout=0.5). The strategies are the
parser fuzzer's (``test_security_fuzz.py``); the count of inputs tried is asserted at the end
(run with ``-s`` to see it printed).
"""

from __future__ import annotations

import contextlib
import csv
import io
import warnings
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from cputime import cpu_timed, tree_cpu
from hypothesis import strategies as st
from test_security_fuzz import (
    CANARY_TOKEN,
    FUZZ,
    PAYLOADS,
    UNICODE_LOOKALIKES,
    hostile_combination,
    size_bomb,
)

import symcalc as sc
from symcalc.cli import main
from symcalc.errors import SymcalcError


# every call is timed: keep earlier tests' objects out of the GC's way (see conftest)
pytestmark = pytest.mark.usefixtures("quiet_heap")


TRIED = {"inputs": 0, "accepted": 0, "refused": 0}
MIN_TRIED = 400
BUDGET = 1.0  # seconds per call
TIMEOUT = 0.5  # given to limit and integrate

#: Formulas the parser accepts that are hard for SymPy or for floating point.
NASTY = [
    "x**x**x**x", "exp(exp(exp(x)))", "sin(1/x)", "x*sin(1/x)", "gamma(x)", "loggamma(x)",
    "x**1000", "log(log(log(x)))", "exp(x^2)", "1/0", "0/0", "oo - oo", "x/0", "log(0)",
    "sqrt(-1)", "(-1)^x", "exp(1e308*x)", "1e308*x*1e308", "floor(1/x)", "sign(x)/x",
    "Heaviside(x)*exp(x)", "atan2(0, x)", "erf(exp(x))", "abs(x)^x", "relu(x)^(1/x)",
    "sigmoid(1e6*x)", "softplus(-x)^2", "x^(1/3)", "tan(x)", "1/(x-1)", "log(x-1)",
    "(1+1/x)^x", "x**(1/x)", "exp(-1/x^2)", "sin(x)^2000", "cosh(x)^50 - sinh(x)^50",
]
MATH_FUNCTIONS = ["sin", "exp", "log", "sqrt", "gamma", "tan", "abs", "sigmoid", "erf", "atan"]


@st.composite
def nasty_math(draw) -> str:
    """Random compositions of functions, powers and extreme constants (valid formulas)."""
    text = draw(st.sampled_from(["x", "1/x", "x - 1", "1e308*x", "1e-308", "x^x"] + NASTY))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["call", "power", "sum", "ratio"]))
        other = draw(st.sampled_from(["x", "2", "oo", "1e300", "-1", "0", "pi", "y"] + NASTY))
        if kind == "call":
            text = f"{draw(st.sampled_from(MATH_FUNCTIONS))}({text})"
        elif kind == "power":
            text = f"({text})^({other})"
        elif kind == "sum":
            text = f"{text} + {other}"
        else:
            text = f"({text})/({other})"
    return text


HOSTILE = st.one_of(
    hostile_combination(), size_bomb(), UNICODE_LOOKALIKES, st.sampled_from(PAYLOADS),
    st.text(max_size=40), nasty_math(), nasty_math(),
)


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> Path:
    """A folder with the canary's path and a good CSV (columns x, y, label, score)."""
    root = tmp_path_factory.mktemp("hostile")
    with open(root / "data.csv", "w", newline="") as fh:
        fh.write("x,y,label,score\n1,2,0,0.1\n2,4,1,0.9\n3,5,0,0.4\n4,9,1,0.7\n")
    return root


def _canary(box: Path) -> Path:
    return (box / "CANARY").resolve()


def _arm(text: str, box: Path) -> str:
    return text.replace(CANARY_TOKEN, str(_canary(box)))


_cpu = tree_cpu  # the 1 s promise is about work done, not about load on the machine


def _attempt(call, text: str, box: Path) -> None:
    """Run ``call()``: a value or a SymcalcError, no canary, within the budget."""
    start = _cpu()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. "parameter w does not appear"
        try:
            call()
        except SymcalcError:
            TRIED["refused"] += 1
        else:
            TRIED["accepted"] += 1
    elapsed = _cpu() - start
    TRIED["inputs"] += 1
    assert not _canary(box).exists(), f"{text[:200]!r} created the canary file"
    assert elapsed < BUDGET, f"{text[:200]!r} took {elapsed:.2f} s"


def _cli(argv: list[str], text: str, box: Path) -> None:
    """Run the CLI in-process: exit 0, or exit 2 with one stderr line and no traceback."""
    out, err = io.StringIO(), io.StringIO()
    start = _cpu()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        code = main(argv)
    elapsed = _cpu() - start
    message = err.getvalue()
    TRIED["inputs"] += 1
    if code == 0:
        TRIED["accepted"] += 1
    else:
        TRIED["refused"] += 1
        assert code == 2, f"{argv!r:.300} exited {code}: {message[:300]}"
        assert message.count("\n") == 1 and message.startswith("symcalc"), message[:300]
        assert "Traceback" not in message
    assert not _canary(box).exists(), f"{text[:200]!r} created the canary file"
    assert elapsed < BUDGET, f"{argv!r:.200} took {elapsed:.2f} s"


# --------------------------------------------------------------------------------------------
# the library: Loss, limit, integrate, explain
# --------------------------------------------------------------------------------------------
def _loss_and_gradient(text: str) -> None:
    loss = sc.Loss(text, params=["w", "b"], data=["x", "y"])
    assert isinstance(loss.expr, sp.Expr)
    assert loss.gradient().shape == (2, 1)


@settings(FUZZ, max_examples=120)
@given(text=HOSTILE)
def test_loss_from_hostile_text(text, box):
    text = _arm(text, box)
    _attempt(lambda: _loss_and_gradient(text), text, box)


@settings(FUZZ, max_examples=40)
@given(text=HOSTILE, where=st.sampled_from(["expr", "var", "point"]))
def test_limit_of_hostile_text(text, where, box):
    text = _arm(text, box)
    args = {"expr": "sin(x)/x", "var": "x", "point": "0", where: text}
    _attempt(lambda: sc.limit(args["expr"], args["var"], args["point"], timeout=TIMEOUT),
             text, box)


@settings(FUZZ, max_examples=40)
@given(text=HOSTILE, where=st.sampled_from(["expr", "expr", "var", "a", "b"]))
def test_integrate_hostile_text(text, where, box):
    text = _arm(text, box)
    args = {"expr": "exp(-x^2)", "var": "x", "a": "0", "b": "1", where: text}
    _attempt(lambda: sc.integrate(args["expr"], (args["var"], args["a"], args["b"]),
                                  timeout=TIMEOUT), text, box)


@settings(FUZZ, max_examples=50)
@given(text=HOSTILE, var=st.sampled_from(["x", "y", "__class__", "x.y", "open"]))
def test_explain_hostile_text(text, var, box):
    text = _arm(text, box)
    _attempt(lambda: str(sc.explain(text, var, timeout=TIMEOUT)), text, box)


# --------------------------------------------------------------------------------------------
# every CLI command, in-process
# --------------------------------------------------------------------------------------------
@settings(FUZZ, max_examples=60)
@given(text=HOSTILE, wrt=st.sampled_from(["x", "w", "__import__", "x y"]))
def test_cli_diff(text, wrt, box):
    text = _arm(text, box)
    _cli(["diff", text, "--wrt", *wrt.split()], text, box)


@settings(FUZZ, max_examples=30)
@given(text=HOSTILE, where=st.sampled_from(["expr", "expr", "var", "point"]))
def test_cli_limit(text, where, box):
    text = _arm(text, box)
    args = {"expr": "sin(x)/x", "var": "x", "point": "0", where: text}
    _cli(["limit", args["expr"], args["var"], args["point"], "--timeout", str(TIMEOUT)],
         text, box)


@settings(FUZZ, max_examples=30)
@given(text=HOSTILE, where=st.sampled_from(["expr", "expr", "var", "a", "b"]))
def test_cli_integrate(text, where, box):
    text = _arm(text, box)
    args = {"expr": "x^2", "var": "x", "a": "0", "b": "1", where: text}
    _cli(["integrate", args["expr"], args["var"], args["a"], args["b"], "--timeout",
          str(TIMEOUT)], text, box)


@settings(FUZZ, max_examples=50)
@given(text=HOSTILE, where=st.sampled_from(["expr", "expr", "params", "x0", "method", "lr"]))
def test_cli_fit(text, where, box):
    text = _arm(text, box)
    args = {"expr": "(w*x - y)^2", "params": "w", "x0": "0", "method": "gd", "lr": "0.01",
            where: text}
    _cli(["fit", args["expr"], "--params", args["params"], "--data", str(box / "data.csv"),
          "--x0", args["x0"], "--method", args["method"], "--lr", args["lr"], "--epochs", "5"],
         text, box)


@settings(FUZZ, max_examples=40)
@given(text=st.one_of(st.sampled_from(PAYLOADS), UNICODE_LOOKALIKES, st.text(max_size=30)),
       where=st.sampled_from(["header", "label", "score", "file", "cell"]))
def test_cli_auc_hostile_columns_and_files(text, where, box, tmp_path_factory):
    """Hostile text as a CSV column name, as --label/--score, as the file name, as a cell."""
    text = _arm(text, box)
    folder = tmp_path_factory.mktemp("auc")
    header = [text if where == "header" else "label", "score"]
    rows = [["0", "0.1"], ["1", text if where == "cell" else "0.9"], ["0", "0.3"], ["1", "0.8"]]
    path = folder / "scores.csv"
    with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
        csv.writer(fh).writerows([header, *rows])
    label = text if where in ("label", "header") else "label"
    score = text if where == "score" else "score"
    file_arg = text if where == "file" else str(path)
    _cli(["auc", file_arg, "--label", label, "--score", score], text, box)


def test_zz_count_of_inputs_tried(box):
    """Runs last in this module: the fuzzers above really ran and every input was handled."""
    print(f"\nhardening fuzz: {TRIED['inputs']} hostile inputs tried on Loss/limit/integrate/"
          f"explain/CLI, {TRIED['refused']} refused cleanly, {TRIED['accepted']} accepted")
    assert TRIED["inputs"] >= MIN_TRIED
    assert TRIED["refused"] > TRIED["inputs"] // 2
    assert not _canary(box).exists()


# --------------------------------------------------------------------------------------------
# hangs: every unbounded symbolic step honours a timeout and degrades gracefully
# --------------------------------------------------------------------------------------------
def _timed(call):
    """The result and the CPU seconds of the process tree (see tests/cputime.py): the
    timeout is a wall-clock promise kept by killing the child, checked here as behaviour
    (the report says it timed out) plus work done, which load cannot inflate."""
    return cpu_timed(call)


def test_stable_learning_rate_falls_back_to_numeric_when_expansion_explodes():
    """Expanding (x1 + ... + x8)**20 (888030 terms) used to hang; now the symbolic formula is
    dropped after the timeout and the numeric bound still comes back."""
    import numpy as np

    xs = sp.symbols("x1:9")
    w = sp.Symbol("w")
    loss = sc.Loss(w**2 * sum(xs) ** 20, params=[w], data=list(xs))
    data = {s: np.full(3, 0.1) for s in xs}
    rep, elapsed = _timed(lambda: sc.stable_learning_rate(loss, data, timeout=0.3))
    assert elapsed < 0.3 + 3.0, f"took {elapsed:.2f} s"
    assert rep.exact and rep.expression is None and rep.hessian_expr is None
    lam = 2 * 0.8**20  # the Hessian is 2*(sum x)**20 with sum x = 0.8
    assert rep.lambda_max == pytest.approx(lam) and rep.bound == pytest.approx(2 / lam)
    small = sc.stable_learning_rate(sc.Loss(w**2 * xs[0] ** 2, params=[w], data=[xs[0]]),
                                    {xs[0]: [1.0, 2.0]})
    assert small.expression is not None and small.bound == pytest.approx(2 / 5)


def test_explain_degrades_when_the_check_times_out():
    # the budget is hard: a derivation (possibly unverified) or SymbolicTimeout, never more
    text = "*".join(f"sin(x+{i})" for i in range(40))
    try:
        rep = str(sc.explain(text, "x", timeout=0.3))
    except sc.SymbolicTimeout as exc:
        assert "within its 0.3 s budget" in str(exc)
    else:
        assert "d/dx" in rep
    rep = str(sc.explain(text, "x", timeout=60))
    assert "d/dx" in rep and "verified" in rep


@pytest.mark.parametrize(
    "call",
    [
        lambda: sc.limit("x**x**x**x**sin(1/x)", "x", 0, timeout=0.5),
        lambda: sc.limit("exp(x**100)", "x", 10**10, timeout=0.5),
        lambda: sc.integrate("sin(x**x)*exp(sin(x))", ("x", 0, 10), timeout=0.5),
    ],
)
def test_limit_and_integrate_honour_the_timeout(call):
    rep, elapsed = _timed(call)
    assert elapsed < 0.5 + 3.0, f"took {elapsed:.2f} s"
    assert isinstance(rep.reason, str) and rep.reason
