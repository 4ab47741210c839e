"""Hostile SymPy objects built in Python never reach executed code (issue 19, items 1, 2, 9).

Formula text goes through the parser (see ``test_security_fuzz.py``); here the attacker builds
SymPy objects directly, with names that are Python payloads, and puts them in every position
that reaches generated or lambdified source: parameters, data columns, bound variables,
function heads, Dummy and matrix symbols, activations, integrands, limits, explain and the
stability bound. Every attempt must end in a correct value or a ``SymcalcError``, and the
canary file must never appear. The counts are checked (and printed with ``-s``) at the end.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcalc as sc
from symcalc._safety import compile_generated
from symcalc.compile import compile_elementwise
from symcalc.errors import SymbolError, SymcalcError

TRIED = {"attempts": 0, "values": 0, "refused": 0}


@pytest.fixture(scope="module")
def canary(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("objects") / "CANARY"


def _names(canary: Path) -> list[str]:
    """Symbol/function names that are Python payloads writing the canary file."""
    c = str(canary.resolve())
    return [
        f"__import__('os').system('touch {c}')",
        f"t=__import__('os').system('touch {c}')",
        f"__import__('os').system('touch {c}') or exp",
        f"x)\nimport os\nos.system('touch {c}')\n(x",
        f"x # \n__import__('pathlib').Path({c!r}).touch()",
        f"open({c!r}, 'w').close() or x",
        f"(lambda: open({c!r}, 'w'))()",
        f"exec(\"open({c!r}, 'w')\")",
        f"x\u2028__import__('os').system('touch {c}')",
        f"x\r__import__('os').system('touch {c}')",
        "abs", "min", "range", "numpy", "numba", "scipy", "math", "lambda", "_theta",
        "_t0", "_p0", "_n", "__builtins__", "print", "len", "None",
    ]


def _attempt(canary: Path, fn, expected=None) -> None:
    """Run one attempt: a value (equal to ``expected`` when given) or a SymcalcError."""
    TRIED["attempts"] += 1
    try:
        value = fn()
    except SymcalcError:
        TRIED["refused"] += 1
    else:
        TRIED["values"] += 1
        if expected is not None:
            np.testing.assert_allclose(value, expected, rtol=1e-12)
    assert not canary.exists(), "a hostile name ran code"


# ------------------------------------------------------------------ the reproductions
def test_bound_variable_of_an_integral_is_refused(canary):
    w, x = sp.symbols("w x")
    t = sp.Symbol(f"t=__import__('os').system('touch {canary.resolve()}')")
    loss = (sp.Integral(w * t * x, (t, 0, 1)) - 1) ** 2
    with pytest.raises(SymcalcError, match=r"the loss contains an integral, .*Integral"):
        sc.Loss(loss, params=[w], data=[x])
    with pytest.raises(SymcalcError, match="the elementwise expression contains an integral"):
        compile_elementwise([sp.Integral(x * t, (t, 0, 1))], [x])
    assert not canary.exists()


def test_undefined_function_is_refused_by_integrate_and_limit(canary):
    x = sp.Symbol("x")
    f = sp.Function(f"__import__('os').system('touch {canary.resolve()}') or exp")
    with pytest.raises(SymcalcError, match=r"undefined function .*__import__"):
        sc.integrate(f(x), (x, 0, 1))
    with pytest.raises(SymcalcError, match=r"undefined function .*__import__"):
        sc.limit(f(x), x, 0)
    with pytest.raises(SymcalcError, match="the loss uses the undefined function 'f'"):
        sc.Loss((sp.Function("f")(x) - x) ** 2, params=[x])
    assert not canary.exists()


@pytest.mark.parametrize("node, match", [
    (lambda x, t: sp.Sum(x ** t, (t, 0, 3)), "a sum"),
    (lambda x, t: sp.Product(x + t, (t, 1, 3)), "a product"),
    (lambda x, t: sp.Derivative(sp.Function("g")(x), x), "unevaluated derivative"),
    (lambda x, t: sp.Subs(sp.Function("g")(t), t, x), "Subs"),
    (lambda x, t: x * sp.Dummy("evil"), "of type Dummy"),
    (lambda x, t: x * sp.Wild("evil"), "of type Wild"),
    (lambda x, t: x * sp.IndexedBase("A")[1], "Indexed"),
    # an entry of a block is a block loss: the block needs a role like any symbol
    (lambda x, t: x * sp.MatrixSymbol("M", 2, 2)[0, 0], r"MatrixElement|symbol\(s\) \['M'\] that are neither"),
    (lambda x, t: x * sp.KroneckerDelta(x, t), "the function KroneckerDelta"),
])
def test_nodes_the_compile_path_cannot_evaluate_are_named(node, match):
    x, t = sp.symbols("x t")
    expr = node(x, t)
    with pytest.raises(SymcalcError, match=match):
        sc.Loss(expr, params=[x], data=[])
    with pytest.raises(SymcalcError, match=match):
        compile_elementwise([expr], [x])


def test_piecewise_conditions_pass_but_bare_relations_do_not():
    x, w = sp.symbols("x w")
    f = sc.Loss((sp.Piecewise((w, x > 0.5), (2 * w, True)) - 1) ** 2, params=[w], data=[x])
    assert f.compile().value([1.0], {x: [1.0, 0.0]}) == pytest.approx((0 + 1) / 2)
    with pytest.raises(SymcalcError, match="condition 'x > 0' outside a Piecewise"):
        compile_elementwise([sp.Heaviside(x), sp.Gt(x, 0)], [x])


# ------------------------------------------------------------------ names in every position
def test_hostile_param_and_data_names_are_renamed(canary):
    rows = np.array([1.0, 2.0, 4.0])
    for name in _names(canary):
        p, d = sp.Symbol(name), sp.Symbol(name + "_col")
        f = sc.Loss((p * d - 1) ** 2 + p**2, params=[p], data=[d]).compile()
        expected = np.mean((0.5 * rows - 1) ** 2) + 0.25
        _attempt(canary, lambda: f.value([0.5], {d: rows}), expected)
        grad = [np.mean(2 * (0.5 * rows - 1) * rows) + 1]
        _attempt(canary, lambda: f.grad([0.5], {d: rows}), grad)
        hess = [[np.mean(2 * rows**2) + 2]]
        _attempt(canary, lambda: f.hessian([0.5], {name + "_col": rows}), hess)
        if "(" in name:  # a payload appears only in the legend comment, as an ascii() literal
            assert name not in f.source.split("\n", 1)[1]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_names_that_shadow_builtins_and_modules_compute_correctly(canary, backend):
    # issue item 9: 'abs' on NumPy, 'abs'/'min'/'range'/'numba' on numba crashed; one numba
    # compile (slow) also carries two payload names
    a, m, r, nb, npy = sp.symbols("abs min range numba numpy", real=True)
    evil_p, evil_d = (sp.Symbol(n) for n in _names(canary)[:2])
    expr = (a * m - r) ** 2 + nb * npy + sp.Abs(a) + evil_p * evil_d
    data = {"min": [1.0, 2.0], "range": [0.5, 1.0], "numpy": [3.0, 1.0], evil_d: [1.0, 3.0]}
    f = sc.Loss(expr, params=[a, nb, evil_p], data=[m, r, npy, evil_d]).compile(backend=backend)
    v, g = f.value_and_grad([2.0, 0.5, -1.0], data)
    assert v == pytest.approx(((2 - 0.5) ** 2 + (4 - 1) ** 2) / 2 + 0.5 * 2 + 2 - 2)
    np.testing.assert_allclose(g, [((2 - 0.5) * 2 * 1 + (4 - 1) * 2 * 2) / 2 + 1, 2.0, 2.0])
    assert not canary.exists()


def test_hostile_function_heads_and_bound_variables_everywhere(canary):
    x, w = sp.symbols("x w")
    for name in _names(canary):
        f = sp.Function(name)
        t = sp.Symbol(name)
        for expr in (f(x), w * f(x) + x, sp.Integral(x * t, (t, 0, 1)), sp.Sum(t * x, (t, 0, 2)),
                     sp.Lambda(t, t * x), x * sp.Dummy(name), x * sp.MatrixSymbol(name, 1, 1)[0, 0],
                     x * sp.IndexedBase(name)[0]):
            _attempt(canary, lambda: sc.Loss(expr, params=[x], data=[]).compile().value([1.0]))
            _attempt(canary, lambda: compile_elementwise([expr], [x])(1.0))
            _attempt(canary, lambda: sc.integrate(expr, (x, 0, 1), timeout=5).numeric)
        # limit and explain fork SymPy: a few expressions per name keep the module fast
        _attempt(canary, lambda: sc.limit(f(x), x, 0, timeout=5))
        _attempt(canary, lambda: sc.explain(f(x) * sp.sin(x), x, timeout=5))
    assert not canary.exists()


def test_hostile_names_in_integrate_limit_activation_and_stability(canary):
    for name in _names(canary)[::3]:  # each call forks or compiles: every third name
        v = sp.Symbol(name)
        _attempt(canary, lambda: sc.integrate(sp.exp(-v**2), (v, 0, 1), timeout=5).numeric,
                 0.7468241328124270)
        _attempt(canary, lambda: sc.limit(sp.sin(v) / v, v, 0, timeout=5).numeric, 1.0)
        act = sc.nn.Activation(sp.tanh(v) * v)
        _attempt(canary, lambda: act.value_and_derivative([0.5])[0], [0.5 * np.tanh(0.5)])
        d = sp.Symbol(name + "_x")
        loss = sc.Loss((v * d - 1) ** 2, params=[v], data=[d])
        _attempt(canary, lambda: sc.stable_learning_rate(loss, {d: [1.0, 3.0]}).bound, 2 / 10)
    assert not canary.exists()


HOSTILE_CHARS = st.lists(
    st.sampled_from(list("x_()[]{}'\";:=.,+-*/#@!\\ \n\r\t\u2028\x00") +
                    list("abcdefghijklmnopqrstuvwxyz") + ["__", "os", "import", "exec("]),
    min_size=1, max_size=20,
).map("".join)


@settings(derandomize=True, database=None, deadline=None, max_examples=120,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=HOSTILE_CHARS, position=st.sampled_from(["param", "data", "bound", "head", "dummy",
                                                     "matrix", "activation", "integrate"]))
def test_random_names_in_random_positions(canary, name, position):
    payload = f"{name}__import__('os').system('touch {canary.resolve()}')"
    x, w = sp.symbols("x w", real=True)
    s = sp.Symbol(payload, real=True)
    if position == "param":
        f = sc.Loss((s * x - 1) ** 2, params=[s], data=[x]).compile()
        _attempt(canary, lambda: f.value([2.0], {x: [1.0, 0.5]}), 0.5)
    elif position == "data":
        f = sc.Loss((w * s - 1) ** 2, params=[w], data=[s]).compile()
        _attempt(canary, lambda: f.value_and_grad([2.0], {payload: [1.0, 0.5]})[1], [1.0])
    elif position == "bound":
        _attempt(canary, lambda: sc.Loss(sp.Integral(w * s, (s, 0, 1)), params=[w]))
    elif position == "head":
        _attempt(canary, lambda: compile_elementwise([sp.Function(payload)(x)], [x]))
    elif position == "dummy":
        _attempt(canary, lambda: sc.integrate(x * sp.Dummy(payload), (x, 0, 1)))
    elif position == "matrix":
        _attempt(canary, lambda: sc.limit(x * sp.MatrixSymbol(payload, 1, 1)[0, 0], x, 0))
    elif position == "activation":
        act = sc.nn.Activation(sp.tanh(s))
        _attempt(canary, lambda: act([0.5]), [np.tanh(0.5)])
    else:
        _attempt(canary, lambda: sc.integrate(s**2, (s, 0, 1), timeout=5).numeric, 1 / 3)


def test_hostile_activation_name_trains_a_network(canary):
    z = sp.Symbol(f"z');__import__('os').system('touch {canary.resolve()}')#")
    model = sc.nn.Sequential([sc.nn.Dense(3, activation=sp.tanh(z), input_dim=2),
                              sc.nn.Dense(1)], seed=0)
    model.compile(optimizer="sgd", loss="mse", learning_rate=0.1)
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    hist = model.fit(X, np.array([[1.0], [1.0], [0.0]]), epochs=3, batch_size=3)
    TRIED["attempts"] += 1
    TRIED["values"] += 1
    assert len(hist.history["loss"]) == 3 and np.isfinite(hist.history["loss"]).all()
    assert model.gradient_check(X, np.array([[1.0], [1.0], [0.0]])) < 1e-6
    assert not canary.exists()


def test_text_never_reaches_sympify(canary):
    payload = f"__import__('os').system('touch {canary.resolve()}')"
    with pytest.raises(SymcalcError, match="SymPy expressions or numbers"):
        compile_elementwise([payload], [sp.Symbol("x")])
    for fn in (sc.softmax, sc.sigmoid, sc.softplus, sc.relu, sc.logsumexp):
        with pytest.raises(SymcalcError, match="not text"):
            fn(payload)
    assert not canary.exists()


def test_duplicate_parameter_names_are_refused():
    # issue item 11: two symbols named w (different assumptions) were accepted as (w, w)
    with pytest.raises(SymbolError, match="params holds two different symbols named 'w'"):
        sc.Loss(sp.Symbol("w") ** 2, params=[sp.Symbol("w"), sp.Symbol("w", positive=True)])
    with pytest.raises(SymbolError, match="data holds two different symbols named 'x'"):
        sc.Loss(sp.Symbol("w") ** 2, params=["w"], data=[sp.Symbol("x"), sp.Symbol("x", real=True)])


# ------------------------------------------------------------------ generated source audit
@pytest.mark.parametrize("source, match", [
    ("def _f(_a):\n    return open('x')\n", "uses the name 'open'"),
    ("def _f(_a):\n    return (lambda: 1)()\n", "Lambda"),
    ("def _f(_a):\n    return numpy.__class__\n", "private attribute"),
    ("def _f(_a):\n    return _a.__class__\n", "private attribute"),
    ("def _f(_a):\n    return _a.tofile\n", "attribute 'tofile'"),
    ("def f(_a):\n    return _a\n", "defines the name 'f'"),
    ("import os\n", "Import"),
    ("def _f(_a):\n    __import__('os')\n", "__import__"),
])
def test_generated_source_audit_refuses_foreign_names(source, match):
    with pytest.raises(SymcalcError, match=match):
        compile_generated(source, "<test>")


def test_generated_kernels_contain_only_generated_names():
    w, x = sp.symbols("lambda x", real=True)
    f = sc.Loss(sp.log(1 + sp.exp(-w * x)) + w**2, params=[w], data=[x]).compile()
    f.hessian([0.3], {x: [1.0]})
    body = f.source.split("\n", 1)[1]
    names = {n.id for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Name)}
    assert names <= {"numpy", "scipy", "_theta", "_cols", "_n", "_p0", "_d0"} | {
        n for n in names if n.startswith(("_t", "_h"))}
    assert f.source.startswith("# _p0 = 'lambda', _d0 = 'x'\n")


def test_zz_counts(canary):
    """Runs last: the attempts above really ran; none created the canary."""
    print(f"\nsecurity objects: {TRIED['attempts']} hostile SymPy-object attempts, "
          f"{TRIED['values']} computed (correct values checked), {TRIED['refused']} refused")
    assert TRIED["attempts"] >= 500 and TRIED["values"] >= 100 and TRIED["refused"] >= 300
    assert not canary.exists()


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_hostile_block_names_and_functions_on_blocks(canary, backend):
    """Vector/matrix losses go through the same gate: blocks are renamed, the lowered core and
    the functions applied entry by entry are checked before any code is generated."""
    if backend == "numba":
        pytest.importorskip("numba")
    t = sp.Symbol("t")
    for name in _names(canary)[:3]:
        w, x = sp.MatrixSymbol(name, 2, 1), sp.MatrixSymbol("x" + name, 2, 1)
        data = {x: np.ones((3, 2))}
        theta = np.array([1.0, 2.0])
        _attempt(canary, lambda: sc.Loss(sc.dot(w, x) ** 2, params=[w], data=[x]).compile(
            backend=backend).value(theta, data), expected=9.0)
        for expr in (sp.Function(name)(sc.dot(w, x)),
                     sc.sum(sc.elementwise(sp.Lambda(t, sp.Function(name)(t)), w))):
            with pytest.raises(SymcalcError, match="undefined function"):
                sc.Loss(expr, params=[w], data=[x] if expr.has(x) else []).compile(backend=backend)
    assert not canary.exists()
