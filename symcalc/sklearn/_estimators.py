"""scikit-learn estimators trained by symcalc's optimizers on a symbolic loss."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFitted
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .._validate import as_theta, describe
from ..codegen import compile_elementwise
from ..errors import DataError, NonFiniteError, ShapeError, SymbolError, SymcalcError
from ..optimize import DescentResult, gradient_descent, minimize
from ..optimize.minimize import MINIMIZE_METHODS
from ._spec import LINEAR_HYPERPARAMETERS, Spec, linear_spec, spec_for

__all__ = ["LossEstimator", "LossRegressor", "LossClassifier", "NotFittedError", "OPTIMIZERS"]

#: ``optimizer`` values run by :func:`symcalc.gradient_descent` (the rest by ``minimize``).
DESCENT = ("gd", "sgd", "momentum", "nesterov", "adam")
_ALIASES = {"lbfgs": "L-BFGS-B", "bfgs": "BFGS", "newton": "newton"}
#: Every accepted ``optimizer`` (case-insensitive): the descent methods, the short names
#: ``"lbfgs"``/``"bfgs"`` and every method of :func:`symcalc.minimize`.
OPTIMIZERS: tuple[str, ...] = (*DESCENT, "lbfgs", "bfgs", *MINIMIZE_METHODS)


class NotFittedError(SymcalcError, _SklearnNotFitted):
    """``predict``/``score`` before ``fit`` (also scikit-learn's ``NotFittedError``)."""


def _wrap_validation(exc: ValueError) -> SymcalcError:
    """scikit-learn's input error as the matching SymcalcError, its message kept."""
    text = str(exc)
    if "NaN" in text or "infinity" in text:
        return NonFiniteError(text)
    if "feature" in text or "2D array" in text or "shape" in text:
        return ShapeError(text)
    return DataError(text)


@functools.lru_cache(maxsize=64)
def _predictor(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Any:
    """``predict`` compiled once per formula through the one compile path (elementwise)."""
    return compile_elementwise([expr], list(args))


class LossEstimator(BaseEstimator):
    """A scikit-learn estimator whose model is a symcalc loss, trained by symcalc's optimizers.

    ``fit(X, y)`` minimizes the mean (or, as the loss says, sum) of the per-sample loss over
    the rows, with the columns of ``X`` feeding the ``features`` symbols in order, ``y`` the
    ``target`` symbol, and every hyperparameter symbol held at its keyword value. ``predict``
    evaluates the ``output`` expression at the fitted parameters. Use :class:`LossRegressor`
    (R^2 score) and :class:`LossClassifier` (accuracy, ``predict_proba``) for the two usual
    tasks; this base class scores by minus the loss.

    Parameters
    ----------
    loss : Loss, sympy.Expr, str or None
        The per-sample loss. A :class:`symcalc.Loss` declares the parameters; with an
        expression or formula string, every symbol that is not a feature, the target or a
        hyperparameter is a parameter (``features`` is then required). ``None``: the built-in
        linear model, ``z = w1*x1 + ... + wm*xm + b`` (one ``w`` per column of ``X``) with the
        L2 term ``alpha * sum(w_j**2)`` (``alpha=0`` by default); least squares for the
        regressor and this base class, the logistic loss for the classifier.
    output : sympy.Expr or str, optional
        What ``predict`` returns: the model's output in terms of parameters, features and
        hyperparameters; for :class:`LossClassifier` the probability of the positive class,
        in [0, 1]. ``predict=`` is accepted as another name for it (the estimator's method
        is called ``predict``, so the attribute is ``output``).
    features : sequence of Symbol or str, optional
        The data symbols fed by the columns of ``X``, in order. By default, the loss's data
        symbols used by ``output`` (in the loss's order; all non-target ones without
        ``output``).
    target : Symbol or str, optional
        The data symbol fed by ``y``. By default the one data symbol that is neither used by
        ``output`` nor a hyperparameter; without ``output`` there is none (``y`` unused).
    optimizer : str
        ``"newton"`` (default; exact Hessian), ``"lbfgs"``, ``"bfgs"``, any other method of
        :func:`symcalc.minimize`, or a first-order method of :func:`symcalc.gradient_descent`:
        ``"gd"``, ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``.
    params_init : mapping {Symbol or name: float} or array-like, optional
        Starting parameters (zeros by default).
    tol : float, optional
        Convergence tolerance, passed to the optimizer (its default when None).
    max_iter : int, optional
        Iterations (``minimize``) or epochs (``gradient_descent``, 1000 by default).
    learning_rate : float or "auto", optional
        First-order methods only: ``"auto"`` by default (``0.01`` for Adam).
    batch_size : int, optional
        First-order methods only: rows per mini-batch (full batch by default).
    random_state : int, optional
        Seed of the mini-batch shuffling.
    **hyperparameters : float
        One value per hyperparameter symbol of the loss (data symbols that are neither
        features nor the target), e.g. ``alpha=0.1``. They are estimator parameters:
        ``get_params``/``set_params`` and ``GridSearchCV`` see them by name.

    Attributes
    ----------
    params_ : dict {str: float}
        The fitted parameters by name.
    result_ : DescentResult
        The optimizer's full result (history, message).
    n_iter_ : int
        Iterations (or epochs) the optimizer ran.
    converged_ : bool
        Whether it converged (a ``ConvergenceWarning`` says why when not).
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
    coef_, intercept_ : ndarray, float
        The built-in linear model only: ``w`` and ``b``.

    Raises
    ------
    SymbolError
        In ``fit``: a data symbol without a role, a hyperparameter without a value or not in
        the loss, ``X`` with a different number of columns than the loss has features.
    DataError
        Bad ``X``/``y`` (scikit-learn's message; NaN/inf as NonFiniteError, shapes as
        ShapeError).

    Examples
    --------
    >>> import numpy as np, sympy as sp, symcalc as sc
    >>> from symcalc.sklearn import LossRegressor
    >>> w, b, x, y = sp.symbols("w b x y")
    >>> loss = sc.Loss((y - (w*x + b))**2, params=[w, b], data=[x, y])
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> est = LossRegressor(loss, output=w*x + b).fit(X, [1.0, 3.0, 5.0])
    >>> {k: round(v, 6) for k, v in est.params_.items()}
    {'w': 2.0, 'b': 1.0}
    >>> est.predict([[3.0]]).round(6)
    array([7.])
    """

    _kind = "estimator"

    def __init__(
        self,
        loss: Any = None,
        *,
        output: Any = None,
        features: Any = None,
        target: Any = None,
        optimizer: str = "newton",
        params_init: Any = None,
        tol: float | None = None,
        max_iter: int | None = None,
        learning_rate: float | str | None = None,
        batch_size: int | None = None,
        random_state: int | None = None,
        **hyperparameters: float,
    ) -> None:
        if "predict" in hyperparameters:  # the spelling; stored as ``output``
            output = hyperparameters.pop("predict")
        self.loss = loss
        self.output = output
        self.features = features
        self.target = target
        self.optimizer = optimizer
        self.params_init = params_init
        self.tol = tol
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state
        self._hyper = dict(hyperparameters)

    # ------------------------------------------------------------------ parameters
    def _hyperparameters(self) -> dict[str, Any]:
        """Hyperparameter values by name: the built-in model's defaults, then those given."""
        base = dict(LINEAR_HYPERPARAMETERS) if self.loss is None else {}
        return {**base, **self._hyper}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters and hyperparameters (scikit-learn protocol)."""
        return {**super().get_params(deep=deep), **self._hyperparameters()}

    def set_params(self, **params: Any) -> LossEstimator:
        """Set constructor parameters or hyperparameters (scikit-learn protocol)."""
        if "predict" in params:
            params["output"] = params.pop("predict")
        hyper = set(self._hyperparameters())
        plain = {k: v for k, v in params.items() if k not in hyper}
        if plain:
            super().set_params(**plain)
        self._hyper.update({k: v for k, v in params.items() if k in hyper})
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._supervised()
        return tags

    def _supervised(self) -> bool:
        if self.loss is None:
            return True
        try:
            return self._spec(None).target is not None
        except SymcalcError:
            return True

    # ------------------------------------------------------------------ formula
    def _spec(self, n_features: int | None) -> Spec:
        if self.loss is None:
            kind = "classifier" if self._kind == "classifier" else "regressor"
            return linear_spec(kind, n_features or 1)
        spec = spec_for(self.loss, self.output, self.features, self.target, list(self._hyper))
        if n_features is not None and n_features != len(spec.features):
            raise ShapeError(
                f"X has {n_features} feature(s) (columns) but the loss has "
                f"{len(spec.features)} feature symbol(s) {[s.name for s in spec.features]}; "
                "pass features=[...] to choose the data symbols X feeds"
            )
        return spec

    def _hyper_values(self, spec: Spec) -> list[float]:
        given = self._hyperparameters()
        unknown = sorted(set(given) - {h.name for h in spec.hypers})
        if unknown:
            raise SymbolError(
                f"hyperparameter(s) {unknown} are not data symbols of the loss; its "
                f"hyperparameters are {[h.name for h in spec.hypers]}"
            )
        out = []
        for h in spec.hypers:  # every one has a value: the spec's hypers are the names given
            try:
                out.append(float(given[h.name]))
            except (TypeError, ValueError):
                raise SymcalcError(f"hyperparameter {h.name!r} must be a number; got "
                                   f"{describe(given[h.name])}") from None
        return out

    # ------------------------------------------------------------------ validation
    def _validate(self, X: Any, y: Any = None, *, reset: bool) -> Any:
        check = {"dtype": np.float64, "ensure_all_finite": True}
        try:
            if not reset:
                return validate_data(self, X, reset=False, **check)
            if y is None and not self._supervised():
                return validate_data(self, X, reset=True, **check), None
            return validate_data(self, X, y, reset=True, y_numeric=self._kind != "classifier",
                                 **check)
        except ValueError as exc:
            raise _wrap_validation(exc) from None

    def _data(self, spec: Spec, X: np.ndarray, y: np.ndarray | None) -> dict[sp.Symbol, Any]:
        data: dict[sp.Symbol, Any] = {f: X[:, j] for j, f in enumerate(spec.features)}
        if spec.target is not None:
            data[spec.target] = y
        for h, v in zip(spec.hypers, self._hyper_values(spec)):
            data[h] = np.full(X.shape[0], v)
        return data

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any = None) -> LossEstimator:
        """Minimize the loss over the rows of ``(X, y)``; returns the fitted estimator."""
        X, y = self._validate(X, y, reset=True)
        spec = self._spec(X.shape[1])
        result = self._minimize(spec, self._data(spec, X, y))
        self._store(spec, [result])
        return self

    def _minimize(self, spec: Spec, data: Mapping[sp.Symbol, Any]) -> DescentResult:
        method = self.optimizer.lower() if isinstance(self.optimizer, str) else None
        known = {m.lower() for m in OPTIMIZERS}
        if method not in known:
            raise SymcalcError(f"optimizer must be one of {', '.join(map(repr, OPTIMIZERS))}; "
                               f"got {describe(self.optimizer)}")
        x0 = None if self.params_init is None else as_theta(self.params_init, spec.params,
                                                            "params_init")
        if method in DESCENT:
            lr = self.learning_rate
            if lr is None:
                lr = 0.01 if method == "adam" else "auto"
            return gradient_descent(
                spec.loss, data, x0=x0, learning_rate=lr, method=method,
                epochs=1000 if self.max_iter is None else self.max_iter,
                tol=1e-10 if self.tol is None else self.tol, batch_size=self.batch_size,
                seed=self.random_state,
            )
        return minimize(spec.loss, data, x0, method=_ALIASES.get(method, method), tol=self.tol,
                        maxiter=self.max_iter)

    def _store(self, spec: Spec, results: list[DescentResult]) -> None:
        names = [p.name for p in spec.params]
        xs = np.array([r.x for r in results])  # (n_models, n_params)
        single = len(results) == 1
        self.params_ = {n: (float(xs[0, i]) if single else xs[:, i].copy())
                        for i, n in enumerate(names)}
        self.result_ = results[0] if single else results
        iters = np.array([r.nit for r in results])
        self.n_iter_ = int(iters[0]) if single else iters
        self.converged_ = all(bool(r.converged) for r in results)
        for r in results:
            if not r.converged:
                warnings.warn(f"{type(self).__name__}: {r.message}", ConvergenceWarning,
                              stacklevel=3)
        if spec.linear:
            self.coef_ = xs[:, :-1] if self._kind == "classifier" else xs[0, :-1]
            self.intercept_ = xs[:, -1] if self._kind == "classifier" else float(xs[0, -1])

    # ------------------------------------------------------------------ predicting
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) "
                                 "before using it")

    def _outputs(self, X: Any) -> np.ndarray:
        """``output`` at the fitted parameters, shape (n_samples,) or (n_models, n_samples)."""
        self._check_fitted()
        X = self._validate(X, reset=False)
        spec = self._spec(X.shape[1])
        if spec.output is None:
            raise SymcalcError(f"{type(self).__name__} has no output expression for predict; "
                               "pass output=... (the model's output as a formula)")
        fn = _predictor(spec.output, (*spec.params, *spec.features, *spec.hypers))
        hyper = self._hyper_values(spec)
        cols = [X[:, j] for j in range(X.shape[1])]
        rows = []
        for k in range(np.atleast_1d(self.n_iter_).shape[0]):
            theta = [np.atleast_1d(self.params_[p.name])[k] for p in spec.params]
            (out,) = fn(*theta, *cols, *hyper) if cols else fn(*theta, *hyper)
            rows.append(np.broadcast_to(out, (X.shape[0],)))
        out = np.array(rows)
        if np.isnan(out).any():
            i = int(np.argmax(np.isnan(out).any(axis=0)))
            raise NonFiniteError(f"predict is NaN at row {i} of X: the output expression is "
                                 "undefined there")
        return out if len(rows) > 1 else out[0]

    def predict(self, X: Any) -> np.ndarray:
        """The ``output`` expression at the fitted parameters, one value per row of ``X``."""
        return self._outputs(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the loss (mean or sum over rows) at the fitted parameters: higher is better."""
        self._check_fitted()
        X2 = self._validate(X, reset=False)
        spec = self._spec(X2.shape[1])
        yv = None if spec.target is None else np.asarray(y, dtype=np.float64).ravel()
        theta = [self.params_[p.name] for p in spec.params]
        return -spec.loss.compile().value(theta, self._data(spec, X2, yv))


class LossRegressor(RegressorMixin, LossEstimator):
    """A regressor from a symcalc loss: ``predict`` gives ``output``, ``score`` is R^2.

    Same parameters as :class:`LossEstimator`; ``loss=None`` is least squares on a linear
    model with an L2 weight ``alpha`` (ridge regression; ``alpha=0`` by default).

    Examples
    --------
    >>> import numpy as np
    >>> from symcalc.sklearn import LossRegressor
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 3.0]])
    >>> y = 1.0 + 2.0 * X[:, 0] - X[:, 1]
    >>> est = LossRegressor().fit(X, y)
    >>> est.coef_.round(6), round(est.intercept_, 6)
    (array([ 2., -1.]), 1.0)
    """

    _kind = "regressor"


class LossClassifier(ClassifierMixin, LossEstimator):
    """A classifier from a symcalc loss: ``predict_proba`` from the ``output`` expression.

    ``output`` gives the probability of the positive class (``classes_[1]``) in [0, 1]; the
    target symbol takes ``target_values[0]`` for ``classes_[0]`` and ``target_values[1]`` for
    ``classes_[1]`` (0 and 1 by default; ``(-1, 1)`` suits margin losses such as
    ``log(1 + exp(-y*z))``). With more than two classes, one model per class is fitted
    against the rest (one-vs-rest) and the probabilities are normalised; ``params_`` then holds
    one array (one entry per class) per parameter. ``loss=None`` is L2-regularised logistic
    regression on a linear model (weight ``alpha``, 0 by default).

    Parameters
    ----------
    target_values : tuple of two floats
        The target symbol's value for the negative and the positive class. The other
        parameters are those of :class:`LossEstimator`.

    Examples
    --------
    >>> import numpy as np
    >>> from symcalc.sklearn import LossClassifier
    >>> X = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    >>> clf = LossClassifier(alpha=0.1).fit(X, ["no", "no", "yes", "no", "yes", "yes"])
    >>> clf.classes_.tolist(), clf.predict([[-3.0], [3.0]]).tolist()
    (['no', 'yes'], ['no', 'yes'])
    """

    _kind = "classifier"

    def __init__(self, loss: Any = None, *, output: Any = None, features: Any = None,
                 target: Any = None, target_values: tuple[float, float] = (0.0, 1.0),
                 optimizer: str = "newton", params_init: Any = None, tol: float | None = None,
                 max_iter: int | None = None, learning_rate: float | str | None = None,
                 batch_size: int | None = None, random_state: int | None = None,
                 **hyperparameters: float) -> None:
        super().__init__(loss, output=output, features=features, target=target,
                         optimizer=optimizer, params_init=params_init, tol=tol,
                         max_iter=max_iter, learning_rate=learning_rate, batch_size=batch_size,
                         random_state=random_state, **hyperparameters)
        self.target_values = target_values

    def fit(self, X: Any, y: Any = None) -> LossClassifier:
        """Fit the binary model (one per class against the rest with more than two classes)."""
        X, y = self._validate(X, y, reset=True)
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise DataError(str(exc)) from None
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise DataError(f"y has 1 class ({self.classes_[0]!r}); a classifier needs "
                            "samples of at least 2 classes")
        spec = self._spec(X.shape[1])
        if spec.target is None or spec.output is None:
            raise SymcalcError("LossClassifier needs a target symbol and an output expression "
                               "(the probability of the positive class)")
        lo, hi = self._target_values()
        positives = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        results = []
        for cls in positives:
            results.append(self._minimize(spec, self._data(spec, X, np.where(y == cls, hi, lo))))
        self._store(spec, results)
        return self

    def _target_values(self) -> tuple[float, float]:
        try:
            lo, hi = (float(v) for v in self.target_values)
        except (TypeError, ValueError):
            raise SymcalcError(f"target_values must be two numbers (negative class, positive "
                               f"class); got {describe(self.target_values)}") from None
        return lo, hi

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        p = np.atleast_2d(self._outputs(X))
        if ((p < 0) | (p > 1)).any():
            raise SymcalcError(
                f"output must be the probability of the positive class, in [0, 1]; it "
                f"gives values from {p.min():.6g} to {p.max():.6g} (wrap a score in a "
                "sigmoid, e.g. 1/(1 + exp(-z)))"
            )
        if p.shape[0] == 1:
            return np.column_stack([1 - p[0], p[0]])
        total = p.sum(axis=0)
        flat = total == 0  # every one-vs-rest model says "not mine": uniform
        proba: np.ndarray = np.where(flat, 1 / p.shape[0], p / np.where(flat, 1, total)).T
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row (ties go to the earlier class)."""
        proba = self.predict_proba(X)  # first: it checks that the estimator is fitted
        labels: np.ndarray = self.classes_[np.argmax(proba, axis=1)]
        return labels

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
