"""scikit-learn estimators built from a symcalc loss (extra ``symcalc[sklearn]``).

:class:`LossEstimator`, :class:`LossRegressor` and :class:`LossClassifier` turn a loss formula
into an estimator that works in ``Pipeline``, ``GridSearchCV`` (hyperparameter symbols of the
formula, such as an L2 weight ``alpha``, are estimator parameters) and ``cross_val_score``,
trained by symcalc's own optimizers (:func:`symcalc.minimize`, :func:`symcalc.gradient_descent`).

They pass :func:`sklearn.utils.estimator_checks.check_estimator` with no expected failures
(see :data:`EXPECTED_FAILED_CHECKS`).
"""

from __future__ import annotations

try:
    import sklearn as _sklearn  # noqa: F401 - the optional dependency, checked once here
except ImportError as _exc:  # pragma: no cover - depends on the environment
    from ..errors import MissingDependencyError

    raise MissingDependencyError(
        f"symcalc.sklearn needs scikit-learn: pip install 'symcalc[sklearn]' ({_exc})"
    ) from None

from ._estimators import OPTIMIZERS, LossClassifier, LossEstimator, LossRegressor, NotFittedError

#: Checks of :func:`sklearn.utils.estimator_checks.check_estimator` these estimators are
#: expected to fail, with the reason (pass it as ``expected_failed_checks``). Empty: every
#: check passes. Tags that change what the checks test are set honestly instead: a
#: classifier with more than two classes fits one model per class (one-vs-rest).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}

__all__ = [
    "LossEstimator",
    "LossRegressor",
    "LossClassifier",
    "NotFittedError",
    "OPTIMIZERS",
    "EXPECTED_FAILED_CHECKS",
]
