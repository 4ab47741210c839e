"""symcalc.sklearn: scikit-learn's own estimator checks, model selection, and fits against
scikit-learn's reference estimators (used in tests only)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symcalc as sc
from symcalc.errors import DataError, NonFiniteError, ShapeError, SymbolError, SymcalcError

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.exceptions import NotFittedError as SklearnNotFitted  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, LogisticRegressionCV, Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from symcalc.sklearn import LossClassifier, LossEstimator, LossRegressor, NotFittedError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _linear(n: int, kind: str):
    """A formula written by hand (not the built-in model): z = w.x + b, L2 weight alpha."""
    ws = sp.symbols(f"w1:{n + 1}")
    xs = sp.symbols(f"x1:{n + 1}")
    b, y, alpha = sp.symbols("b y alpha")
    z = sum(wj * xj for wj, xj in zip(ws, xs)) + b
    penalty = alpha * sum(wj**2 for wj in ws)
    if kind == "logistic":
        expr, out = sp.log(1 + sp.exp(-y * z)) + penalty, 1 / (1 + sp.exp(-z))  # y in {-1, 1}
    else:
        expr, out = (y - z) ** 2 + penalty, z
    return sc.Loss(expr, params=[*ws, b], data=[*xs, y, alpha]), out


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------------ scikit-learn's checks
def test_check_estimator_passes_every_check() -> None:
    """Run in a child with SCIPY_ARRAY_API=1 so that not even the array-API check is skipped."""
    code = textwrap.dedent("""
        import json, warnings
        from sklearn.utils.estimator_checks import check_estimator
        from symcalc.sklearn import (EXPECTED_FAILED_CHECKS, LossClassifier, LossEstimator,
                                     LossRegressor)
        out = {}
        for est in (LossEstimator(), LossRegressor(), LossClassifier(alpha=1e-3)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = check_estimator(est, on_fail=None,
                                      expected_failed_checks=EXPECTED_FAILED_CHECKS)
            out[repr(est)] = [(r["check_name"], r["status"], repr(r["exception"])) for r in res]
        print(json.dumps(out))
    """)
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    results = json.loads(proc.stdout.splitlines()[-1])
    assert len(results) == 3
    for est, checks in results.items():
        assert len(checks) > 40, est
        failed = [c for c in checks if c[1] != "passed"]
        assert failed == [], f"{est}: {failed}"
    assert sc.sklearn.EXPECTED_FAILED_CHECKS == {}


# ------------------------------------------------------------------ model selection
@pytest.mark.filterwarnings("ignore::FutureWarning")  # LogisticRegressionCV's changing defaults
def test_grid_search_over_alpha_picks_logistic_regression_cv_choice(cancer) -> None:
    """GridSearchCV over the formula's L2 weight against LogisticRegressionCV's C.

    Both minimise the same objective: mean log-loss + alpha*|w|^2 equals
    (C*sum log-loss + |w|^2/2) / (C*N) with alpha = 1/(2*C*N), N the training rows of a fold.
    """
    X, y = cancer
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    Cs = np.logspace(-3, 1, 9)
    n_train = len(y) * 4 / 5
    alphas = 1 / (2 * Cs * n_train)  # same order as Cs, so ties break the same way
    ref = LogisticRegressionCV(Cs=Cs, cv=cv, tol=1e-10, max_iter=10_000).fit(X, y)
    loss, out = _linear(X.shape[1], "logistic")
    est = LossClassifier(loss, output=out, target_values=(-1, 1), alpha=1.0)
    search = GridSearchCV(est, {"alpha": alphas}, cv=cv).fit(X, y)
    i = int(np.flatnonzero(np.isclose(alphas, search.best_params_["alpha"]))[0])
    j = int(np.flatnonzero(np.isclose(Cs, ref.C_[0]))[0])
    assert abs(i - j) <= 1, (Cs[i], Cs[j])
    # the refitted models agree too (same data, same objective)
    best = LogisticRegression(C=1 / (2 * search.best_params_["alpha"] * len(y)), tol=1e-12,
                              max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(search.best_estimator_.predict_proba(X), best.predict_proba(X),
                               atol=1e-6)


def test_pipeline_cross_val_score_equals_linear_regression() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)) * [1.0, 10.0, 0.1]
    y = X @ [1.5, -0.2, 4.0] + 0.3 + rng.normal(scale=0.5, size=120)
    loss, out = _linear(3, "squares")
    ours = Pipeline([("scale", StandardScaler()), ("reg", LossRegressor(loss, output=out, alpha=0))])
    ref = Pipeline([("scale", StandardScaler()), ("reg", LinearRegression())])
    np.testing.assert_allclose(cross_val_score(ours, X, y, cv=4), cross_val_score(ref, X, y, cv=4),
                               rtol=1e-10)
    grid = GridSearchCV(ours, {"reg__alpha": [0.0, 0.1, 10.0]}, cv=4).fit(X, y)
    assert grid.best_params_ == {"reg__alpha": 0.0}


# ------------------------------------------------------------------ fits against references
def test_ridge_formula_equals_sklearn_ridge() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = X @ [2.0, -1.0] + 0.5 + rng.normal(scale=0.1, size=60)
    loss, out = _linear(2, "squares")
    est = LossRegressor(loss, output=out, alpha=0.05).fit(X, y)
    # mean squared error + alpha*|w|^2  <=>  sum + N*alpha*|w|^2: Ridge(alpha=N*alpha)
    ref = Ridge(alpha=60 * 0.05).fit(X, y)
    np.testing.assert_allclose([est.params_["w1"], est.params_["w2"]], ref.coef_, atol=1e-10)
    assert est.params_["b"] == pytest.approx(ref.intercept_, abs=1e-10)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), atol=1e-9)
    assert est.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-12)
    assert est.converged_ and est.n_iter_ >= 1 and est.result_.message.startswith("Converged")
    default = LossRegressor(alpha=0.05).fit(X, y)  # the built-in model is the same ridge
    np.testing.assert_allclose(default.coef_, ref.coef_, atol=1e-10)
    assert default.intercept_ == pytest.approx(ref.intercept_, abs=1e-10)


def test_margin_logistic_formula_equals_sklearn(cancer) -> None:
    X, y = cancer
    X = X[:, :5]
    loss, out = _linear(5, "logistic")
    est = LossClassifier(loss, output=out, target_values=(-1, 1), alpha=1e-3).fit(X, y)
    ref = LogisticRegression(C=1 / (2 * 1e-3 * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    coef = [est.params_[f"w{j}"] for j in range(1, 6)]
    np.testing.assert_allclose(coef, ref.coef_[0], atol=1e-6)
    np.testing.assert_allclose(est.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    assert (est.predict(X) == ref.predict(X)).all()
    assert est.score(X, y) == ref.score(X, y)


def test_multiclass_is_one_vs_rest(cancer) -> None:
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LossClassifier(alpha=0.01).fit(X, names)
    C = 1 / (2 * 0.01 * len(y))
    ref = OneVsRestClassifier(LogisticRegression(C=C, tol=1e-12, max_iter=10_000)).fit(X, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.coef_.shape == (3, 4) and clf.n_iter_.shape == (3,) and clf.params_["b"].shape == (3,)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert (clf.predict(X) == ref.predict(X)).all()


@pytest.mark.parametrize("optimizer", ["lbfgs", "bfgs", "trust-exact", "gd", "adam"])
def test_every_optimizer_reaches_the_newton_solution(optimizer) -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(80, 2))
    y = (X @ [1.0, -2.0] + rng.normal(size=80) > 0).astype(int)
    newton = LossClassifier(alpha=0.01).fit(X, y)
    options = {"max_iter": 5000, "learning_rate": 0.05} if optimizer == "adam" else {}
    other = LossClassifier(alpha=0.01, optimizer=optimizer, tol=1e-10, **options).fit(X, y)
    np.testing.assert_allclose(other.coef_, newton.coef_, atol=1e-4)


def test_unsupervised_maximum_likelihood() -> None:
    """No target: the Gaussian negative log-likelihood of one feature gives mean and std."""
    m, s, x = sp.symbols("m s x")
    loss = sc.Loss(sp.log(s) + (x - m) ** 2 / (2 * s**2), params=[m, s], data=[x])
    data = np.random.default_rng(3).normal(2.0, 3.0, size=(200, 1))
    est = LossEstimator(loss, params_init={"m": 0.0, "s": 1.0}).fit(data)
    assert est.params_["m"] == pytest.approx(data.mean(), abs=1e-9)
    assert abs(est.params_["s"]) == pytest.approx(data.std(), abs=1e-9)
    nll = np.log(data.std()) + 0.5
    assert est.score(data) == pytest.approx(-nll, abs=1e-9)


# ------------------------------------------------------------------ the estimator protocol
def test_hyperparameters_are_estimator_parameters() -> None:
    loss, out = _linear(2, "squares")
    est = LossRegressor(loss, predict=out, alpha=0.5)  # predict= is another name of output=
    params = est.get_params()
    assert params["alpha"] == 0.5 and params["output"] is out and "predict" not in params
    assert "alpha=0.5" in repr(est)
    twin = clone(est)
    assert twin.get_params()["alpha"] == 0.5 and twin.loss is not loss
    twin.set_params(alpha=2.0, predict=out * 2)
    assert twin.get_params()["alpha"] == 2.0 and est.get_params()["alpha"] == 0.5
    assert twin.output == out * 2
    assert LossClassifier().get_params()["alpha"] == 0.0  # the built-in model's L2 weight
    with pytest.raises(ValueError, match="Invalid parameter 'beta'"):
        est.set_params(beta=1.0)


def test_fitted_estimator_pickles_even_with_a_compiled_loss() -> None:
    loss, out = _linear(2, "squares")
    loss.compile()  # the user compiled it first: its kernels must not travel
    X = np.random.default_rng(4).normal(size=(30, 2))
    y = X.sum(axis=1)
    est = LossRegressor(loss, output=out, alpha=0.0).fit(X, y)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    np.testing.assert_allclose(back.predict(X), y, atol=1e-9)


def test_convergence_warning_when_the_budget_is_too_small() -> None:
    X = np.random.default_rng(5).normal(size=(50, 2))
    y = X[:, 0] * 3
    with pytest.warns(ConvergenceWarning, match="LossRegressor: Stopped after the maximum of 3 "):
        est = LossRegressor(optimizer="gd", learning_rate=1e-3, max_iter=3).fit(X, y)
    assert est.converged_ is False and est.n_iter_ == 3


def test_import_symcalc_does_not_import_sklearn() -> None:
    code = "import sys, symcalc; assert 'sklearn' not in sys.modules; print(symcalc.sklearn.LossEstimator.__name__)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert proc.stdout.strip() == "LossEstimator"
    missing = ("import sys; sys.modules['sklearn'] = None; import symcalc\n"
               "try:\n    symcalc.sklearn\nexcept symcalc.MissingDependencyError as e:\n"
               "    print(e)")
    proc = subprocess.run([sys.executable, "-c", missing], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert "pip install 'symcalc[sklearn]'" in proc.stdout


# ------------------------------------------------------------------ bad input
X2 = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
Y2 = np.array([0.0, 1.0, 1.0, 0.0])


def test_bad_formulas_and_roles_are_named() -> None:
    loss, out = _linear(2, "squares")
    with pytest.raises(SymbolError, match=r"target among .*\['y', 'alpha'\].*e.g. alpha=0.1"):
        LossRegressor(loss, output=out).fit(X2, Y2)
    with pytest.raises(SymbolError, match=r"\['alpha'\] have no role.*e.g. alpha=0.1"):
        LossRegressor(loss, output=out, target="y").fit(X2, Y2)
    with pytest.raises(SymbolError, match="hyperparameter 'gamma' is not a symbol of the loss"):
        LossRegressor(loss, output=out, alpha=0, gamma=1).fit(X2, Y2)
    with pytest.raises(SymbolError, match="hyperparameter 'w1' is a parameter of the loss"):
        LossRegressor(loss, output=out, alpha=0, w1=1).fit(X2, Y2)
    with pytest.raises(ShapeError, match=r"X has 3 feature\(s\).*2 feature symbol\(s\) \['x1', 'x2'\]"):
        LossRegressor(loss, output=out, alpha=0).fit(np.zeros((4, 3)), Y2)
    with pytest.raises(SymbolError, match="output uses symbol\\(s\\) \\['q'\\]"):
        LossRegressor(loss, output=sp.Symbol("q"), alpha=0).fit(X2, Y2)
    with pytest.raises(SymbolError, match="cannot tell the target.*pass target="):
        LossRegressor(loss, output=sp.Symbol("w1"), alpha=0).fit(X2, Y2)
    with pytest.raises(SymbolError, match="features is required when loss is a formula"):
        LossRegressor("(y - w*x)^2", output="w*x").fit(X2[:, :1], Y2)
    with pytest.raises(SymbolError, match="target names 't', which is not a data symbol"):
        LossRegressor(loss, output=out, target="t", alpha=0).fit(X2, Y2)
    with pytest.raises(SymcalcError, match="optimizer must be one of 'gd'.*got 'magic'"):
        LossRegressor(optimizer="magic").fit(X2, Y2)
    with pytest.raises(SymcalcError, match="hyperparameter 'alpha' must be a number; got 'big'"):
        LossRegressor(alpha="big").fit(X2, Y2)


def test_formula_strings_work_with_declared_features() -> None:
    est = LossRegressor("(y - (w*x + b))^2", output="w*x + b", features=["x"], target="y")
    est.fit(X2[:, :1], 2 * X2[:, 0] + 1)
    assert est.params_ == pytest.approx({"b": 1.0, "w": 2.0}, abs=1e-10)


def test_bad_data_is_a_symcalc_error_with_sklearns_message() -> None:
    est = LossRegressor()
    bad = X2.copy()
    bad[1, 1] = np.nan
    with pytest.raises(NonFiniteError, match="Input X contains NaN"):
        est.fit(bad, Y2)
    with pytest.raises(ShapeError, match="Expected 2D array"):
        est.fit(Y2, Y2)
    with pytest.raises(DataError, match="0 sample"):
        est.fit(np.zeros((0, 2)), [])
    est.fit(X2, Y2)
    with pytest.raises(ShapeError, match="X has 3 features, but LossRegressor is expecting 2"):
        est.predict(np.zeros((2, 3)))
    with pytest.raises(DataError, match="y has 1 class"):
        LossClassifier().fit(X2, [1, 1, 1, 1])
    with pytest.raises(DataError, match="Unknown label type"):
        LossClassifier().fit(X2, [0.1, 0.2, 0.3, 0.4])


def test_unfitted_and_bad_output_are_named() -> None:
    for method in ("predict", "predict_proba", "score"):
        with pytest.raises(NotFittedError, match="not fitted yet") as info:
            getattr(LossClassifier(), method)(X2) if method != "score" else LossClassifier().score(X2, Y2)
        assert isinstance(info.value, SklearnNotFitted) and isinstance(info.value, SymcalcError)
    loss, out = _linear(2, "logistic")
    clf = LossClassifier(loss, output=3 * sp.Symbol("x1"), features=["x1", "x2"], alpha=0.1,
                         target_values=(-1, 1)).fit(X2, Y2)
    with pytest.raises(SymcalcError, match="output must be the probability.*from 0 to 9"):
        clf.predict_proba(X2)
    m, x = sp.symbols("m x")
    est = LossEstimator(sc.Loss((x - m) ** 2, params=[m], data=[x])).fit(X2[:, :1])
    with pytest.raises(SymcalcError, match="no output expression for predict; pass output="):
        est.predict(X2[:, :1])


def test_no_warnings_leak_from_a_clean_fit() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LossClassifier(alpha=0.1).fit(X2, Y2).predict_proba(X2)
