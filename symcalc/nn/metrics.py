"""Training metrics with Keras's names, logged per epoch in ``History.history``.

``compile(metrics=[...])`` takes names (``"accuracy"``, ``"binary_accuracy"``,
``"categorical_accuracy"``, ``"sparse_categorical_accuracy"``, ``"auc"``, ``"mse"``,
``"mae"``, ...) or callables ``fn(y_true, y_pred)`` returning one value per sample (or one
value). As in Keras, a metric is logged under the string it was given (a callable under its
``__name__``), the training value is accumulated over the epoch's batches (each computed
before that batch's update), the validation value is prefixed ``val_``, and metrics are not
weighted by ``sample_weight``. ``"accuracy"`` becomes binary accuracy (threshold 0.5) for one
output unit and categorical accuracy (argmax) otherwise. ``"auc"`` is the exact ROC AUC of all
the epoch's predictions (:func:`symcalc.roc_auc_score`; Keras approximates it with 200
thresholds), over the flattened outputs for several units (Keras's ``multi_label=False``).

>>> import numpy as np
>>> m = get_metric("accuracy", units=1)
>>> m.update(np.array([[1.0], [0.0]]), np.array([[0.8], [0.7]]))
>>> m.name, m.result(), m.direction
('accuracy', 0.5, 'up')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validate import describe
from ..errors import SymcalcError
from ..metrics import roc_auc_score

__all__ = ["Metric", "get_metric", "get_metrics", "METRICS"]


def _binary_accuracy(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (y == (p > 0.5)).mean(axis=1)


def _categorical_accuracy(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (y.argmax(axis=1) == p.argmax(axis=1)).astype(np.float64)


def _mse(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return ((p - y) ** 2).mean(axis=1)


def _mae(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.abs(p - y).mean(axis=1)


#: Per-sample metric functions by Keras name, with the direction of improvement ("up" for
#: metrics to maximize, "down" for errors), which ``EarlyStopping(mode="auto")`` follows.
METRICS: dict[str, tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], str]] = {
    "binary_accuracy": (_binary_accuracy, "up"),
    "categorical_accuracy": (_categorical_accuracy, "up"),
    "sparse_categorical_accuracy": (_categorical_accuracy, "up"),  # targets arrive one-hot
    "mse": (_mse, "down"),
    "mean_squared_error": (_mse, "down"),
    "mae": (_mae, "down"),
    "mean_absolute_error": (_mae, "down"),
}
_ACCURACY = ("accuracy", "acc")


class Metric:
    """A metric accumulated over batches: ``update(y_true, y_pred)``, ``result()``, ``reset()``.

    Attributes
    ----------
    name : str
        The key in ``History.history`` (``"val_" + name`` for validation).
    direction : {"up", "down"} or None
        Whether larger values are better; None for callables (EarlyStopping then needs an
        explicit ``mode``).
    """

    def __init__(self, name: str, fn: Callable[..., Any], direction: str | None) -> None:
        self.name, self.fn, self.direction = name, fn, direction
        self.reset()

    def reset(self) -> None:
        self._total, self._count = 0.0, 0

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        values = np.asarray(self.fn(y_true, y_pred), dtype=np.float64)
        if values.ndim == 0:
            values = np.full(len(y_true), float(values))
        if values.shape != (len(y_true),):
            raise SymcalcError(
                f"metric {self.name!r} must return one value per sample (shape "
                f"({len(y_true)},)) or a single value; got shape {values.shape}"
            )
        self._total += float(values.sum())
        self._count += len(values)

    def result(self) -> float:
        return self._total / self._count if self._count else float("nan")

    def __repr__(self) -> str:
        return f"Metric({self.name!r}, direction={self.direction!r})"


class AUC(Metric):
    """Exact ROC AUC of every prediction seen since the last reset."""

    def __init__(self, name: str = "auc") -> None:
        super().__init__(name, roc_auc_score, "up")

    def reset(self) -> None:
        self._true: list[np.ndarray] = []
        self._score: list[np.ndarray] = []

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self._true.append(np.asarray(y_true).ravel())
        self._score.append(np.asarray(y_pred).ravel())

    def result(self) -> float:
        if not self._true:
            return float("nan")
        y, s = np.concatenate(self._true), np.concatenate(self._score)
        try:
            return float(roc_auc_score(y, s))
        except SymcalcError as exc:
            raise SymcalcError(f"metric {self.name!r} could not be computed: {exc}") from None


def get_metric(spec: str | Callable[..., Any], *, units: int) -> Metric:
    """A fresh :class:`Metric` from a Keras name or a callable ``fn(y_true, y_pred)``.

    ``units`` (the output layer's) resolves ``"accuracy"`` as Keras does: binary accuracy for
    one unit, categorical accuracy otherwise (targets of the sparse loss arrive one-hot).
    """
    if isinstance(spec, str):
        key = spec.lower()
        if key in _ACCURACY:
            fn = _binary_accuracy if units == 1 else _categorical_accuracy
            return Metric(spec, fn, "up")
        if key == "auc":
            return AUC(spec)
        if key in METRICS:
            fn, direction = METRICS[key]
            return Metric(spec, fn, direction)
        known = ", ".join(map(repr, [*_ACCURACY, "auc", *METRICS]))
        raise SymcalcError(f"metrics must be names ({known}) or callables; got {spec!r}")
    if callable(spec):
        name = getattr(spec, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            name = type(spec).__name__
        return Metric(name, spec, getattr(spec, "direction", None))
    raise SymcalcError(
        f"metrics must be names or callables fn(y_true, y_pred); got {describe(spec)}"
    )


def get_metrics(specs: Sequence[Any] | None, *, units: int) -> list[Metric]:
    """Metric objects for ``compile(metrics=...)``; refuses duplicate names and "loss"."""
    if specs is None:
        return []
    if isinstance(specs, (str, bytes)) or callable(specs) or not isinstance(specs, Sequence):
        raise SymcalcError(
            f"metrics must be a list of names or callables, e.g. ['accuracy']; got "
            f"{describe(specs)}"
        )
    out = [get_metric(s, units=units) for s in specs]
    names = [m.name for m in out]
    for name in names:
        if name == "loss" or names.count(name) > 1:
            raise SymcalcError(
                f"metric names must be unique and differ from 'loss'; got {names}"
            )
    return out
