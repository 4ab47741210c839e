"""Block losses, symbolically: building them, shape errors, the derivation, the display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp

import symcalc as sc
from symcalc.blocks.nodes import Dot, Elementwise, LogSumExp, Norm2, Softmax, explicit
from symcalc.errors import ShapeError, SymbolError

w, x = sc.vector("w", 3), sc.vector("x", 3)
W, y, bv = sc.matrix("W", 2, 3), sc.vector("y", 2), sc.vector("bv", 2)
b, t = sp.symbols("b t")


# ------------------------------------------------------------------------------ building
def test_blocks_are_matrix_symbols_and_functions_dispatch():
    assert isinstance(w, sp.MatrixSymbol) and w.shape == (3, 1) and W.shape == (2, 3)
    assert isinstance(sc.dot(w, x), Dot) and sc.dot(w, x).is_commutative
    assert (W @ x).shape == (2, 1) and (W * x).shape == (2, 1)
    assert isinstance(sc.sigmoid(W @ x), Elementwise) and isinstance(sc.sigmoid(b), sc.sigmoid)
    assert isinstance(sc.logsumexp(W @ x), LogSumExp) and isinstance(sc.logsumexp(b, t), sc.logsumexp)
    assert isinstance(sc.softmax(W @ x), Softmax) and sc.softmax(b, t).shape == (2, 1)
    assert isinstance(sc.norm2(w), Norm2) and sc.exp(b) == sp.exp(b)
    assert sc.elementwise(lambda u: u**2, w).shape == (3, 1)
    assert sc.elementwise(sp.tanh, b) == sp.tanh(b)


def test_user_matrix_symbols_work_too():
    v, z = sp.MatrixSymbol("v", 3, 1), sp.MatrixSymbol("z", 3, 1)
    loss = sc.Loss((sc.dot(v, z) - t) ** 2, params=[v], data=[z, t])
    f = loss.compile()
    X = np.arange(6.0).reshape(2, 3)
    assert f.value({"v": [1.0, 0.0, 0.0]}, {z: X, t: [0.0, 3.0]}) == pytest.approx(0.0)


def test_explicit_form_is_the_entrywise_reference():
    e = explicit(sc.dot(w, x) + sc.norm2(w))
    w0, x0 = w[0, 0], x[0, 0]
    assert sp.diff(e, w0) == x0 + 2 * w0


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: W @ sc.vector("v", 4), r"W @ v: W \(2 x 3\) needs a right operand with 3 rows; got v \(4 x 1\)"),
        (lambda: W * w.T, r"W \* w.T: W \(2 x 3\) needs a right operand with 3 rows; got w.T \(1 x 3\)"),
        (lambda: sc.dot(w, b), r"dot\(w, b\): b \(scalar\) is a scalar; expected a vector of length 3"),
        (lambda: sc.dot(b, x), r"dot\(b, x\): b \(scalar\) is a scalar; expected a vector of length 3"),
        (lambda: sc.dot(w, y), r"dot\(w, y\): lengths differ; w \(3 x 1\) expects a vector of length 3, got y \(2 x 1\)"),
        (lambda: sc.dot(W, x), r"dot\(W, x\): W \(2 x 3\) is a matrix; expected a vector of length 3"),
        (lambda: W @ x + w, r"W\*x \+ w: shapes differ; W\*x \(2 x 1\) expects a 2 x 1 operand, got w \(3 x 1\)"),
        (lambda: w + 1, r"cannot add a scalar and a block"),
        (lambda: sc.sum(b), r"sum\(b\): b \(scalar\) is a scalar; expected a vector or matrix"),
        (lambda: sc.logsumexp(W), r"logsumexp\(W\): W \(2 x 3\) is a matrix; expected a vector"),
    ],
)
def test_shape_errors_name_the_blocks_and_shapes(build, match):
    with pytest.raises(ShapeError, match=match):
        build()


def test_bad_names_and_roles():
    with pytest.raises(SymbolError, match="a block name must be an identifier"):
        sc.vector("w 1", 3)
    with pytest.raises(sc.SymcalcError, match="n must be >= 1; got 0"):
        sc.vector("w", 0)
    with pytest.raises(sc.SymcalcError, match="loss must be a scalar expression; got a 2x1 matrix"):
        sc.Loss(W @ x, params=[W], data=[x])
    with pytest.raises(SymbolError, match=r"neither params \['w'\] nor data \['x'\]"):
        sc.Loss(sc.dot(w, x) + b, params=[w], data=[x])


# ------------------------------------------------------------------------------ data and theta
@pytest.fixture(scope="module")
def logistic():
    z = sc.dot(w, x) + b
    return sc.Loss(sc.softplus(z) - t * z + 0.005 * sc.norm2(w), params=[w, b], data=[x, t])


def test_bad_theta_and_data_shapes(logistic):
    f = logistic.compile()
    X, T = np.ones((4, 3)), np.zeros(4)
    with pytest.raises(ShapeError, match=r"data\['x'\] has 2 columns; expected 3 for the data block x \(3 x 1\)"):
        f.value({w: np.zeros(3), b: 0.0}, {x: np.ones((4, 2)), t: T})
    with pytest.raises(ShapeError, match=r"data\['x'\] must have shape \(N, 3\) for the data block x \(3 x 1\)"):
        f.value({w: np.zeros(3), b: 0.0}, {x: np.ones(4), t: T})
    with pytest.raises(ShapeError, match=r"theta\['w'\] has shape \(2,\); expected \(3,\) for the parameter block w \(3 x 1\)"):
        f.value({w: np.zeros(2), b: 0.0}, {x: X, t: T})
    with pytest.raises(ShapeError, match=r"theta has length 3; expected 4 \(values per parameter w: 3, b: 1\)"):
        f.value(np.zeros(3), {x: X, t: T})
    with pytest.raises(ShapeError, match=r"same length; got x: 4, t: 3"):
        f.value(np.zeros(4), {x: X, t: T[:3]})
    with pytest.raises(SymbolError, match=r"missing symbol 'x'.*sc.columns\(df, x=\[...\]\)"):
        f.value(np.zeros(4), pd.DataFrame({"a": [1.0], "t": [0.0]}))
    with pytest.raises(sc.NonFiniteError, match=r"data\['x'\] contains nan at row 2, column 1"):
        bad = X.copy()
        bad[2, 1] = np.nan
        f.value(np.zeros(4), {x: bad, t: T})


def test_columns_feed_blocks_from_a_dataframe(logistic):
    df = pd.DataFrame({"a": [1.0, 2.0], "c": [0.5, 0.0], "d": [3.0, 1.0], "t": [1.0, 0.0]})
    data = sc.columns(df, x=["d", "a", "c"])
    assert data["x"].tolist() == [[3.0, 1.0, 0.5], [1.0, 2.0, 0.0]] and list(data["t"]) == [1.0, 0.0]
    star = sc.columns(df, x="*", t="t")
    assert star.names["x"] == ["a", "c", "d"]
    f = logistic.compile()
    theta = {w: np.array([0.1, -0.2, 0.3]), b: 0.4}
    X = df[["a", "c", "d"]].to_numpy()
    assert f.value(theta, star) == pytest.approx(f.value(theta, {x: X, t: df["t"]}))
    with pytest.raises(SymbolError, match=r"columns for 'x': no column 'zz'; columns are"):
        sc.columns(df, x=["a", "zz"])
    with pytest.raises(SymbolError, match=r"only one data block can take the remaining columns"):
        sc.columns(df, x="*", u="*")


# ------------------------------------------------------------------------------ derivation
def test_gradient_is_one_block_expression_per_parameter(logistic):
    g = logistic.gradient()
    assert len(g) == 2 and isinstance(g[w], sp.MatrixExpr) and g[w].shape == (3, 1)
    assert not isinstance(g[b], sp.MatrixExpr)
    z = sc.dot(w, x) + b
    assert g[b] == sc.sigmoid(z) - t
    assert sp.simplify(explicit(g[w]) - explicit((sc.sigmoid(z) - t) * x + 0.01 * w)) == sp.zeros(3, 1)
    assert str(g) == "z = b + dot(w, x)\nd/dw = (-t + sigmoid(z))*x + 0.01*w\nd/db = -t + sigmoid(z)"
    assert logistic.partial("b") == g[1]


def test_block_gradient_equals_the_entrywise_derivative():
    """The one block derivation against sympy.diff of the expanded loss, entry by entry."""
    z = W @ x + bv
    loss = sc.Loss(sc.logsumexp(z) - sc.dot(y, z) + sc.norm2(W), params=[W, bv], data=[x, y])
    g = loss.gradient()
    flat = explicit(loss.expr)
    for i in range(2):
        for j in range(3):
            want = sp.diff(flat, W[i, j])
            got = explicit(g[W])[i, j]
            atoms = sorted(flat.atoms(sp.matrices.expressions.matexpr.MatrixElement), key=str)
            point = {s: sp.Rational(k + 1, 7) for k, s in enumerate(atoms)}
            assert abs(float((got - want).subs(point).evalf(30))) < 1e-25


def test_softmax_gradient_displays_in_matrix_form():
    z = W @ x + bv
    loss = sc.Loss(sc.logsumexp(z) - sc.dot(y, z), params=[W, bv], data=[x, y])
    text = str(loss.gradient())
    assert text == "z = W*x + bv\nd/dW = (-y + softmax(z))*x.T\nd/dbv = -y + softmax(z)"
    assert r"\operatorname{softmax}\left(z\right)" in loss.gradient().latex()


def test_breast_cancer_gradient_latex_is_short():
    w30, x30 = sc.vector("w", 30), sc.vector("x", 30)
    z = sc.dot(w30, x30) + b
    loss = sc.Loss(sc.softplus(z) - t * z + 0.005 * sc.norm2(w30), params=[w30, b], data=[x30, t])
    tex = loss.gradient()._repr_latex_()
    assert len(tex) < 300 and sp.latex(loss.gradient()) == loss.gradient().latex()
    assert len(loss.latex()) < 450 and r"w \cdot x" in loss.latex()


def test_hessian_blocks(logistic):
    H = logistic.hessian()
    z = sc.dot(w, x) + b
    s = sc.sigmoid(z)
    assert H[b, b] == (1 - s) * s
    assert sp.simplify(explicit(H[w, w]) - explicit((1 - s) * s * x * x.T + 0.01 * sp.Identity(3))) == sp.zeros(3, 3)
    assert H[b, w].shape == (1, 3) and H[w, b].shape == (3, 1)
    assert "d2/dw dw = ((1 - sigmoid(z))*sigmoid(z))*(x*x.T) + 0.01*I" in str(H)


def test_compiled_code_uses_one_matrix_product_per_map():
    z = W @ x + bv
    loss = sc.Loss(sc.logsumexp(z) - sc.dot(y, z), params=[W, bv], data=[x, y])
    src = loss.compile().source
    assert "numpy.dot(_p0, numpy.transpose(_d0))" in src and "numpy.dot(_rr" in src  # W, x renamed
    assert "numpy.logaddexp(" in src  # log-sum-exp of two logits, overflow-free


# ------------------------------------------------------------------------------ formula text
def test_parse_with_declared_blocks_builds_the_same_loss():
    text = "logsumexp(W*x + bv) - dot(y, W*x + bv) + 0.01*norm2(W)"
    got = sc.parse(text, symbols={"W": W, "x": x, "bv": bv, "y": y})
    z = W @ x + bv
    assert got == sc.logsumexp(z) - sc.dot(y, z) + 0.01 * sc.norm2(W)
    elementwise = sc.parse("norm2(tanh(W*x)) + dot(w, x^2)", symbols=[W, x, w])
    assert elementwise == sc.norm2(sc.tanh(W @ x)) + sc.dot(w, sc.elementwise(lambda u: u**2, x))
    loss = sc.Loss("softplus(dot(w, x) + b) - t*(dot(w, x) + b)", params=[w, "b"], data=[x, "t"])
    assert str(loss.gradient()).splitlines()[1] == "d/dw = (-t + sigmoid(z))*x"


@pytest.mark.parametrize(
    "text, match",
    [
        ("x*x", r"x \* x: x \(3 x 1\) needs a right operand with 1 rows; got x \(3 x 1\) \(for an inner product use sc.dot\)"),
        ("x + 1", r"x \+ 1: cannot add a scalar and a block"),
        ("W*x + w", r"W\*x \+ w: shapes differ; W\*x \(2 x 1\) expects a 2 x 1 operand, got w \(3 x 1\)"),
        ("dot(w, q)", r"dot\(w, q\): q \(scalar\) is a scalar; expected a vector of length 3"),
        ("softmax(q)", r"softmax\(q\): q is a scalar; expected a vector"),
    ],
)
def test_parse_shape_errors(text, match):
    with pytest.raises(ShapeError, match=match):
        sc.parse(text, symbols={"W": W, "x": x, "w": w})


def test_display_names_the_affine_argument_inside_other_functions():
    """``log(1 + exp(-t*z))``: z is the affine ``w.x + b``, not the whole ``1 + exp(...)``,
    and the coefficient is shown folded (the readable form)."""
    z = sc.dot(w, x) + b
    loss = sc.Loss(sc.log(1 + sc.exp(-t * z)) + 0.01 * sc.norm2(w), params=[w, b], data=[x, t])
    text = str(loss.gradient())
    assert text.splitlines()[0] == "z = b + dot(w, x)" and "sigmoid(t*z)" in text
    shown = loss.display()
    assert str(shown).splitlines()[1] == "loss = log(1 + exp(-t*z)) + 0.01*norm2(w)"


def test_explain_walks_the_block_rules():
    z = W @ x + bv
    loss = sc.Loss(-sc.dot(y, sc.log(sc.softmax(z))), params=[W, bv], data=[x, y])
    d = loss.explain(W)
    rules = [s.rule for s in d.steps]
    assert d.verified and "matrix-vector rule" in rules and "softmax rule" in rules
    assert d.result == loss.gradient()[W]
    e = sc.Loss(sc.logsumexp(z) - sc.dot(y, z) + sc.norm2(W), params=[W, bv], data=[x, y]).explain(W)
    assert {"log-sum-exp rule", "squared norm rule", "chain rule"} <= {s.rule for s in e.steps}
    assert e.verified


def test_two_layer_gradient_is_shown_in_block_form():
    V, a, c = sc.matrix("V", 3, 3), sc.vector("a", 3), sc.vector("c", 3)
    d = sp.Symbol("d")
    loss = sc.Loss((sc.dot(a, sc.tanh(V @ x + c)) + d - t) ** 2, params=[V, c, a, d], data=[x, t])
    g = loss.gradient()
    assert "Matrix(" not in str(g) and "dot(a, tanh(z))" in str(g)  # nothing entry by entry
    assert str(g).splitlines()[0] == "z = V*x + c" and g[V].shape == (3, 3)
    for p in (V, c, a):  # the block forms equal the entrywise derivatives
        flat = explicit(loss.expr)
        atoms = sorted(flat.atoms(sp.matrices.expressions.matexpr.MatrixElement) | {d, t}, key=str)
        point = {s: sp.Rational(k % 7 - 3, 5) for k, s in enumerate(atoms)}
        got = sp.Matrix(explicit(g[p])).xreplace(point)
        want = sp.Matrix(p.shape[0], p.shape[1], lambda i, j: sp.diff(flat, p[i, j])).xreplace(point)
        assert max(abs(float((u - v).evalf(30))) for u, v in zip(got, want)) < 1e-25
