"""Tests for symcalc.convergence: stopping rule, sequence analysis, limits, stable steps."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
import sympy as sp

from cputime import cpu_timed

import symcalc as sc
from symcalc.errors import DataError, ShapeError, SymbolError, SymcalcError

x, n, a = sp.symbols("x n a")


def _has_parser() -> bool:
    try:
        import symcalc.parsing  # noqa: F401
    except ImportError:
        return False
    return True


needs_parser = pytest.mark.skipif(not _has_parser(), reason="symcalc.parsing not merged yet")


# ----------------------------------------------------------------------------- check_convergence
class TestCheckConvergence:
    def test_small_last_steps(self):
        assert sc.check_convergence([1.0, 0.5, 0.25, 0.250001, 0.250002], tol=1e-5)

    def test_one_big_step_in_window_fails(self):
        values = [1.0, 0.5, 0.25, 0.2500001]
        assert not sc.check_convergence(values, tol=1e-5, window=2)  # 0.5 -> 0.25 is in it
        assert sc.check_convergence(values, tol=1e-5, window=1)

    def test_rtol_scales_with_value(self):
        values = [1e6, 1e6 + 5.0, 1e6 + 9.0]
        assert not sc.check_convergence(values, tol=1e-5)
        assert sc.check_convergence(values, tol=1e-5, rtol=1e-5)  # 5 <= 1e-5 + 1e-5 * 1e6

    def test_boundary_is_inclusive(self):
        assert sc.check_convergence([0.0, 0.5, 1.0], tol=0.5, window=2)
        assert sc.check_convergence([2.0, 2.0, 2.0], tol=0.0)

    @pytest.mark.parametrize("values", [[], [1.0], [1.0, 1.0]])
    def test_too_few_values_is_false(self, values):
        assert sc.check_convergence(values, window=2) is False

    @pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
    def test_nonfinite_is_false(self, bad):
        assert sc.check_convergence([1.0, 1.0, bad], tol=1e9) is False
        assert sc.check_convergence([bad, 1.0, 1.0], tol=1e9, window=1) is True  # outside window

    def test_accepts_arrays_deques_and_series(self):
        pd = pytest.importorskip("pandas")
        values = [3.0, 2.0, 1.0, 1.0 + 1e-9, 1.0 + 2e-9]
        assert sc.check_convergence(np.array(values))
        assert sc.check_convergence(collections.deque(values))
        assert sc.check_convergence(tuple(values))
        assert sc.check_convergence(pd.Series(values, index=[10, 20, 30, 40, 50]))

    def test_reads_only_the_tail(self):
        class Recorder(list):
            def __getitem__(self, key):
                self.asked = key
                return list.__getitem__(self, key)

        values = Recorder([float(v) for v in range(10_000)] + [5.0, 5.0, 5.0])
        assert sc.check_convergence(values, window=2)
        assert values.asked == slice(-3, None)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"tol": -1.0}, "tol must be >= 0"),
            ({"tol": math.nan}, "tol must be finite"),
            ({"rtol": -0.1}, "rtol must be >= 0"),
            ({"window": 0}, "window must be >= 1"),
            ({"window": 1.5}, "window must be an integer"),
        ],
    )
    def test_bad_options(self, kwargs, match):
        with pytest.raises(SymcalcError, match=match):
            sc.check_convergence([1.0, 1.0, 1.0], **kwargs)

    def test_non_numeric_values(self):
        with pytest.raises(DataError, match="sequence of numbers"):
            sc.check_convergence([1.0, "a", 1.0])
        with pytest.raises(DataError, match="string"):
            sc.check_convergence("1.0, 1.0")


# ----------------------------------------------------------------------------- analyze_sequence
def _newton_sqrt2(steps: int) -> list[float]:
    out = [1.0]
    for _ in range(steps):
        out.append(out[-1] / 2 + 1 / out[-1])
    return out


LEIBNIZ = np.cumsum([(-1) ** k / (2 * k + 1) for k in range(20)])


class TestAnalyzeSequence:
    def test_leibniz_extrapolates_to_pi_over_4(self):
        r = sc.analyze_sequence(LEIBNIZ)
        assert r.converged
        assert abs(r.limit - math.pi / 4) < 1e-6
        assert abs(LEIBNIZ[-1] - math.pi / 4) > 1e-2  # the raw partial sum is far off
        assert r.error == pytest.approx(abs(LEIBNIZ[-1] - math.pi / 4), rel=0.05)

    def test_geometric_is_linear_with_rate_half(self):
        r = sc.analyze_sequence([0.5**k for k in range(30)])
        assert r.converged and not r.oscillating and not r.diverging
        assert r.order == pytest.approx(1.0, abs=1e-6)
        assert r.rate == pytest.approx(0.5, abs=1e-9)
        assert abs(r.limit) < 1e-12

    def test_newton_iterates_are_quadratic(self):
        r = sc.analyze_sequence(_newton_sqrt2(8))
        assert r.converged
        assert r.order == pytest.approx(2.0, abs=0.1)
        assert r.limit == pytest.approx(math.sqrt(2), abs=1e-15)

    def test_newton_before_settling_is_quadratic_too(self):
        r = sc.analyze_sequence(_newton_sqrt2(4))
        assert r.converged and r.order == pytest.approx(2.0, abs=0.1)
        true_error = abs(_newton_sqrt2(4)[-1] - math.sqrt(2))
        assert true_error <= r.error < 1e-6

    def test_secant_order_is_golden_ratio_like(self):
        lo, hi = 1.0, 2.0
        xs = [lo, hi]
        for _ in range(8):
            f_lo, f_hi = lo * lo - 2, hi * hi - 2
            if f_hi == f_lo:
                break
            lo, hi = hi, hi - f_hi * (hi - lo) / (f_hi - f_lo)
            xs.append(hi)
        r = sc.analyze_sequence(xs)
        assert r.converged and 1.4 < r.order < 1.9

    def test_one_over_k_is_sublinear(self):
        values = [1 / k for k in range(1, 101)]
        r = sc.analyze_sequence(values)
        assert r.converged and r.order == "sublinear"
        assert abs(r.limit) < 1e-6
        assert r.error == pytest.approx(0.01, rel=0.01)

    def test_alternating_ones_oscillate(self):
        r = sc.analyze_sequence([(-1) ** k for k in range(20)])
        assert r.oscillating and not r.converged and not r.diverging
        assert r.pattern == "oscillating"
        assert math.isnan(r.limit) and r.error == math.inf
        assert "oscillates" in r.reason

    def test_damped_oscillation_converges(self):
        r = sc.analyze_sequence([(-0.9) ** k for k in range(80)])
        assert r.converged and r.oscillating
        assert r.rate == pytest.approx(0.9, abs=1e-9)

    def test_gradient_descent_loss_history_rate(self):
        # loss = lam/2 * w^2, w_k = (1 - eta*lam)^k: the loss shrinks by (1 - eta*lam)^2
        eta_lam = 0.1
        losses = [0.5 * (1 - eta_lam) ** (2 * k) for k in range(60)]
        r = sc.analyze_sequence(losses)
        assert r.converged and r.rate == pytest.approx(0.81, abs=1e-9)

    @pytest.mark.parametrize(
        "values, limit",
        [
            ([2.0**k for k in range(30)], math.inf),
            ([-(3.0**k) for k in range(20)], -math.inf),
            ([float(k) for k in range(20)], math.inf),
            ([math.sqrt(k) for k in range(1, 80)], math.inf),
        ],
    )
    def test_divergence_to_infinity(self, values, limit):
        r = sc.analyze_sequence(values)
        assert r.diverging and not r.converged
        assert r.limit == limit and r.error == math.inf

    def test_growing_oscillation(self):
        r = sc.analyze_sequence([(-2.0) ** k for k in range(30)])
        assert r.diverging and r.oscillating and math.isnan(r.limit)

    def test_log_k_is_not_called_convergent(self):
        r = sc.analyze_sequence([math.log(k) for k in range(1, 100)])
        assert not r.converged and r.error == math.inf

    def test_noise_has_no_limit(self):
        r = sc.analyze_sequence(np.random.default_rng(0).normal(size=60))
        assert not r.converged and math.isnan(r.limit) and r.error == math.inf
        assert r.pattern == "irregular"

    @pytest.mark.parametrize(
        "values, true_limit",
        [
            (LEIBNIZ, math.pi / 4),
            ([1 / k for k in range(1, 101)], 0.0),
            (np.cumsum([1 / k**2 for k in range(1, 31)]), math.pi**2 / 6),
            ([(-0.9) ** k for k in range(60)], 0.0),
            ([1 + 1 / math.sqrt(k) for k in range(1, 101)], 1.0),
            ([0.5**k for k in range(25)], 0.0),
        ],
    )
    def test_error_estimates_the_true_distance(self, values, true_limit):
        """Guard: the error is neither near zero on an unsettled sequence nor inflated."""
        r = sc.analyze_sequence(values)
        true_error = abs(values[-1] - true_limit)
        assert 0.5 * true_error <= r.error <= 2 * true_error

    def test_constant_and_settled(self):
        r = sc.analyze_sequence([3.0, 3.0, 3.0, 3.0])
        assert r.converged and r.limit == 3.0 and r.error == 0.0
        r = sc.analyze_sequence([1 + 0.5**k for k in range(70)])
        assert r.converged and r.limit == 1.0 and r.error < 1e-14
        assert r.rate == pytest.approx(0.5) and "settled" in r.reason

    def test_nan_gives_a_report(self):
        r = sc.analyze_sequence([1.0, 0.5, math.nan, 0.2])
        assert not r.converged and math.isnan(r.limit)
        assert "values[2] is nan" in r.reason

    def test_overflow_gives_a_diverging_report(self):
        r = sc.analyze_sequence([1.0, 1e10, 1e200, math.inf, math.inf])
        assert r.diverging and not r.converged and r.limit == math.inf
        assert "values[3]" in r.reason

    def test_mixed_infinities(self):
        r = sc.analyze_sequence([1.0, math.inf, -math.inf])
        assert r.diverging and math.isnan(r.limit)

    def test_too_few_values(self):
        r = sc.analyze_sequence([1.0, 2.0])
        assert not r.converged and "At least 3 values" in r.reason

    def test_bad_input(self):
        with pytest.raises(DataError, match="values is empty"):
            sc.analyze_sequence([])
        with pytest.raises(ShapeError, match="values must be 1-D"):
            sc.analyze_sequence(np.ones((3, 3)))
        with pytest.raises(DataError, match="values must contain numbers only"):
            sc.analyze_sequence([1.0, "x", 2.0])

    def test_report_fields_in_order(self):
        r = sc.analyze_sequence([0.5**k for k in range(10)])
        keys = list(r.as_dict())
        assert keys[:8] == ["converged", "limit", "error", "rate", "order", "oscillating",
                            "diverging", "reason"]
        assert repr(r).startswith("SequenceReport(")


# ----------------------------------------------------------------------------- limit: the table
LIMITS = [
    # (expr, var, point, dir, exact value; None = does not exist)
    (sp.sin(x) / x, x, 0, "+-", 1),
    ((1 + 1 / n) ** n, n, sp.oo, "+-", sp.E),
    (n ** (1 / n), n, sp.oo, "+-", 1),
    (x * sp.log(x), x, 0, "+", 0),
    ((1 - sp.cos(x)) / x**2, x, 0, "+-", sp.Rational(1, 2)),
    (1 / x, x, 0, "+", sp.oo),
    (1 / x, x, 0, "-", -sp.oo),
    (1 / x, x, 0, "+-", None),
    (sp.sin(1 / x), x, 0, "+-", None),
    ((3 * x**2 + 1) / (2 * x**2 - x), x, sp.oo, "+-", sp.Rational(3, 2)),
    (x**3 / (x**2 + 1), x, -sp.oo, "+-", -sp.oo),
    ((2 * x + 1) / (x**3 + 5), x, sp.oo, "+-", 0),
    ((x**2 + 3 * x) / (5 * x**2 - 7), x, -sp.oo, "+-", sp.Rational(1, 5)),
    ((x**2 - 1) / (x - 1), x, 1, "+-", 2),
    (sp.exp(-x), x, sp.oo, "+-", 0),
    (sp.exp(x) / x**5, x, sp.oo, "+-", sp.oo),
    (sp.log(x) / x, x, sp.oo, "+-", 0),
    (x**x, x, 0, "+", 1),
    (sp.tan(x) / x, x, 0, "+-", 1),
    ((sp.exp(x) - 1) / x, x, 0, "+-", 1),
    (sp.log(1 + x) / x, x, 0, "+-", 1),
    ((1 + 2 / x) ** x, x, sp.oo, "+-", sp.exp(2)),
    ((1 - 1 / x) ** x, x, sp.oo, "+-", sp.exp(-1)),
    (sp.sqrt(x**2 + x) - x, x, sp.oo, "+-", sp.Rational(1, 2)),
    (x * (sp.sqrt(x**2 + 1) - x), x, sp.oo, "+-", sp.Rational(1, 2)),
    (sp.Abs(x) / x, x, 0, "+-", None),
    (sp.exp(1 / x), x, 0, "-", 0),
    (sp.exp(1 / x), x, 0, "+", sp.oo),
    (sp.exp(1 / x), x, 0, "+-", None),
    (1 / x**2, x, 0, "+-", sp.oo),
    (1 / (x - 2), x, 2, "-", -sp.oo),
    (x * sp.sin(1 / x), x, 0, "+-", 0),
    (sp.atan(x), x, sp.oo, "+-", sp.pi / 2),
    (sp.atan(x), x, -sp.oo, "+-", -sp.pi / 2),
    ((sp.sin(x) - x) / x**3, x, 0, "+-", -sp.Rational(1, 6)),
    ((2**x - 1) / x, x, 0, "+-", sp.log(2)),
    (1 / sp.log(x), x, 0, "+", 0),
    (sp.tanh(x), x, sp.oo, "+-", 1),
    (sp.sin(x) / x, x, sp.oo, "+-", 0),
    (sp.cos(x), x, sp.oo, "+-", None),
    ((x**x - 1) / (x * sp.log(x)), x, 0, "+", 1),
    (sp.sqrt(x), x, 0, "+", 0),
]


@pytest.mark.parametrize(
    "expr, var, point, direction, expected",
    LIMITS,
    ids=[f"{e}@{p}{d}" for e, _, p, d, _ in LIMITS],
)
def test_known_limits(expr, var, point, direction, expected):
    r = sc.limit(expr, var, point, direction)
    assert r.agree, r.reason
    if expected is None:
        assert r.symbolic is None and math.isnan(r.numeric)
        assert "does not exist" in r.reason
    elif expected in (sp.oo, -sp.oo):
        assert r.symbolic == expected
        assert r.numeric == float(expected)
    else:
        assert sp.simplify(r.symbolic - expected) == 0
        assert r.numeric == pytest.approx(float(expected), rel=1e-8, abs=1e-9)


def test_one_sided_details_are_reported():
    r = sc.limit(1 / x, x, 0)
    assert r.left == -sp.oo and r.right == sp.oo
    assert r.numeric_left == -math.inf and r.numeric_right == math.inf
    assert "left-hand limit is -oo" in r.reason and "right-hand limit is oo" in r.reason


def test_report_fields_in_order():
    r = sc.limit(sp.sin(x) / x, x, 0)
    assert list(r.as_dict())[:4] == ["symbolic", "numeric", "agree", "reason"]
    assert r.reason.endswith(".") and r.reason.count(". ") == 0  # one sentence


# ----------------------------------------------------------------------------- limit: cross-check
def test_real_sympy_mistake_is_flagged():
    # sympy 1.14 gives oo for the left-hand limit of 2**(1/x) at 0; the truth is 0.
    r = sc.limit(2 ** (1 / x), x, 0, "-")
    assert r.numeric == pytest.approx(0.0, abs=1e-12)
    if r.symbolic == 0:  # fixed in a newer sympy: then the two sides agree
        assert r.agree
    else:
        assert not r.agree
        assert "disagree" in r.reason and str(r.symbolic) in r.reason and "≈0" in r.reason


def test_piecewise_one_sided_mistake_is_flagged():
    # sympy 1.14 gives 1 for the left-hand limit; the x < 0 branch x**2 tends to 0.
    expr = sp.Piecewise((x**2, x < 0), (x + 1, True))
    r = sc.limit(expr, x, 0, "-")
    assert r.numeric == pytest.approx(0.0, abs=1e-12)
    assert r.agree == (r.symbolic == 0)
    two = sc.limit(expr, x, 0)
    assert math.isnan(two.numeric)  # numerically the sides differ (0 and 1)
    assert two.numeric_left == pytest.approx(0.0, abs=1e-12)
    assert two.numeric_right == pytest.approx(1.0, abs=1e-12)


def test_slow_divergence_is_inconclusive_not_wrong():
    r = sc.limit(sp.log(sp.log(x)), x, sp.oo)
    assert r.symbolic == sp.oo and math.isnan(r.numeric) and not r.agree
    assert "inconclusive" in r.reason


def test_zoo_for_a_finite_limit_is_flagged(monkeypatch):
    monkeypatch.setattr(sp, "limit", lambda *args, **kw: sp.zoo)
    r = sc.limit((1 - sp.cos(x)) / x**2, x, 0)
    assert not r.agree
    assert r.numeric == pytest.approx(0.5, rel=1e-10)
    assert "zoo" in r.reason and "0.5" in r.reason and "disagree" in r.reason


def test_accumbounds_for_a_finite_limit_is_flagged(monkeypatch):
    monkeypatch.setattr(sp, "limit", lambda *args, **kw: sp.AccumBounds(-1, 1))
    r = sc.limit(sp.sin(x) / x, x, 0, "+")
    assert r.symbolic is None and not r.agree
    assert "AccumBounds(-1, 1)" in r.reason and "≈1" in r.reason


def test_sympy_failure_still_gives_the_numeric_estimate(monkeypatch):
    def broken(*args, **kwargs):
        raise NotImplementedError("no rule")

    monkeypatch.setattr(sp, "limit", broken)
    r = sc.limit(sp.sin(x) / x, x, 0)
    assert r.symbolic is None and not r.agree and r.numeric == pytest.approx(1.0)
    assert "could not evaluate" in r.reason and "no rule" in r.reason


SLOW = sp.gamma(x + sp.Rational(1, 3)) * sp.gamma(x + sp.Rational(1, 5)) * x ** (
    -sp.Rational(8, 15)
) / sp.gamma(x) ** 2 - 1  # sympy.limit takes ~9 s at oo; the limit is 0


def test_timeout_bounds_a_slow_limit():
    # Behaviour, not wall time (the machine may be loaded): sympy.limit was cut off, the
    # numeric estimate (half the budget) still came back, and the process tree did at most
    # the budget's worth of work.
    r, cpu = cpu_timed(lambda: sc.limit(SLOW, x, sp.oo, timeout=3.0))
    assert cpu < 3.0 + 3.0, f"used {cpu:.2f} s of CPU"
    assert r.timed_out and r.symbolic is None and not r.agree
    assert abs(r.numeric) < 1e-9  # the numeric estimate still comes back
    assert "did not finish within" in r.reason


def test_no_timeout_runs_in_process():
    r = sc.limit(sp.sin(x) / x, x, 0, timeout=None)
    assert r.symbolic == 1 and r.agree


def test_other_free_symbols_skip_the_numeric_check():
    r = sc.limit((1 + a / n) ** n, n, sp.oo)
    assert r.symbolic == sp.exp(a)
    assert math.isnan(r.numeric) and not r.agree
    assert "numeric check is inconclusive" in r.reason and "(a)" in r.reason


def test_not_real_on_one_side():
    # sqrt(x - 1) -> i as x -> 0 (sqrt(x) -> 0 from the left is fine: its values i*sqrt(|x|)
    # vanish, as SymPy says)
    r = sc.limit(sp.sqrt(x - 1), x, 0, "-")
    assert math.isnan(r.numeric) and not r.agree and "not real" in r.reason


# ----------------------------------------------------------------------------- limit: inputs
@pytest.mark.parametrize(
    "point, expected",
    [(float("inf"), sp.oo), ("oo", sp.oo), ("-inf", -sp.oo), (np.float64(0.0), 1), (0, 1)],
)
def test_point_forms(point, expected):
    expr = sp.exp(-1 / x**2) + 1 if expected == 1 else sp.exp(x) / x
    want = 1 if expected == 1 else (sp.oo if expected == sp.oo else 0)
    r = sc.limit(expr, x, point)
    assert r.symbolic == want and r.agree


def test_var_by_name_keeps_assumptions():
    xp = sp.Symbol("x", positive=True)
    r = sc.limit(sp.sqrt(xp**2) / xp, "x", 0)
    assert r.symbolic == 1 and r.agree


@needs_parser
def test_strings_go_through_the_parser():
    r = sc.limit("sin(x)/x", "x", "0")
    assert r.symbolic == 1 and r.agree
    r = sc.limit("(1+1/n)^n", "n", "oo")
    assert r.symbolic == sp.E and r.agree


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"var": 5}, SymbolError, "var must be a sympy Symbol"),
        ({"var": "2x"}, SymbolError, "var must be a symbol name"),
        ({"point": 1j}, SymcalcError, "point must be a real number"),
        ({"point": math.nan}, SymcalcError, "got nan"),
        ({"point": sp.I}, SymcalcError, "point must be real"),
        ({"point": sp.zoo}, SymcalcError, "point must be real"),
        ({"point": a + 1}, SymbolError, "free symbols a"),
        ({"point": True}, SymcalcError, "point must be a real number"),
        ({"point": [0]}, SymcalcError, "point must be a real number"),
        ({"dir": "left"}, SymcalcError, "dir must be one of"),
        ({"timeout": -1}, SymcalcError, "timeout must be > 0"),
        ({"expr": [x]}, SymcalcError, "expr must be a SymPy expression"),
        ({"expr": sp.Eq(x, 1)}, SymcalcError, "expr must be a SymPy expression"),
        ({"expr": sp.Matrix([x])}, SymcalcError, "expr must be a SymPy expression"),
        ({"expr": 1j}, SymcalcError, "expr must be real"),
    ],
)
def test_bad_limit_input(kwargs, error, match):
    args = {"expr": sp.sin(x) / x, "var": x, "point": 0, **kwargs}
    with pytest.raises(error, match=match):
        sc.limit(args["expr"], args["var"], args["point"], kwargs.get("dir", "+-"),
                 timeout=kwargs.get("timeout", 5.0))


# ----------------------------------------------------------------------------- stable_learning_rate
w, b, y = sp.symbols("w b y")
RNG = np.random.default_rng(0)
X = RNG.normal(1.5, 1.0, 40)
Y = 2.0 * X - 1.0 + RNG.normal(0.0, 0.1, 40)


def _descend(loss, data, eta, steps=400):
    f = loss.compile()
    theta = np.zeros(len(loss.params))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            theta = theta - eta * f.grad(theta, data)
    return theta


class TestStableLearningRate:
    def test_mse_bound_is_exact_and_symbolic(self):
        loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
        r = sc.stable_learning_rate(loss, {x: X, y: Y})
        assert r.exact and r.method == "exact"
        assert r.bound == pytest.approx(1.0 / np.mean(X**2), rel=1e-12)  # 2 / (2 mean x^2)
        assert r.lambda_max == pytest.approx(2 * np.mean(X**2), rel=1e-12)
        assert str(r.expression) == "2/(2*mean(x**2))"

    def test_bound_separates_convergence_from_divergence(self):
        loss = sc.Loss((w * x + b - y) ** 2, params=[w, b], data=[x, y])
        data = {x: X, y: Y}
        r = sc.stable_learning_rate(loss, data)
        hess = 2 * np.array([[np.mean(X**2), np.mean(X)], [np.mean(X), 1.0]])
        assert r.bound == pytest.approx(2 / np.linalg.eigvalsh(hess)[-1], rel=1e-10)
        w_ls, b_ls = np.polyfit(X, Y, 1)
        good = _descend(loss, data, 0.95 * r.bound, steps=3000)
        assert good == pytest.approx([w_ls, b_ls], abs=1e-6)
        bad = _descend(loss, data, 1.05 * r.bound, steps=3000)
        assert not np.all(np.isfinite(bad)) or np.abs(bad).max() > 1e6
        assert r.hessian_expr[0, 0] == 2 * sp.Function("mean")(x**2)

    def test_sum_reduction_scales_with_rows(self):
        loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y], reduce="sum")
        r = sc.stable_learning_rate(loss, {x: X, y: Y})
        assert r.bound == pytest.approx(1.0 / np.sum(X**2), rel=1e-12)
        assert "sum(x**2)" in str(r.expression)

    def test_no_data_quadratic(self):
        loss = sc.Loss(w**2 + 10 * b**2, params=[w, b])
        r = sc.stable_learning_rate(loss)
        assert r.bound == pytest.approx(0.1) and r.lambda_min == pytest.approx(2.0)
        assert float(r.expression.doit()) == pytest.approx(0.1)

    def test_logistic_loss_uses_power_iteration_at_a_point(self):
        loss = sc.Loss(sp.log(1 + sp.exp(-y * w * x)), params=[w], data=[x, y])
        labels = np.sign(Y)
        r = sc.stable_learning_rate(loss, {x: X, y: labels}, at=[0.5])
        z = labels * 0.5 * X
        s = 1 / (1 + np.exp(-z))
        expected = np.mean(X**2 * s * (1 - s))  # y^2 = 1
        assert not r.exact and r.method == "power-iteration" and r.expression is None
        assert r.lambda_max == pytest.approx(expected, rel=1e-10)
        assert r.bound == pytest.approx(2 / expected, rel=1e-10)

    def test_saddle_is_reported(self):
        loss = sc.Loss(w**4 - w**2 + b**2, params=[w, b])
        r = sc.stable_learning_rate(loss, at={w: 0.0, b: 0.0})
        assert r.lambda_max == pytest.approx(2.0) and r.lambda_min == pytest.approx(-2.0)
        assert r.bound == pytest.approx(1.0) and "saddle" in r.reason

    def test_maximum_has_no_stable_rate(self):
        loss = sc.Loss(-(w**4) - w**2, params=[w])
        r = sc.stable_learning_rate(loss, at=[1.0])
        assert r.bound == math.inf and "no positive eigenvalue" in r.reason

    def test_power_iteration_matches_eigvalsh(self):
        from symcalc.convergence.stability import _extreme_eigenvalues

        rng = np.random.default_rng(3)
        for p in (1, 2, 5, 12):
            m = rng.normal(size=(p, p))
            h = m + m.T
            eig = np.linalg.eigvalsh(h)
            hi, lo = _extreme_eigenvalues(h)
            assert hi == pytest.approx(eig[-1], rel=1e-8, abs=1e-9)
            assert lo == pytest.approx(eig[0], rel=1e-8, abs=1e-9)

    def test_missing_at(self):
        loss = sc.Loss(w**4, params=[w])
        with pytest.raises(SymcalcError, match=r"depends on the parameters \['w'\].*at="):
            sc.stable_learning_rate(loss)

    def test_not_a_loss(self):
        with pytest.raises(SymcalcError, match="loss must be a symcalc.Loss"):
            sc.stable_learning_rate(w**2)

    def test_missing_data(self):
        loss = sc.Loss((w * x - y) ** 2, params=[w], data=[x, y])
        with pytest.raises(SymbolError, match="missing symbol 'y'"):
            sc.stable_learning_rate(loss, {x: X})


# ----------------------------------------------------------------------------- CLI
def test_cli_registers_limit():
    from symcalc.cli import COMMANDS, build_parser

    assert "limit" in COMMANDS
    args = build_parser().parse_args(["limit", "1/x", "x", "0", "--dir", "+", "--timeout", "2"])
    assert (args.expr, args.var, args.point, args.dir, args.timeout) == ("1/x", "x", "0", "+", 2.0)


def test_cli_bad_dir_exits_2(capsys):
    from symcalc.cli import main

    assert main(["limit", "1/x", "x", "0", "--dir", "left"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@needs_parser
def test_cli_prints_both_results(capsys):
    from symcalc.cli import main

    assert main(["limit", "sin(x)/x", "x", "0"]) == 0
    out = capsys.readouterr().out
    assert "symbolic: 1" in out and "numeric:  1" in out and "agree:    yes" in out
    assert main(["limit", "exp(x)", "x", "--", "-oo"]) == 0
    assert "symbolic: 0" in capsys.readouterr().out


@needs_parser
def test_cli_disagreement_and_errors(capsys):
    from symcalc.cli import main

    assert main(["limit", "1/x", "x", "0", "--dir", "+"]) == 0
    assert "symbolic: oo" in capsys.readouterr().out
    assert main(["limit", "1/x", "2x", "0"]) == 2
    assert "var must be a symbol name" in capsys.readouterr().err
