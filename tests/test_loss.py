"""Loss: symbol roles, exact derivatives (against hand-derived forms), display, errors."""

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import SymbolError, SymcalcError

w, b, x, y, z = sp.symbols("w b x y z")


def test_gradient_matches_hand_derivation_in_params_order():
    loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
    g = loss.gradient()
    assert g.shape == (2, 1)
    assert sp.simplify(g[0] - 2 * x * (w * x + b - y)) == 0
    assert sp.simplify(g[1] - 2 * (w * x + b - y)) == 0
    assert sp.simplify(loss.partial("w") - g[0]) == 0
    assert sp.simplify(loss.partial(b) - g[1]) == 0


def test_hessian_is_symmetric_and_hand_derived():
    loss = sc.Loss(sp.exp(w * b) + w**3 * x, params=[w, b], data=[x])
    h = loss.hessian()
    assert sp.simplify(h[0, 0] - (b**2 * sp.exp(w * b) + 6 * w * x)) == 0
    assert sp.simplify(h[0, 1] - (sp.exp(w * b) + w * b * sp.exp(w * b))) == 0
    assert h[0, 1] == h[1, 0]
    assert sp.simplify(h[1, 1] - w**2 * sp.exp(w * b)) == 0


def test_derivatives_are_cached():
    loss = sc.Loss(sp.sin(w) * x, params=[w], data=[x])
    assert loss.gradient() is loss.gradient()
    assert loss.hessian() is loss.hessian()
    assert loss.compile() is loss.compile()


def test_string_formula_and_names_bind_to_expression_symbols():
    wp = sp.Symbol("w", positive=True)
    loss = sc.Loss(sp.log(wp) * x, params=["w"], data=["x"])
    assert loss.params[0] is wp
    assert loss.data == (x,)


def test_reduce_choice_and_no_data_loss():
    loss = sc.Loss((w - 3) ** 2 + (b + 1) ** 2, params=[w, b])
    f = loss.compile()
    assert f.value([3.0, -1.0]) == 0.0
    np.testing.assert_allclose(f.grad([0.0, 0.0]), [-6.0, 2.0])
    with pytest.raises(SymcalcError, match="reduce must be one of 'mean', 'sum'; got 'avg'"):
        sc.Loss(w**2, params=[w], reduce="avg")


def test_latex_shows_loss_and_gradient():
    loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
    tex = loss._repr_latex_()
    assert tex.startswith("$$") and r"\frac{1}{N}\sum_{i=1}^{N}" in tex
    assert r"\frac{\partial \ell}{\partial w}" in tex
    assert sp.latex(loss.gradient()[0]) in tex
    assert r"\sum_{i=1}^{N}" in sc.Loss(w * x, params=[w], data=[x], reduce="sum").latex()
    assert r"\mathcal{L}(w) &= w^{2}" in sc.Loss(w**2, params=[w]).latex()


def test_repr_names_roles():
    loss = sc.Loss(w * x, params=[w], data=[x])
    assert repr(loss) == "Loss(w*x, params=[w], data=[x], reduce='mean')"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(expr=w * x + z, params=[w], data=[x]), SymbolError, r"\['z'\] that are neither"),
        (dict(expr=w * x, params=[w], data=[w, x]), SymbolError, r"\['w'\] are listed as both"),
        (dict(expr=w * x, params=[w, w], data=[x]), SymbolError, "lists w more than once"),
        (dict(expr=w * x, params=[], data=[x]), SymbolError, "params is empty"),
        (dict(expr=w * x, params=[3], data=[x]), SymbolError, "params entry must be a sympy Symbol"),
        (dict(expr=w * x, params=["w x"], data=[x]), SymbolError, "symbol name like"),
        (dict(expr=sp.Matrix([w, x]), params=[w], data=[x]), SymcalcError, "2x1 Matrix"),
        (dict(expr=[w], params=[w]), SymcalcError, "sympy expression or a formula string"),
        (dict(expr=sp.I * w, params=[w]), SymcalcError, "real and finite"),
    ],
)
def test_bad_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        sc.Loss(**kwargs)


def test_two_symbols_with_one_name_are_rejected():
    with pytest.raises(SymbolError, match="two different symbols named 'w'"):
        sc.Loss(w + sp.Symbol("w", positive=True), params=[w])


def test_unused_parameter_warns():
    with pytest.warns(UserWarning, match=r"\['b'\] do not appear"):
        sc.Loss(w**2, params=[w, b])


def test_partial_of_unknown_parameter():
    loss = sc.Loss(w * x, params=[w], data=[x])
    with pytest.raises(SymbolError, match="'x' is not a parameter of this loss; parameters are"):
        loss.partial(x)


def test_check_gradient_reports_per_parameter_table():
    loss = sc.Loss(sp.log(1 + sp.exp(-y * (w * x + b))), params=[w, b], data=[x, y])
    data = {"x": [1.0, 2.0, -1.0], "y": [1.0, -1.0, 1.0]}
    chk = loss.check_gradient([0.3, -0.2], data)
    assert chk.ok and chk.max_rel_error < 1e-8 and chk.hessian_max_rel_error < 1e-6
    assert chk.names == ["w", "b"]
    # the analytic column is the exact gradient: mean of -y x sigmoid(-y z)
    xs, ys = np.array(data["x"]), np.array(data["y"])
    zz = 0.3 * xs - 0.2
    s = 1 / (1 + np.exp(ys * zz))
    np.testing.assert_allclose(chk.analytic, [np.mean(-ys * xs * s), np.mean(-ys * s)], rtol=1e-12)
    assert "param" in chk.table() and "ok" in str(chk)
