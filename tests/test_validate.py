"""The one validation layer: conversions, messages naming the argument, symbol binding."""

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from symcalc._expressions import as_expr
from symcalc._validate import (
    as_finite_float,
    as_float_array,
    as_rng,
    as_symbol,
    as_symbol_tuple,
    as_theta,
    bind_data,
    check_choice,
    check_equal_lengths,
    check_int,
    check_positive,
    resolve_symbol,
)
from symcalc.errors import DataError, NonFiniteError, ParseError, ShapeError, SymbolError, SymcalcError

x, y = sp.symbols("x y")


def test_as_float_array_converts_ints_bools_and_series():
    np.testing.assert_array_equal(as_float_array([1, 2], "a"), [1.0, 2.0])
    assert as_float_array(np.array([True, False]), "a").dtype == np.float64
    np.testing.assert_array_equal(as_float_array(pd.Series([1.5, 2.5]), "a"), [1.5, 2.5])
    np.testing.assert_array_equal(as_float_array(np.array(["1.5", "2"], dtype=object), "a"), [1.5, 2.0])


@pytest.mark.parametrize(
    "value, kwargs, error, match",
    [
        ("abc", {}, DataError, "a must be numeric; got the string 'abc'"),
        ([1 + 2j], {}, DataError, "a must be real; got complex values"),
        ([[1.0, 2.0]], {}, ShapeError, r"a must be 1-D; got shape \(1, 2\)"),
        (3.0, {}, ShapeError, "a must be a 1-D array; got a scalar 3.0"),
        ([], {}, DataError, "a is empty; at least one value is required"),
        ([1.0, np.nan], {}, NonFiniteError, "a contains nan at index 1"),
        ([[1.0, np.inf]], {"ndim": 2}, NonFiniteError, r"a contains inf at index \(0, 1\)"),
        ([1, None], {}, NonFiniteError, "a contains nan at index 1"),  # None becomes NaN
        ([1, "x"], {}, DataError, "a must contain numbers only; found 'x'"),
        ([[1, 2], [3]], {}, DataError, "a could not be converted to an array"),
    ],
)
def test_as_float_array_errors_name_the_argument(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        as_float_array(value, "a", **kwargs)


def test_non_finite_allowed_when_asked():
    assert np.isnan(as_float_array([np.nan], "a", finite=False)[0])
    assert as_float_array([], "a", allow_empty=True).size == 0


def test_scalars_and_options():
    assert as_finite_float(np.float32(2.5), "lr") == 2.5
    assert as_finite_float(sp.Rational(1, 4), "lr") == 0.25
    with pytest.raises(DataError, match="lr must be a real number; got True"):
        as_finite_float(True, "lr")
    with pytest.raises(NonFiniteError, match="lr must be finite; got inf"):
        as_finite_float(float("inf"), "lr")
    with pytest.raises(SymcalcError, match="lr must be > 0; got -1"):
        check_positive(-1, "lr")
    assert check_positive(0, "tol", allow_zero=True) == 0.0
    with pytest.raises(SymcalcError, match="epochs must be an integer; got 2.5"):
        check_int(2.5, "epochs")
    with pytest.raises(SymcalcError, match="epochs must be >= 1; got 0"):
        check_int(0, "epochs", minimum=1)
    with pytest.raises(SymcalcError, match="method must be one of 'gd', 'adam'; got 'sgd2'"):
        check_choice("sgd2", ["gd", "adam"], "method")
    assert check_equal_lengths({"a": np.ones(3), "b": np.ones(3)}) == 3
    with pytest.raises(ShapeError, match="same length; got a: 3, b: 2"):
        check_equal_lengths({"a": np.ones(3), "b": np.ones(2)})


def test_symbols():
    assert as_symbol("w1") == sp.Symbol("w1")
    assert as_symbol_tuple("w", "params") == (sp.Symbol("w"),)
    with pytest.raises(SymbolError, match="must be a symbol name like"):
        as_symbol("__class__")
    with pytest.raises(SymbolError, match="params lists x more than once"):
        as_symbol_tuple([x, "x"], "params")
    xp = sp.Symbol("x", positive=True)
    assert resolve_symbol("x", sp.log(xp)) is xp
    assert resolve_symbol(y, sp.log(xp)) is y


def test_as_expr_keeps_sympy_numbers_exact_and_parses_text():
    assert as_expr(sp.Rational(3, 2)) == sp.Rational(3, 2)
    assert as_expr(2) == sp.Integer(2) and as_expr(0.5) == sp.Float(0.5)
    assert as_expr("x^2") == x**2
    with pytest.raises(ParseError):
        as_expr("x.__class__")
    with pytest.raises(SymcalcError, match="point must be real; got the complex number"):
        as_expr(1j, "point")
    with pytest.raises(SymcalcError, match="expr must be a SymPy expression, a number or a formula"):
        as_expr([x])
    with pytest.raises(SymcalcError, match="expr must be a SymPy expression"):
        as_expr(True)


def test_bind_data_and_theta():
    cols = bind_data(pd.DataFrame({"x": [1.0], "y": [2.0]}), [y, x])
    assert [float(c.iloc[0]) for c in cols] == [2.0, 1.0]
    with pytest.raises(SymbolError, match=r"data is missing symbol 'y' used by the loss; got keys \['x', 'z'\]"):
        bind_data({"x": [1], "z": [2]}, [x, y])
    np.testing.assert_array_equal(as_theta({"y": 2, x: 1}, [x, y]), [1.0, 2.0])
    assert as_theta(3.0, [x]).shape == (1,)
    with pytest.raises(ShapeError, match=r"theta must be 1-D \(one value per parameter\); got shape \(1, 2\)"):
        as_theta([[1.0, 2.0]], [x, y])
    with pytest.raises(SymbolError, match="theta keys must be symbols or names; got 3"):
        as_theta({3: 1.0}, [x])


def test_as_rng():
    a, b = as_rng(5).random(3), as_rng(5).random(3)
    np.testing.assert_array_equal(a, b)
    gen = np.random.default_rng(0)
    assert as_rng(gen) is gen
    with pytest.raises(SymcalcError, match="seed must be an int, a numpy Generator or None; got 1.5"):
        as_rng(1.5)
    with pytest.raises(SymcalcError, match="seed must be non-negative; got -3"):
        as_rng(-3)
