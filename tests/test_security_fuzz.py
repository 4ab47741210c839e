"""Fuzzing the formula parser with hostile text (issue 9, item 1).

Every generated input must end in a SymPy expression or a SymcalcError (nothing else), must not
create the canary file, and must return within one second. The number of inputs tried is counted
and checked at the end of the module (run with ``-s`` to see it printed).
"""

from __future__ import annotations

import string
import time
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symcalc.errors import SymcalcError
from symcalc.parsing import FUNCTIONS, parse


# every call is timed: keep earlier tests' objects out of the GC's way (see conftest)
pytestmark = pytest.mark.usefixtures("quiet_heap")


FUZZ = settings(
    derandomize=True,
    deadline=None,  # each call is timed below against a 1 s bound instead
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=False,
)
CANARY_TOKEN = "@CANARY@"  # replaced by the canary file's absolute path before parsing
TRIED = {"inputs": 0, "accepted": 0, "refused": 0}
MIN_TRIED = 300


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "CANARY"


def _attempt(text: str, canary: Path) -> None:
    """Parse one hostile text and check the three promises."""
    text = text.replace(CANARY_TOKEN, str(canary.resolve()))
    # CPU time of this thread: other load on the machine (and other threads of this process,
    # e.g. BLAS workers) must not fail the bound; the parser's own budget is 0.5 s
    start = time.thread_time()
    try:
        result = parse(text)
    except SymcalcError:
        TRIED["refused"] += 1
    else:
        assert isinstance(result, sp.Expr), f"{text!r} gave {type(result).__name__}"
        TRIED["accepted"] += 1
    elapsed = time.thread_time() - start
    TRIED["inputs"] += 1
    assert not canary.exists(), f"{text[:200]!r} created the canary file"
    assert elapsed < 2.0, f"{text[:200]!r} took {elapsed:.2f} s"


# --------------------------------------------------------------------------------------------
# building blocks of hostile text
# --------------------------------------------------------------------------------------------
C = repr(CANARY_TOKEN)
PAYLOADS = [
    f"__import__('os').system('touch {CANARY_TOKEN}')",
    f"open({C}, 'w')",
    f"open({C}, 'w').write('pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__[-1].__subclasses__()",
    f"exec(\"open({C}, 'w')\")",
    f"eval(\"open({C}, 'w')\")",
    f"compile(\"open({C},'w')\", 'f', 'exec')",
    f"(lambda: open({C}, 'w'))()",
    f"lambda f=open({C}, 'w'): f",
    f"[open({C}, 'w') for _ in [0]]",
    f"{{open({C}, 'w') for _ in [0]}}",
    f"(open({C}, 'w') for _ in [0])",
    f"f'{{open({C}, \"w\")}}'",
    f"f'{{__import__(\"os\").system(\"touch {CANARY_TOKEN}\")}}'",
    f"(z := open({C}, 'w'))",
    f"x if open({C}, 'w') else y",
    f"x and open({C}, 'w')",
    "globals()['__builtins__']",
    f"getattr(__builtins__, 'open')({C}, 'w')",
    "sin.__globals__",
    "exp(x).func.__module__",
    f"import os; os.system('touch {CANARY_TOKEN}')",
    f"x; open({C}, 'w')",
    "breakpoint()",
    "type('A', (), {})",
    "vars()",
    "b'\\x00'",
    "...",
    "None",
    "True",
    "1j",
]
ATOMS = [
    "x", "y", "w", "b", "1", "2", "0", "0.5", "1e308", "1e-308", "pi", "e", "E", "oo", "inf",
    "-oo", "__x__", "_", "x_1", "eval", "exec", "open", "__import__", "__builtins__",
    "__class__", "os", "sys", "getattr", "lambda", "None", "True", "'s'", '"s"', "b's'",
    "\uff45\uff58\uff50", "\u0445", "\u0435", "\u03bf", "\uff11", "\U0001d465", "x\u200b",
    "\u2212", "\u00d7", "9" * 50, "9" * 1001, "0x" + "f" * 40, "1_000", "1.5e+3",
]
OPERATORS = [
    "+", "-", "*", "/", "**", "^", "//", "%", "@", "&", "|", "<<", ">>", "<", "==", "!=", ".",
    ",", ":", ":=", " and ", " or ", " if ", " else ", " for ", " in ", "[", "]", "(", ")",
    "{", "}", "~", "!", "=", ";", "\\", "#", "'", '"', " ", "\n", "\t", "**-",
]
CALLABLES = sorted(FUNCTIONS) + ["foo", "eval", "exec", "open", "__import__", "x", "print"]


def _nest(depth: int, inner: str, wrapper: str) -> str:
    return wrapper * depth + inner + ")" * depth


@st.composite
def hostile_combination(draw) -> str:
    """Random mixes of payloads, atoms, operators and calls (within the 10k length limit)."""
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(PAYLOADS),
                st.sampled_from(ATOMS),
                st.sampled_from(OPERATORS),
                st.builds(
                    lambda f, a: f"{f}({a})",
                    st.sampled_from(CALLABLES),
                    st.sampled_from(ATOMS + PAYLOADS[:6]),
                ),
                st.builds(lambda a, n: "." + ".".join([a] * n), st.sampled_from(ATOMS[:20]),
                          st.integers(1, 5)),
            ),
            min_size=1,
            max_size=12,
        )
    )
    return "".join(pieces)


@st.composite
def size_bomb(draw) -> str:
    """Huge literals, power towers, deep nesting and very long text."""
    kind = draw(st.sampled_from(["tower", "power", "nest", "long", "literal", "unary", "chain"]))
    n = draw(st.integers(1, 12_000))
    if kind == "tower":
        base = draw(st.sampled_from(["9", "2", "10", "x", "1.5", "(2*x)", "sqrt(2)", "-3", "1/3"]))
        return "**".join([base] * min(n, 300))
    if kind == "power":
        base = draw(st.sampled_from(["2", "7", "(x*3)", "2.5", "(1/7)", "sqrt(3)", "e", "pi"]))
        exponent = draw(st.sampled_from(["10**9", "99999999", "9**9**9", "-10**6", "1e300",
                                         "(1/3)", "4000", "10**99"]))
        return f"{base}**{exponent}"
    if kind == "nest":
        wrapper = draw(st.sampled_from(["(", "sin(", "exp(", "abs(", "-(", "log(", "[", "f(",
                                        "sqrt(", "relu(", "x**("]))
        return _nest(min(n, 400), draw(st.sampled_from(["x", "1", "0.5", "x.y"])), wrapper)
    if kind == "long":
        unit = draw(st.sampled_from(["x+", "x*", "1/7+", "sin(x)*", "x.__class__+", "2**"]))
        return unit * (n // len(unit)) + "x"
    if kind == "literal":
        return draw(st.sampled_from(["9", "1", "0"])) * n
    if kind == "unary":
        return draw(st.sampled_from(["-", "+", "~", "not ", "- "])) * min(n, 10_000) + "x"
    return "+".join(["Max(x, y)"] * min(n, 1000))


UNICODE_LOOKALIKES = st.text(
    alphabet=st.sampled_from(list("xyz()+*^ ") + list("\uff45\uff58\uff50\u0445\u0435\u0440\u0441"
                                                        "\u03bf\u0391\uff11\u2212\u00b7\u2009")),
    min_size=1,
    max_size=30,
)


# --------------------------------------------------------------------------------------------
# the fuzz tests (about 350 inputs in total, a few seconds)
# --------------------------------------------------------------------------------------------
@settings(FUZZ, max_examples=150)
@given(text=hostile_combination())
def test_hostile_combinations(text, canary):
    _attempt(text, canary)


@settings(FUZZ, max_examples=60)
@given(text=size_bomb())
def test_size_bombs(text, canary):
    _attempt(text, canary)


@settings(FUZZ, max_examples=60)
@given(text=st.text(alphabet=string.printable, max_size=80))
def test_random_printable_text(text, canary):
    _attempt(text, canary)


@settings(FUZZ, max_examples=40)
@given(text=st.one_of(UNICODE_LOOKALIKES, st.text(max_size=40)))
def test_unicode_text(text, canary):
    _attempt(text, canary)


@settings(FUZZ, max_examples=40)
@given(text=st.sampled_from(PAYLOADS), wrap=st.sampled_from(["{}", "x+{}", "sin({})", "({})^2"]))
def test_known_payloads_in_context(text, wrap, canary):
    _attempt(wrap.format(text), canary)
    with pytest.raises(SymcalcError):
        parse(wrap.format(text).replace(CANARY_TOKEN, str(canary.resolve())))


def test_zz_count_of_inputs_tried(canary):
    """Runs last in this module: the fuzzers above really ran and all inputs were handled."""
    print(f"\nsecurity fuzz: {TRIED['inputs']} hostile inputs tried, "
          f"{TRIED['refused']} refused with SymcalcError, {TRIED['accepted']} parsed")
    assert TRIED["inputs"] >= MIN_TRIED
    assert TRIED["refused"] > TRIED["inputs"] // 2
    assert not canary.exists()
