"""The parser returns quickly on formulas whose constants SymPy cannot evaluate cheaply
(issue 19, item 3): every whitelisted function applied to huge constants, nested twice, and the
issue's examples each give a value or a ParseError, within the parser's budget in CPU time."""

from __future__ import annotations

import time

import pytest
import sympy as sp

from guard import run_guarded
from symcalc.errors import ParseError
from symcalc.parsing import FUNCTIONS, parse

HUGE = ["exp(exp(20))", "10**10**5", "-exp(exp(20))"]
CPU_PER_FORMULA = 2.0  # seconds: 4x the parser's 0.5 s budget, a generous margin


def _calls(name: str, arg: str) -> list[str]:
    low, _, _ = FUNCTIONS[name]
    extra = ", 2" if low == 2 else ""
    once = f"{name}({arg}{extra})"
    return [once, f"{name}({once}{extra})"]


FORMULAS = [text for name in sorted(FUNCTIONS) for arg in HUGE for text in _calls(name, arg)]
ISSUE = [
    "ceiling(exp(exp(20)))", "Max(sin(exp(exp(20))), w)", "floor(exp(exp(exp(5))))",
    "abs(sin(exp(exp(20))))", "floor(e^e^e^e)", "floor(exp(exp(10)))", "floor(exp(10^3000))",
]


def _parse_all(texts: list[str]) -> list[tuple[str, str, float]]:
    """(text, outcome, CPU seconds) per formula: 'value', 'ParseError: ...' or another error."""
    out = []
    for text in texts:
        start = time.process_time()
        try:
            parse(text)
            outcome = "value"
        except ParseError as exc:
            outcome = f"ParseError: {exc}"
        except Exception as exc:  # noqa: BLE001 - reported by the test
            outcome = f"{type(exc).__name__}: {exc}"
        out.append((text, outcome, time.process_time() - start))
    return out


def test_every_function_of_huge_constants_returns_quickly():
    (status, results), _ = run_guarded(_parse_all, FORMULAS, guard=300)
    assert status == "ok", results
    assert len(results) == len(FORMULAS) >= 6 * 35
    for text, outcome, cpu in results:
        assert outcome == "value" or outcome.startswith("ParseError"), (text, outcome)
        assert cpu < CPU_PER_FORMULA, (text, cpu)
    refused = {t for t, o, _ in results if o != "value"}
    # precision-hungry functions of exp(exp(20)) are refused; 10**10**5 is too large exactly
    for name in ("floor", "ceiling", "sin", "cos", "tan", "exp", "gamma", "erf", "sigmoid"):
        assert f"{name}(exp(exp(20)))" in refused
    assert all(t in refused for t in FORMULAS if "10**10**5" in t)
    assert "log(exp(exp(20)))" not in refused  # = exp(20): monotone functions stay exact


def test_the_issues_formulas_are_refused_with_the_reason():
    (status, results), _ = run_guarded(_parse_all, ISSUE, guard=120)
    assert status == "ok", results
    for text, outcome, cpu in results:
        assert outcome.startswith("ParseError"), (text, outcome)
        assert "precision" in outcome, (text, outcome)
        assert cpu < CPU_PER_FORMULA, (text, cpu)


@pytest.mark.parametrize("text, match", [
    ("floor(exp(exp(20)))", r"floor\(\) of a constant of about 10\*\*2.107e\+08"),
    ("sin(2**1200)", r"sin\(\) of a constant of about 10\*\*361"),
    ("2**exp(exp(20))", "this power of constants"),
    ("pi**(2**1200)", "this power of constants"),
])
def test_refusal_messages_name_the_function_and_size(text, match):
    with pytest.raises(ParseError, match=match):
        parse(text)


@pytest.mark.parametrize("text, expected", [
    ("floor(exp(pi*sqrt(163)))", sp.Integer(262537412640768743)),  # a famous near-integer
    ("ceiling(log(8)/log(2))", sp.Integer(3)),
    ("floor(exp(-exp(20)))", sp.Integer(0)),
    ("sin(pi*10**300)", sp.Integer(0)),
    ("log(exp(exp(20)))", sp.exp(20)),
    ("floor(2**1000*pi/2**1000)", sp.Integer(3)),
])
def test_exact_values_of_constants_within_the_bounds(text, expected):
    assert parse(text) == expected


def _python_built(kind):
    import symcalc as sc
    from symcalc.compile import compile_elementwise
    from symcalc.errors import SymcalcError

    w, x = sp.symbols("w x")
    big = sp.sin(sp.exp(sp.exp(20)))  # builds unevaluated; any sign query would hang
    calls = {
        "loss": lambda: sc.Loss(w**2 + big, params=[w]).compile().value([0.0]),
        "elementwise": lambda: compile_elementwise([x + big], [x])(1.0),
        "integrate": lambda: sc.integrate(x * big, (x, 0, 1), timeout=5),
        "limit": lambda: sc.limit(x * big, x, 0, timeout=5),
    }
    try:
        calls[kind]()
    except SymcalcError as exc:
        return str(exc)
    return "no error"


@pytest.mark.parametrize("kind", ["loss", "elementwise", "integrate", "limit"])
def test_the_same_bounds_hold_for_sympy_objects_built_in_python(kind):
    (status, message), cpu = run_guarded(_python_built, kind, guard=120)
    assert status == "ok" and "sin() of a constant of about 10**2.107e+08" in message, message
    assert cpu < CPU_PER_FORMULA
