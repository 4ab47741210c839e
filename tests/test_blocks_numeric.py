"""Block losses, numerically: gradients and Hessians against independent references,
scikit-learn's logistic and multinomial fits, overflow-free logits, every backend."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from block_problems import problems

import symcalc as sc
from symcalc.testing import numeric_gradient, relative_error

PROBLEMS = {p.name: p for p in problems()}

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - optional
    jax = None


def _compiled(p):
    f = p.loss.compile()
    return f, f.prepare(p.data)


def test_at_least_twenty_block_expressions():
    assert len(PROBLEMS) >= 20


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_value_and_gradient_equal_finite_differences(name):
    p = PROBLEMS[name]
    f, P = _compiled(p)
    out = f.evaluate(p.theta, P, order=1)
    assert out[0] == pytest.approx(p.ref(p.theta, np), rel=1e-13, abs=1e-14)
    numeric = numeric_gradient(lambda th: p.ref(th, np), p.theta)  # of the HAND-written loss
    assert np.max(relative_error(out[1:], numeric, floor=1e-6)) < 1e-8


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_hessian_equals_finite_differences_of_the_gradient(name):
    p = PROBLEMS[name]
    f, P = _compiled(p)
    H = f._unpack_hessian(f.evaluate(p.theta, P, order=2))[2]
    Hn = numeric_gradient(lambda th: f.evaluate(th, P, order=1)[1:], p.theta)
    assert np.max(relative_error(H, 0.5 * (Hn + Hn.T), floor=1e-6)) < 1e-7


@pytest.mark.skipif(jax is None, reason="jax not installed (optional reference)")
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_gradient_equals_jax(name):
    p = PROBLEMS[name]
    f, P = _compiled(p)
    got = f.evaluate(p.theta, P, order=1)[1:]
    ref = np.asarray(jax.grad(lambda th: p.ref(th, jnp))(jnp.asarray(p.theta)))
    assert np.max(relative_error(got, ref, floor=1e-8)) < 1e-8


def test_derivation_does_not_expand_the_wide_blocks():
    """Derived by a few scalars whatever n: the same core for n = 10 and n = 10,000."""
    sizes = {}
    for n in (10, 10_000):
        w, x = sc.vector("w", n), sc.vector("x", n)
        b, t = sp.symbols("b t")
        z = sc.dot(w, x) + b
        loss = sc.Loss(sc.softplus(z) - t * z + 0.005 * sc.norm2(w), params=[w, b], data=[x, t])
        d = loss.derivation
        assert d.lowered.expanded == set()
        nodes = sum(sp.count_ops(e) for e in [d.lowered.core, *d.gradient])
        sizes[n] = (len(d.variables), nodes, len(loss.compile().source))
    assert sizes[10][:2] == sizes[10_000][:2] == (3, sizes[10][1])
    assert abs(sizes[10][2] - sizes[10_000][2]) < 40  # only the slice bounds' digits differ


# ------------------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def breast_cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y.astype(float)


def _l2_logistic(n, lam):
    w, x = sc.vector("w", n), sc.vector("x", n)
    b, t = sp.symbols("b t")
    z = sc.dot(w, x) + b
    return sc.Loss(sc.softplus(z) - t * z + lam / 2 * sc.norm2(w), params=[w, b], data=[x, t]), w, b, x, t


def test_logistic_regression_equals_scikit_learn(breast_cancer):
    from sklearn.linear_model import LogisticRegression

    X, y = breast_cancer
    N, n = X.shape
    lam = 0.01
    loss, w, b, x, t = _l2_logistic(n, lam)
    # sklearn minimises sum(log-loss) + ||w||^2 / (2C): the mean form has lam = 1/(C N)
    clf = LogisticRegression(C=1 / (lam * N), tol=1e-12, max_iter=10_000).fit(X, y)
    newton = sc.minimize(loss, {x: X, t: y}, method="newton")
    assert newton.converged and isinstance(newton.params[w], np.ndarray)
    np.testing.assert_allclose(newton.params[w], clf.coef_[0], atol=1e-5)
    assert newton.params[b] == pytest.approx(clf.intercept_[0], abs=1e-5)
    frame = {f"f{i}": X[:, i] for i in range(n)} | {"t": y}
    gd = sc.gradient_descent(loss, sc.columns(frame, x="*", t="t"),
                             learning_rate="auto", method="nesterov", epochs=5000, tol=1e-9)
    assert gd.converged
    np.testing.assert_allclose(gd.params[w], clf.coef_[0], atol=1e-5)


def test_softmax_regression_equals_scikit_learn_multinomial():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, labels = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    N, n = X.shape
    K, C = 3, 10.0
    W, bias = sc.matrix("W", K, n), sc.vector("b", K)
    x, y = sc.vector("x", n), sc.vector("y", K)
    z = W @ x + bias
    loss = sc.Loss(sc.logsumexp(z) - sc.dot(y, z) + 1 / (2 * C * N) * sc.norm2(W),
                   params=[W, bias], data=[x, y])
    res = sc.minimize(loss, {x: X, y: np.eye(K)[labels]}, method="newton")
    clf = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, labels)
    assert res.converged and res.params[W].shape == (K, n)
    np.testing.assert_allclose(res.params[W], clf.coef_, atol=1e-4)
    # unpenalised intercepts are determined up to a common shift (softmax(z + c) = softmax(z));
    # scikit-learn reports the ones that sum to zero
    b = res.params[bias]
    np.testing.assert_allclose(b - b.mean(), clf.intercept_ - clf.intercept_.mean(), atol=1e-4)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_no_nan_at_huge_logits(scale):
    p = PROBLEMS["softmax_ce"]
    f, P = _compiled(p)
    theta = p.theta * scale  # logits of order 1e4
    out = f.evaluate(theta, P, order=1)
    assert np.isfinite(out).all() and out[0] == pytest.approx(p.ref(theta, np), rel=1e-12)
    q = PROBLEMS["logistic"]
    g, Q = _compiled(q)
    out = g.evaluate(q.theta * scale, Q, order=2)
    assert np.isfinite(out).all() and out[0] == pytest.approx(q.ref(q.theta * scale, np), rel=1e-12)


# ------------------------------------------------------------------------------ interfaces
def test_theta_and_gradient_forms():
    p = PROBLEMS["softmax_ce"]
    f, P = _compiled(p)
    W, bv = p.loss.params
    flat = p.theta
    as_dict = {W: flat[:12].reshape(3, 4), "bv": flat[12:]}
    v1, g1 = f.value_and_grad(flat, p.data)
    v2, g2 = f.value_and_grad(as_dict, p.data)
    assert v1 == v2 and isinstance(g1, np.ndarray) and set(g2) == {W, "bv"}
    np.testing.assert_array_equal(g2[W], g1[:12].reshape(3, 4))
    np.testing.assert_array_equal(g2["bv"], g1[12:])
    assert f.hessian(as_dict, p.data).shape == (15, 15)


def test_x0_may_omit_blocks_and_results_hold_arrays():
    p = PROBLEMS["logistic_l2"]
    w, b = p.loss.params
    res = sc.gradient_descent(p.loss, p.data, x0={b: 0.0}, learning_rate=0.5, epochs=3)
    assert res.history["x"][0].tolist() == [0.0] * 5
    assert res.params[w].shape == (4,) and isinstance(res.params[b], float)
    full = sc.gradient_descent(p.loss, p.data, learning_rate=0.5, epochs=3)
    np.testing.assert_array_equal(full.x, res.x)


def test_scipy_methods_accept_blocks():
    p = PROBLEMS["multi_output_ridge"]  # a unique minimum (softmax biases are not unique)
    bfgs = sc.minimize(p.loss, p.data, method="BFGS", tol=1e-10)
    newton = sc.minimize(p.loss, p.data, method="newton")
    assert newton.converged
    np.testing.assert_allclose(bfgs.x, newton.x, atol=1e-5)


def test_stable_learning_rate_of_a_block_loss():
    p = PROBLEMS["least_squares"]
    rep = sc.stable_learning_rate(p.loss, p.data)
    X = p.data[p.loss.data[0]]
    A = np.column_stack([X, np.ones(len(X))])
    lam = np.linalg.eigvalsh(2 * A.T @ A / len(X))[-1]
    assert rep.exact and rep.bound == pytest.approx(2 / lam, rel=1e-12)
    q = PROBLEMS["logistic"]
    with pytest.raises(sc.SymcalcError, match="pass at=theta"):
        sc.stable_learning_rate(q.loss, q.data)
    assert sc.stable_learning_rate(q.loss, q.data, at=q.theta).bound > 0


def test_check_gradient_names_every_entry():
    p = PROBLEMS["softmax_ce"]
    chk = p.loss.check_gradient(p.theta, p.data)
    assert chk.ok and chk.names[:2] == ["W[0,0]", "W[0,1]"] and chk.names[-1] == "bv[2]"


def test_chunked_and_dask_evaluation_equal_one_pass():
    p = PROBLEMS["two_layer_tanh"]
    f, P = _compiled(p)
    whole = f.evaluate(p.theta, P, order=2)
    chunked = p.loss.compile(chunk_rows=7).evaluate(p.theta, p.data, order=2)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-14)
    da = pytest.importorskip("dask.array")
    x, y = p.loss.data
    lazy = {x: da.from_array(p.data[x], chunks=(13, 2)), y: da.from_array(p.data[y], chunks=13)}
    np.testing.assert_allclose(f.evaluate(p.theta, lazy, order=2), whole, rtol=1e-12, atol=1e-14)


def test_numba_backend_equals_numpy():
    pytest.importorskip("numba")
    p = PROBLEMS["softmax_ce_l2"]
    f, P = _compiled(p)
    g = p.loss.compile(backend="numba")
    for order in (0, 1, 2):
        np.testing.assert_allclose(g.evaluate(p.theta, p.data, order=order),
                                   f.evaluate(p.theta, P, order=order), rtol=1e-12, atol=1e-14)
    assert "for _k in range(_b0, _b1):" in g.source  # blocks of rows, shared by threads
    assert "_u0 = _pe0_0_0*_xe0_0" in g.source  # unrolled row
