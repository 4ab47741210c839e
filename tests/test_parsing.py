"""Tests for symcalc.parsing: correct formulas, symbol binding, every refusal, no code execution."""

from __future__ import annotations

import time

import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import ParseError, SymbolError, SymcalcError
from symcalc.parsing import MAX_LENGTH, MAX_NESTING, parse

x, y, z, w, b = sp.symbols("x y z w b")


# --------------------------------------------------------------------------------------------
# formulas that parse, compared with hand-built SymPy expressions
# --------------------------------------------------------------------------------------------
GOOD = [
    ("x", x),
    ("x + 1", x + 1),
    ("2*x - 3*y", 2 * x - 3 * y),
    ("x / y", x / y),
    ("x - y - z", x - y - z),
    ("x / y / z", x / (y * z)),
    ("x - (y - z)", x - y + z),
    ("(w*x + b - y)^2", (w * x + b - y) ** 2),
    ("(w*x + b - y)**2", (w * x + b - y) ** 2),
    ("x^2 + 1", x**2 + 1),
    ("-x^2", -(x**2)),
    ("2^3^2", sp.Integer(512)),  # right-associative like **
    ("x^-1", 1 / x),
    ("2**-3", sp.Rational(1, 8)),
    ("+x", x),
    ("--x", x),
    ("- - -x", -x),
    ("3.5*x", sp.Float("3.5") * x),
    ("1e-3", sp.Float("0.001")),
    ("1_000", sp.Integer(1000)),
    ("1/3 + 1/7", sp.Rational(10, 21)),
    ("exp(x)", sp.exp(x)),
    ("log(x)", sp.log(x)),
    ("ln(x)", sp.log(x)),
    ("log(x, 2)", sp.log(x) / sp.log(2)),
    ("log10(x)", sp.log(x) / sp.log(10)),
    ("log1p(x)", sp.log(1 + x)),
    ("sqrt(x^2 + 1)", sp.sqrt(x**2 + 1)),
    ("sin(x)*cos(y) + tan(z)", sp.sin(x) * sp.cos(y) + sp.tan(z)),
    ("asin(x) + acos(x) + atan(x)", sp.asin(x) + sp.acos(x) + sp.atan(x)),
    ("atan2(y, x)", sp.atan2(y, x)),
    ("sinh(x) + cosh(x) + tanh(x)", sp.sinh(x) + sp.cosh(x) + sp.tanh(x)),
    ("asinh(x) + acosh(x) + atanh(x)", sp.asinh(x) + sp.acosh(x) + sp.atanh(x)),
    ("abs(x) + Abs(y)", sp.Abs(x) + sp.Abs(y)),
    ("sign(x)", sp.sign(x)),
    ("max(x, y) + Min(x, y, z)", sp.Max(x, y) + sp.Min(x, y, z)),
    ("floor(x) + ceiling(y) + ceil(z)", sp.floor(x) + sp.ceiling(y) + sp.ceiling(z)),
    ("erf(x) + erfc(x)", sp.erf(x) + sp.erfc(x)),
    ("gamma(x) + loggamma(x)", sp.gamma(x) + sp.loggamma(x)),
    # ML functions stay folded (symcalc.functions), not expanded into exp
    ("sigmoid(x)", sc.sigmoid(x)),
    ("expit(w*x)", sc.sigmoid(w * x)),
    ("softplus(x)", sc.softplus(x)),
    ("relu(x)", sc.relu(x)),
    ("log_sigmoid(x)", sc.log_sigmoid(x)),
    ("logsumexp(x, w, 1)", sc.logsumexp(x, w, 1)),
    ("Heaviside(x)", sp.Heaviside(x)),
    ("pi*x", sp.pi * x),
    ("E^x", sp.exp(x)),
    ("e**x", sp.exp(x)),
    ("oo", sp.oo),
    ("-oo", -sp.oo),
    ("inf", sp.oo),
    ("-infinity", -sp.oo),
    ("log(1 + exp(-y*(w*x + b)))", sp.log(1 + sp.exp(-y * (w * x + b)))),
    ("x # a comment", x),
    ("(x +\n y)", x + y),
    ("sin", sp.Symbol("sin")),  # a function name used bare is just a name
    ("gamma*x", sp.Symbol("gamma") * x),
    ("gamma(5)", sp.Integer(24)),
    ("x_1 + x2", sp.Symbol("x_1") + sp.Symbol("x2")),
    ("2**3000 / 2**2999", sp.Integer(2)),
]


@pytest.mark.parametrize("text, expected", GOOD, ids=[t for t, _ in GOOD])
def test_parses_to_expected_expression(text, expected):
    got = parse(text)
    assert isinstance(got, sp.Expr)
    assert got == expected or sp.simplify(got - expected) == 0


def test_caret_is_power_with_power_precedence():
    # Python's ^ is XOR with lower precedence than +; in a formula it must bind like **
    assert parse("x^2+1") == x**2 + 1
    assert parse("2*x^2") == 2 * x**2
    assert parse("x^y^z") == x ** (y**z)
    assert parse("x^2") == parse("x**2")


def test_float_literals_keep_their_decimal_value():
    assert parse("0.1") == sp.Float("0.1")
    assert abs(float(parse("2.5e-3")) - 0.0025) < 1e-18


def test_top_level_import_exports_parse():
    assert sc.parse is parse
    assert "parse" in sc.__all__


def test_long_flat_sum_and_product_are_accepted():
    text = " + ".join(f"x{i}" for i in range(1000))
    assert parse(text) == sp.Add(*sp.symbols("x0:1000"))
    assert parse("*".join(["x"] * 1500)) == x**1500


def test_hundred_levels_of_nesting_are_accepted():
    text = "(" * MAX_NESTING + "x" + ")" * MAX_NESTING
    assert parse(text) == x
    nested = "sin(" * 99 + "x" + ")" * 99
    expected = x
    for _ in range(99):
        expected = sp.sin(expected)
    assert parse(nested) == expected


# --------------------------------------------------------------------------------------------
# binding to given symbols
# --------------------------------------------------------------------------------------------
def test_bound_symbols_are_the_same_objects_with_assumptions():
    wp = sp.Symbol("w", positive=True)
    n = sp.Symbol("n", integer=True)
    expr = parse("sqrt(w^2) + n*x", symbols=[wp, n])
    assert expr == wp + n * sp.Symbol("x")  # sqrt(w**2) = w only because w is positive
    free = {s.name: s for s in expr.free_symbols}
    assert free["w"] is wp and free["n"] is n
    assert free["w"].is_positive and free["n"].is_integer
    assert free["x"].is_positive is None  # unbound names are plain symbols


def test_binding_by_mapping_and_by_name():
    wp = sp.Symbol("w", positive=True)
    expr = parse("w*x", symbols={"w": wp})
    assert next(s for s in expr.free_symbols if s.name == "w") is wp
    expr = parse("w*x", symbols={wp: wp})
    assert next(s for s in expr.free_symbols if s.name == "w") is wp
    assert parse("w*x", symbols=["w", "x"]) == w * x
    assert parse("w*x", symbols="w") == w * x
    wp = sp.Symbol("w", positive=True)
    assert parse("w", symbols=wp) is wp


def test_bound_name_wins_over_constant():
    e = sp.Symbol("e", real=True)
    expr = parse("e*x + E", symbols=[e])
    assert expr == e * x + sp.E
    assert parse("pi", symbols={"pi": sp.Symbol("pi")}) == sp.Symbol("pi")


@pytest.mark.parametrize(
    "symbols, match",
    [
        ({"w": 3}, r"symbols\['w'\] must be a sympy Symbol; got 3"),
        ({1: sp.Symbol("w")}, "keys must be names or Symbols"),
        ([sp.Symbol("w"), sp.Symbol("w", positive=True)], "two different symbols named 'w'"),
        ([x, x], "more than once"),
        (["not a name"], "symbol name"),
        (42, "sequence of symbols"),
    ],
)
def test_bad_symbols_argument(symbols, match):
    with pytest.raises(SymbolError, match=match):
        parse("w*x", symbols=symbols)


# --------------------------------------------------------------------------------------------
# every refusal category, with what and where
# --------------------------------------------------------------------------------------------
BAD = [
    ("x.__class__", r"attribute access is not allowed at column 1: 'x.__class__'"),
    ("1 + x.real", r"attribute access is not allowed at column 5: 'x.real'"),
    ("x[0]", r"subscripts \(indexing\) are not allowed at column 1"),
    ("__import__", r"dunder names such as '__import__' are not allowed at column 1"),
    ("x + __class__", r"dunder names .* at column 5"),
    ("__import__('os')", r"dunder names"),
    ("lambda: 1", r"lambda expressions are not allowed"),
    ("[x for x in y]", r"comprehensions are not allowed"),
    ("{x: 1 for x in y}", r"comprehensions are not allowed"),
    ("sum(x for x in y)", r"unknown function 'sum'"),
    ("(x for x in y)", r"generator expressions are not allowed"),
    ("import os", r"statements \(import, assignment, def, \.\.\.\) are not allowed"),
    ("x = 1", r"statements"),
    ("x; y", r"statements"),
    ("'abc'", r"strings are not allowed at column 1"),
    ("b'abc'", r"bytes literals are not allowed"),
    ("f'{x}'", r"f-strings are not allowed"),
    ("exp(x=1)", r"keyword arguments in a call of 'exp' are not allowed"),
    ("exp(**x)", r"keyword arguments"),
    ("exp(*x)", r"starred arguments are not allowed at column 5"),
    ("foo(x)", r"unknown function 'foo' \(known: .*sigmoid"),
    ("x(1)", r"unknown function 'x'"),
    ("(x)(1)", r"unknown function 'x'"),
    ("exp(x)(1)", r"only known functions may be called"),
    ("(lambda: 1)()", r"lambda expressions are not allowed"),
    ("eval", r"the name 'eval' is not allowed"),
    ("exec(x)", r"the name 'exec' is not allowed"),
    ("open(x)", r"the name 'open' is not allowed"),
    ("getattr(x, y)", r"the name 'getattr' is not allowed"),
    ("\uff45\uff58\uff50(x)", r"non-ASCII identifier 'ｅｘｐ' \(character 'ｅ', U\+FF45\) at column 1"),
    ("\u0445 + 1", r"non-ASCII identifier 'х' \(character 'х', U\+0445\)"),
    ("x \u2212 1", r"non-ASCII character '−' \(U\+2212\) at column 3"),
    ("x\x00", r"control character '\\x00' at column 2"),
    ("x\x7f", r"control character"),
    ("(y := 2)", r"assignment expressions \(:=\) are not allowed"),
    ("x if y else z", r"conditional expressions .* are not allowed"),
    ("x and y", r"boolean operators \(and/or\) are not allowed"),
    ("not x", r"the operator 'not' is not allowed"),
    ("~x", r"the operator '~' is not allowed"),
    ("x < y", r"comparisons are not allowed"),
    ("x // 2", r"'//' \(floor division\) is not allowed"),
    ("x % 2", r"'%' \(modulo\) is not allowed"),
    ("x @ y", r"'@' \(matrix multiplication\) is not allowed"),
    ("x | y", r"the operator '\|' is not allowed"),
    ("(x, y)", r"tuples are not allowed"),
    ("[x]", r"lists are not allowed"),
    ("{x}", r"sets are not allowed"),
    ("{x: y}", r"dictionaries are not allowed"),
    ("1j", r"complex literals \(the 'j' suffix\) are not allowed"),
    ("True", r"the constant True is not allowed"),
    ("None", r"the constant None is not allowed"),
    ("...", r"the constant Ellipsis is not allowed"),
    ("", r"the formula is empty"),
    ("   \n ", r"the formula is empty"),
    ("x + " * 2600 + "x", rf"the formula is 10401 characters long; the limit is {MAX_LENGTH}"),
    ("(" * 101 + "x" + ")" * 101, r"brackets nest deeper than 100 levels at column 101"),
    ("-" * 150 + "x", r"more than 100 unary signs in a row at column 1"),
    ("x**" * 250 + "x", r"nests deeper than 200 operations"),
    ("1" * 1001, r"a number literal with 1001 digits at column 1.*the limit is 1000 digits"),
    ("0x" + "f" * 900, r"integer literal larger than 1000 digits"),
    ("9**9**9**9", r"this power would produce a number of about 3\.7e\+08 digits"),
    ("2**100000000", r"about 3\.01e\+07 digits .* at column 1: '2\*\*100000000'"),
    ("9^9^9", r"this power would produce a number"),
    ("(2*x)**(10**9)", r"this power would produce a number"),
    ("sqrt(2)**(10**7)", r"this power would produce a number"),
    ("2**-100000", r"this power would produce a number"),
    ("(10**999 + 7)**(1/3)", r"fractional powers of exact numbers with more than 100 digits"),
    ("*".join(["7**3000"] * 5), r"this product would produce a number"),
    ("1e308 * 1e308", r"floating-point number outside the float64 range"),
    ("exp(exp(exp(20.0)))", r"outside the float64 range .* at column 5: 'exp\(exp\(20\.0\)\)'"),
    ("1e999", r"float literal outside the float64 range"),
    ("gamma(100000)", r"gamma of an exact number larger than 1000 is not allowed"),
    ("1/0", r"division by zero at column 3: '0'"),
    ("0**-1", r"division by zero \(0 to a negative power\)"),
    ("sin(x, y)", r"sin\(\) takes 1 argument, got 2"),
    ("log(x, y, z)", r"log\(\) takes 1 to 2 arguments, got 3"),
    ("atan2(x)", r"atan2\(\) takes 2 arguments, got 1"),
    ("Max(" + ",".join(f"x{i}" for i in range(11)) + ")", r"Max\(\) takes 1 to 10 arguments"),
    ("Max(Max(a,b,c,d,e,f), Max(g,h,i,j,k))", r"Max\(\) would combine 11 arguments"),
    ("x +* y", r"invalid syntax at column 4: '\* y' in 'x \+\* y'"),
    ("(x + 1", r"was never closed"),
    ("x y", r"invalid syntax"),
    ("x +\n y", r"invalid syntax at line 1"),
]


@pytest.mark.parametrize("text, match", BAD, ids=[repr(t[:30]) for t, _ in BAD])
def test_refused_with_what_and_where(text, match):
    with pytest.raises(ParseError, match=match):
        parse(text)


@pytest.mark.parametrize("value", [None, 3, 2.5, b"x", ["x"], sp.Symbol("x")])
def test_non_string_input(value):
    with pytest.raises(ParseError, match=r"a formula must be a string; got .* of type"):
        parse(value)


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        parse("x.y")
    assert issubclass(ParseError, SymcalcError)


def test_multiline_positions_name_line_and_column():
    with pytest.raises(ParseError, match=r"at line 2, column 3: 'x.y'"):
        parse("(1 +\n  x.y)")


def test_caret_positions_refer_to_the_original_text():
    # '^' becomes '**' internally; columns must still count characters of what the user wrote
    with pytest.raises(ParseError, match=r"attribute access is not allowed at column 9: 'x.real'"):
        parse("2^2^2 + x.real")


# --------------------------------------------------------------------------------------------
# no code execution, fast refusal
# --------------------------------------------------------------------------------------------
def _payloads(canary: str) -> list[str]:
    c = repr(canary)
    return [
        f"__import__('os').system('touch {canary}')",
        f"open({c}, 'w')",
        f"open({c}, 'w').write('x')",
        "().__class__.__bases__[0].__subclasses__()",
        f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]"
        f"(['touch', {c}])",
        f"exec(\"open({c}, 'w')\")",
        f"eval(\"open({c}, 'w')\")",
        f"(lambda: open({c}, 'w'))()",
        f"f'{{open({c}, \"w\")}}'",
        f"x + f'{{__import__(\"os\").system(\"touch {canary}\")}}'",
        f"(y := open({c}, 'w'))",
        f"exp(x).__class__.__init__.__globals__['__builtins__']['open']({c}, 'w')",
        f"[open({c}, 'w') for i in [1]]",
        f"x if open({c}, 'w') else y",
        f"compile(\"open({c},'w')\", '', 'exec')",
        f"globals()['__builtins__'].open({c}, 'w')",
        f"exp(x); open({c}, 'w')",
        f"import os; os.system('touch {canary}')",
        f"\uff4f\uff50\uff45\uff4e({c}, 'w')",  # full-width 'open'
        f"sin(x)**open({c}, 'w')",
    ]


def test_payloads_never_execute(tmp_path):
    canary = tmp_path / "CANARY"
    for payload in _payloads(str(canary.resolve())):
        with pytest.raises(ParseError):
            parse(payload)
        assert not canary.exists(), f"payload created the canary: {payload}"
    assert list(tmp_path.iterdir()) == []


HOSTILE = [
    "9**9**9**9",
    "2**100000000",
    "(" * 100 + "x" + ")" * 100,
    "(" * 5000 + "x" + ")" * 5000,
    "-" * 9999 + "x",
    "x**" * 3000 + "x",
    "x+" * 4999 + "x",
    "not " * 2400 + "x",
    "sigmoid(" * 100 + "x" + ")" * 100,
    "(x+1)**" * 150 + "2",
    "sin(" * 100 + "1" + ")" * 100,
    "exp(" * 100 + "0.5" + ")" * 100,
    "Max(" * 50 + "x" + ", y)" * 50,
    "1" * 9999,
    "x" * 10_000,
    "x" * 10_001,
    "1." + "1" * 9997,
    "*".join(["9**4000"] * 1250)[:9990].rsplit("*", 2)[0],
    "+".join(f"1/{p}" for p in sp.primerange(2, 8000))[:9990].rsplit("+", 1)[0],
    "*".join(f"sqrt({p})" for p in sp.primerange(2, 8000))[:9990].rsplit("*", 1)[0],
    "1e308**1e308**1e308",
    "gamma(" * 30 + "1000" + ")" * 30,
    "[" * 99 + "]" * 99,
    "'" + "a" * 9990 + "'",
]


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:20]) for t in HOSTILE])
def test_hostile_inputs_return_fast(text):
    # CPU time of this thread only (process_time also counts other threads, e.g. BLAS workers
    # left spinning by earlier tests); the parser's own budget is 0.5 s, a hang would be minutes
    start = time.thread_time()
    try:
        result = parse(text)
    except ParseError:
        pass
    else:
        assert isinstance(result, sp.Expr)
    assert time.thread_time() - start < 2.0
