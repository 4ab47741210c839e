"""Backends agree: NumPy vs fused numba vs SymEngine-derived vs Dask, on the standard problems
(logistic, least squares, Rosenbrock with no data, Hessians), plus each extra's absence.

Numba compilation is slow, so compiled losses are module-scoped fixtures shared by tests.
"""

import importlib.util
import sys

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.codegen import symengine_bridge as _symengine
from symcalc.errors import MissingDependencyError, NonFiniteError, ShapeError, SymcalcError
from symcalc.testing import numeric_gradient

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
HAVE_SYMENGINE = importlib.util.find_spec("symengine") is not None
HAVE_DASK = importlib.util.find_spec("dask") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed (symcalc[fast])")
needs_symengine = pytest.mark.skipif(not HAVE_SYMENGINE, reason="symengine not installed (symcalc[fast])")
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask not installed (symcalc[dask])")

w, b, x, y, u, v = sp.symbols("w b x y u v")
RNG = np.random.default_rng(7)
N = 5003  # not a multiple of any block size: ragged last blocks
DATA = {"x": RNG.normal(size=N), "y": np.where(RNG.random(N) < 0.4, -1.0, 1.0)}
DATA["t"] = 1.5 * DATA["x"] - 0.5 + 0.1 * RNG.normal(size=N)


def _problems():
    t = sp.Symbol("t")
    return {
        "logistic": (sc.Loss(sp.log(1 + sp.exp(-y * (w * x + b))) + w**2 / 100,
                             params=[w, b], data=[x, y]),
                     {"x": DATA["x"], "y": DATA["y"]}, np.array([0.8, -0.3])),
        "least_squares": (sc.Loss((w * x + b - t) ** 2, params=[w, b], data=[x, t], reduce="sum"),
                          {"x": DATA["x"], "t": DATA["t"]}, np.array([1.2, 0.1])),
        "rosenbrock": (sc.Loss((1 - u) ** 2 + 100 * (v - u**2) ** 2, params=[u, v]),
                       None, np.array([-1.2, 1.0])),
    }


PROBLEMS = _problems()


@pytest.fixture(scope="module")
def numba_losses():
    if not HAVE_NUMBA:
        pytest.skip("numba not installed (symcalc[fast])")
    return {k: loss.compile(backend="numba") for k, (loss, _, _) in PROBLEMS.items()}


def _close(a, b, rtol=1e-12):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(b), 1e-300)
    assert np.all(np.abs(a - b) <= rtol * np.maximum(scale, np.abs(b).max() * 1e-3)), (a, b)


# ---------------------------------------------------------------- numba
@needs_numba
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_numba_equals_numpy_value_grad_hessian(numba_losses, name):
    loss, data, theta = PROBLEMS[name]
    ref = loss.compile().evaluate(theta, data, order=2)
    got = numba_losses[name].evaluate(theta, data, order=2)
    _close(got, ref)
    value, grad, hess = numba_losses[name].value_grad_hessian(theta, data)
    assert value == pytest.approx(ref[0], rel=1e-12)
    assert np.allclose(hess, hess.T)


@needs_numba
def test_numba_rosenbrock_hand_derived(numba_losses):
    f = numba_losses["rosenbrock"]
    value, grad = f.value_and_grad([-1.2, 1.0])
    assert value == pytest.approx(24.2, rel=1e-14)  # 2.2**2 + 100*0.44**2
    np.testing.assert_allclose(grad, [-215.6, -88.0], rtol=1e-13)
    np.testing.assert_allclose(f.hessian([1.0, 1.0]), [[802.0, -400.0], [-400.0, 200.0]])


@needs_numba
def test_numba_gradient_matches_finite_differences(numba_losses):
    loss, data, theta = PROBLEMS["logistic"]
    f = numba_losses["logistic"]
    num = numeric_gradient(lambda th: f.value(th, data), theta)
    np.testing.assert_allclose(f.grad(theta, data), num, rtol=1e-7)


@needs_numba
def test_numba_public_surface(numba_losses):
    f = numba_losses["logistic"]
    assert f.backend == "numba" and f.compile_time > 0
    assert "log(1 + exp(u)) -> logaddexp(0, u)" in f.rewrites
    assert "numba.prange" in f.source and "@numba.njit(parallel=True" in f.source
    assert repr(f).endswith(f"backend='numba', rewrites={len(f.rewrites)})") and len(f.rewrites) >= 2
    loss, data, theta = PROBLEMS["logistic"]
    P = f.prepare(data)
    idx = np.arange(0, N, 7)
    batch = f.evaluate(theta, P.take(idx), order=1)
    ref = loss.compile().evaluate(theta, {k: c[idx] for k, c in data.items()}, order=1)
    _close(batch, ref)
    assert loss.compile(backend="numba") is f  # cached per options


@needs_numba
def test_numba_is_stable_at_extreme_margins_and_propagates_overflow(numba_losses):
    f = numba_losses["logistic"]
    value, grad = f.value_and_grad([1000.0, 0.0], {"x": [1.0, -1.0], "y": [-1.0, 1.0]})
    assert value == pytest.approx(1000.0 + 10000.0) and grad[0] == pytest.approx(1.0 + 20.0)
    with pytest.raises(NonFiniteError, match=r"data\['x'\] contains nan at row 1"):
        f.value([0.0, 0.0], {"x": [1.0, np.nan], "y": [1.0, 1.0]})


@needs_numba
def test_numba_piecewise_functions_equal_numpy():
    w, b, x = sp.symbols("w b x", real=True)
    expr = (sp.Max(w * x, 0) + sp.Min(b, x) + sp.Abs(w - x) + sp.Heaviside(x) * b + sp.sign(x) * w
            + sp.erf(w * x) + sp.log(1 + x**2) + sp.exp(w) - 1 + sp.Piecewise((w, x > 0.5), (b * x, True))
            + sp.tanh(b * x) + 1 / (1 + sp.exp(-w * x)))
    loss = sc.Loss(expr, params=[w, b], data=[x])
    data = {"x": np.concatenate([[0.0], RNG.normal(size=300)])}
    ref = loss.compile().evaluate([0.4, -0.7], data)
    got = loss.compile(backend="numba", block_rows=64).evaluate([0.4, -0.7], data)
    _close(got, ref)


def test_complex_abs_is_a_clear_error():
    with pytest.raises(SymcalcError, match=r"cannot generate code for .*Derivative.*declare them real"):
        sc.Loss(sp.Abs(w - x), params=[w], data=[x]).compile()


@needs_numba
def test_numba_bad_block_rows():
    with pytest.raises(SymcalcError, match="block_rows must be >= 1; got 0"):
        sc.Loss(w**2 * x, params=[w], data=[x]).compile(backend="numba", block_rows=0)


def test_missing_numba_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    monkeypatch.delitem(sys.modules, "symcalc.codegen.emit_numba", raising=False)
    with pytest.raises(MissingDependencyError, match=r"pip install 'symcalc\[fast\]'"):
        sc.Loss(w**2, params=[w]).compile(backend="numba")


# ---------------------------------------------------------------- symengine
@needs_symengine
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_symengine_derivatives_equal_sympy(monkeypatch, name):
    loss, data, theta = PROBLEMS[name]
    fresh = lambda: sc.Loss(loss.expr, params=loss.params, data=loss.data, reduce=loss.reduce)  # noqa: E731
    monkeypatch.setattr(_symengine, "ENABLED", True)
    fast = fresh()
    g1, h1, c1 = fast.gradient(), fast.hessian(), fast.compile()
    monkeypatch.setattr(_symengine, "ENABLED", False)
    slow = fresh()
    g2, h2, c2 = slow.gradient(), slow.hessian(), slow.compile()
    assert all(sp.simplify(a - b) == 0 for a, b in zip(g1, g2))
    assert all(sp.simplify(a - b) == 0 for a, b in zip(h1, h2))
    _close(c1.evaluate(theta, data, order=2), c2.evaluate(theta, data, order=2))


@needs_symengine
def test_symengine_falls_back_where_it_lacks_a_derivative(monkeypatch):
    monkeypatch.setattr(_symengine, "ENABLED", True)
    r = sp.Symbol("r", real=True)
    expr = sp.Abs(r) + sp.Max(r, 0) * sp.exp(r)
    got = _symengine.derivatives(expr, [r])[0]
    assert not got.has(sp.Derivative)
    assert sp.simplify(got - sp.diff(expr, r)) == 0
    assert got.free_symbols == {r}  # the real symbol comes back, assumptions and all


@needs_symengine
def test_symengine_cse_temporaries_never_collide_with_user_symbols(monkeypatch):
    monkeypatch.setattr(_symengine, "ENABLED", True)
    x0, x1 = sp.symbols("x0 x1")  # SymEngine names its temporaries x0, x1, ...
    loss = sc.Loss(sp.exp(w * x0) * sp.sin(w * x0) + (w * x1) ** 2 * sp.exp(w * x0), params=[w], data=[x0, x1])
    data = {"x0": np.array([0.5, -1.0]), "x1": np.array([2.0, 0.25])}
    ref = np.mean(np.exp(0.3 * data["x0"]) * np.sin(0.3 * data["x0"])
                  + (0.3 * data["x1"]) ** 2 * np.exp(0.3 * data["x0"]))
    assert loss.compile().value([0.3], data) == pytest.approx(ref, rel=1e-14)


N_BIG = 2000


@needs_symengine
def test_large_sum_2000_terms_derives_and_compiles(monkeypatch):
    monkeypatch.setattr(_symengine, "ENABLED", True)
    xs = sp.symbols(f"x0:{N_BIG}")
    expr = sp.Add(*[sp.exp(-((w * xi - b) ** 2)) * sp.sin(w + xi) + sp.log(1 + xi**2 * b**2) for xi in xs])
    assert sp.count_ops(expr) > 25_000
    loss = sc.Loss(expr, params=[w, b], data=list(xs))
    total_ops = sum(sp.count_ops(g) for g in loss.gradient()) + sp.count_ops(expr)
    assert total_ops > 100_000
    t = 0.001 * np.arange(N_BIG)
    value, grad = loss.compile().value_and_grad([0.5, 0.25], {f"x{i}": t[i : i + 1] for i in range(N_BIG)})
    e = np.exp(-((0.5 * t - 0.25) ** 2))
    assert value == pytest.approx(np.sum(e * np.sin(0.5 + t) + np.log1p(t**2 / 16)), rel=1e-12)
    ref_w = np.sum(-2 * t * (0.5 * t - 0.25) * e * np.sin(0.5 + t) + e * np.cos(0.5 + t))
    assert grad[0] == pytest.approx(ref_w, rel=1e-12)


# ---------------------------------------------------------------- dask
@pytest.fixture(scope="module")
def dask_data():
    if not HAVE_DASK:
        pytest.skip("dask not installed (symcalc[dask])")
    import dask.array as da
    import dask.dataframe as dd
    import pandas as pd

    arrays = {k: da.from_array(c, chunks=700) for k, c in DATA.items()}
    frame = dd.from_pandas(pd.DataFrame(DATA), npartitions=6)
    return {"arrays": arrays, "frame": frame}


@needs_dask
@pytest.mark.parametrize("kind", ["arrays", "frame"])
@pytest.mark.parametrize("name", ["logistic", "least_squares"])
def test_dask_equals_in_memory(dask_data, kind, name):
    import dask

    loss, data, theta = PROBLEMS[name]
    f = loss.compile()
    ref = f.evaluate(theta, data, order=2)
    with dask.config.set(scheduler="threads"):
        P = f.prepare(dask_data[kind])
        assert type(P).__name__ == "DaskData"
        _close(f.evaluate(theta, P, order=2), ref)
    with dask.config.set(scheduler="synchronous"):
        assert f.value(theta, dask_data[kind]) == pytest.approx(ref[0], rel=1e-12)
        np.testing.assert_allclose(f.grad(theta, dask_data[kind]), ref[1:3], rtol=1e-12)


@needs_dask
def test_dask_prepare_stays_lazy_and_batches_compute(dask_data, monkeypatch):
    import dask

    f = PROBLEMS["logistic"][0].compile()

    def forbidden(*a, **k):
        raise AssertionError("prepare must not compute")

    monkeypatch.setattr(dask, "compute", forbidden)
    P = f.prepare(dask_data["arrays"])
    assert P.n == N  # known from chunk metadata
    monkeypatch.undo()
    batch = P.take(np.array([3, 1, 4000]))
    np.testing.assert_array_equal(batch.columns[0], DATA["x"][[3, 1, 4000]])
    assert f.prepare(dask_data["frame"]).n == N  # unknown partition lengths: computed once


@needs_dask
@needs_numba
def test_dask_on_local_cluster_with_numba(dask_data, numba_losses):
    from dask.distributed import Client, LocalCluster

    loss, data, theta = PROBLEMS["logistic"]
    ref = loss.compile().evaluate(theta, data, order=2)
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                      dashboard_address=None) as cluster, Client(cluster):
        _close(numba_losses["logistic"].evaluate(theta, dask_data["frame"], order=2), ref)
        _close(loss.compile().evaluate(theta, dask_data["arrays"], order=1), ref[:3])


@needs_dask
def test_dask_bad_input(dask_data):
    import dask.array as da

    f = PROBLEMS["logistic"][0].compile()
    bad_x = DATA["x"].copy()
    bad_x[2101] = np.nan
    with pytest.raises(NonFiniteError, match=r"data\['x'\] contains nan at row 1 of Dask block 3"):
        f.value([0.1, 0.1], {"x": da.from_array(bad_x, chunks=700), "y": dask_data["arrays"]["y"]})
    with pytest.raises(ShapeError, match="same length; got x: 5003, y: 10"):
        f.prepare({"x": dask_data["arrays"]["x"], "y": da.ones(10, chunks=5)})
    with pytest.raises(ShapeError, match=r"data\['x'\] must be 1-D"):
        f.prepare({"x": da.ones((4, 2), chunks=2), "y": da.ones(4, chunks=2)})
    with pytest.raises(sc.errors.DataError, match=r"data\['y'\] must contain numbers only"):
        f.prepare({"x": da.ones(4, chunks=2), "y": da.from_array(np.array(list("abcd"), dtype=object), chunks=2)})


def test_missing_dask_names_the_extra(monkeypatch):
    from symcalc.codegen import dask_blocks as _dask

    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'symcalc\[dask\]'"):
        _dask._dask()


# ---------------------------------------------------------------- consumers run unchanged
@needs_dask
def test_descent_and_minimize_run_unchanged_on_dask(dask_data):
    loss, data, _ = PROBLEMS["logistic"]
    lazy = {k: dask_data["arrays"][k] for k in ("x", "y")}
    for options in ({"learning_rate": 0.5, "epochs": 30},
                    {"learning_rate": 0.1, "epochs": 2, "batch_size": 512, "seed": 0}):
        eager = sc.gradient_descent(loss, data, x0=[0.0, 0.0], **options)
        blockwise = sc.gradient_descent(loss, lazy, x0=[0.0, 0.0], **options)
        np.testing.assert_allclose(blockwise.x, eager.x, rtol=1e-10)
    newton = sc.minimize(loss, data, [0.0, 0.0], method="newton")
    np.testing.assert_allclose(sc.minimize(loss, lazy, [0.0, 0.0], method="newton").x, newton.x, rtol=1e-10)


@needs_numba
def test_descent_and_minimize_accept_the_numba_backend(numba_losses):
    loss, data, _ = PROBLEMS["logistic"]
    ref = sc.minimize(loss, data, [0.0, 0.0], method="newton")
    fused = sc.minimize(loss, data, [0.0, 0.0], method="newton", backend="numba")
    assert fused.converged
    np.testing.assert_allclose(fused.x, ref.x, rtol=1e-10)
    gd = sc.gradient_descent(loss, data, x0=[0.0, 0.0], learning_rate=0.5, epochs=20, backend="numba")
    np.testing.assert_allclose(gd.x, sc.gradient_descent(loss, data, x0=[0.0, 0.0], learning_rate=0.5, epochs=20).x, rtol=1e-10)
