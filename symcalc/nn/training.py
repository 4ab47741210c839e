"""The training loop of :meth:`symcalc.nn.Sequential.fit` (mini-batch backpropagation).

Kept apart from the model's structure: argument checks (validation data or split, sample and
class weights, callbacks), the epoch loop with its logs, metrics, progress output and the
guards that keep the best weights on divergence or Ctrl-C.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validate import as_float_array, as_rng, check_int, describe
from ..errors import DataError, ShapeError, SymcalcError
from .callbacks import Callback, History
from .progress import EpochProgress, resolve_verbose

Sequential = Any  # the model (symcalc.nn.model imports this module, so not the other way)

__all__ = ["fit", "check_sample_weight", "class_weights_to_sample_weights"]


def check_sample_weight(sample_weight: Any, n: int, name: str = "sample_weight"
                        ) -> np.ndarray | None:
    """Non-negative finite weights, one per sample (shape (n,) or (n, 1)), or None."""
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, name, ndim=None)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ShapeError(f"{name} must have shape ({n},), one weight per sample; got {w.shape}")
    if (w < 0).any():
        i = int(np.argmax(w < 0))
        raise DataError(f"{name} must be non-negative; found {w[i]:g} at index {i}")
    return w


def class_weights_to_sample_weights(class_weight: Any, y: np.ndarray) -> np.ndarray:
    """Keras's rule: each sample weighs ``class_weight[its class]`` (1 for classes not in the
    dict); the class is the argmax of a one-hot row, or the rounded label of one column."""
    if not isinstance(class_weight, Mapping):
        raise SymcalcError(
            f"class_weight must be a dict {{class index: weight}}; got {describe(class_weight)}"
        )
    table: dict[int, float] = {}
    for key, value in class_weight.items():
        ok_key = isinstance(key, (int, np.integer)) and not isinstance(key, bool)
        ok_value = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
        if not ok_key or not ok_value or not math.isfinite(value) or value < 0:
            raise SymcalcError(
                "class_weight must map integer class indices to non-negative weights; got "
                f"{describe(key)}: {describe(value)}"
            )
        table[int(key)] = float(value)
    labels = y.argmax(axis=1) if y.shape[1] > 1 else np.round(y[:, 0]).astype(np.int64)
    return np.array([table.get(int(c), 1.0) for c in labels])


def _split_validation(model: Sequential, X: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                      validation_data: Any, split: Any) -> tuple[Any, ...]:
    """``(X, y, w, val)`` with ``val = (X_val, y_val, w_val)`` or None."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            got = describe(validation_data)
            raise SymcalcError(
                f"validation_data must be a pair (X_val, y_val) or a triple (X_val, y_val, "
                f"sample_weight_val); got {got}"
            )
        Xv, yv = model._check_xy(*validation_data[:2], names=("validation X", "validation y"))
        wv = (check_sample_weight(validation_data[2], len(Xv), "validation sample_weight")
              if len(validation_data) == 3 else None)
        return X, y, w, (Xv, yv, wv)
    numeric = isinstance(split, (int, float, np.number)) and not isinstance(split, bool)
    if not numeric or not 0.0 <= float(split) < 1.0:
        raise SymcalcError(f"validation_split must be a number in [0, 1); got {describe(split)}")
    split = float(split)
    if split == 0.0:
        return X, y, w, None
    cut = math.ceil(len(X) * (1.0 - split))  # Keras: the last fraction, before shuffling
    if cut >= len(X) or cut == 0:
        raise SymcalcError(
            f"validation_split={split:g} of {len(X)} samples leaves an empty training or "
            "validation set"
        )
    wv = None if w is None else w[cut:]
    return X[:cut], y[:cut], None if w is None else w[:cut], (X[cut:], y[cut:], wv)


def _check_callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    out = list(callbacks)
    for cb in out:
        if not isinstance(cb, Callback):
            raise SymcalcError(f"callbacks must be Callback instances; got {describe(cb)}")
    return out


class _BestWeights:
    """The weights after the epoch with the lowest finite training loss (the starting weights
    before any epoch ends): what an interrupted or diverged ``fit`` leaves in the model."""

    def __init__(self, model: Sequential) -> None:
        self.model, self.loss = model, math.inf
        self.weights = model.get_weights()

    def update(self, loss: float) -> None:
        if math.isfinite(loss) and loss <= self.loss:
            self.loss, self.weights = loss, self.model.get_weights()

    def restore(self) -> None:
        self.model.set_weights(self.weights)


def _train_epoch(model: Sequential, X: np.ndarray, y: np.ndarray, w: np.ndarray | None,
                 batch_size: int, rng: np.random.Generator | None,
                 progress: EpochProgress | None) -> float:
    """One pass over the (shuffled) data; the metrics see each batch before its update."""
    if rng is not None:
        order = rng.permutation(len(X))
        X, y = X.take(order, axis=0), y.take(order, axis=0)
        w = None if w is None else w.take(order)
    opt = model.optimizer
    slots = model._weight_slots()
    metrics = model.metrics
    live = progress is not None and progress.live
    total = 0.0
    for start in range(0, len(X), batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        wb = None if w is None else w[start : start + batch_size]
        value, grads, out = model._loss_and_grads(xb, yb, wb)
        total += value * len(xb)
        if metrics:
            pred = model._output_from(out)
            for m in metrics:
                m.update(yb, pred)
        for key, ((layer, attr), g) in enumerate(zip(slots, grads)):
            setattr(layer, attr, opt.step(getattr(layer, attr), g, key=key))
        if live:
            progress.batch_end(total / (start + len(xb)))  # type: ignore[union-attr]
    return total / len(X)


def _epoch_logs(model: Sequential, train_loss: float, val: tuple | None) -> dict[str, float]:
    """Keras's order: the training logs sorted by name, then the validation logs sorted."""
    logs = {"loss": train_loss}
    for m in model.metrics:
        logs[m.name] = m.result()
        m.reset()
    logs = dict(sorted(logs.items()))
    if val is not None:
        val_logs = model._evaluate_logs(*val)
        logs.update({f"val_{k}": v for k, v in val_logs.items()})
    return logs


def fit(model: Sequential, X: Any, y: Any, *, epochs: int, batch_size: int | None,
        shuffle: bool, validation_data: Any, validation_split: float,
        callbacks: Sequence[Callback] | None, verbose: Any,
        seed: int | np.random.Generator | None, class_weight: Any, sample_weight: Any,
        initial_epoch: int) -> History:
    """See :meth:`symcalc.nn.Sequential.fit`."""
    model._require_compiled("fit")
    X, y = model._check_xy(X, y)
    epochs = check_int(epochs, "epochs", minimum=1)
    initial_epoch = check_int(initial_epoch, "initial_epoch", minimum=0)
    batch_size = 32 if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
    verbose = resolve_verbose(verbose)
    if class_weight is not None and sample_weight is not None:
        raise SymcalcError("give class_weight or sample_weight, not both (as Keras)")
    w = check_sample_weight(sample_weight, len(X))
    if class_weight is not None:
        w = class_weights_to_sample_weights(class_weight, y)
    rng = model._rng if seed is None else as_rng(seed)
    X, y, w, val = _split_validation(model, X, y, w, validation_data, validation_split)
    history = History()
    history.params = {"epochs": epochs, "steps": math.ceil(len(X) / batch_size),
                      "batch_size": batch_size, "samples": len(X), "verbose": verbose,
                      "interrupted": False}
    cbs: list[Callback] = [history, *_check_callbacks(callbacks)]
    progress = (EpochProgress(verbose, epochs, history.params["steps"]) if verbose else None)
    _run_epochs(model, (X, y, w), val, cbs, history, progress, batch_size,
                rng if shuffle else None, range(initial_epoch, epochs))
    return history


def _run_epochs(model: Sequential, train: tuple, val: tuple | None, cbs: list[Callback],
                history: History, progress: EpochProgress | None, batch_size: int,
                rng: np.random.Generator | None, epochs: range) -> None:
    for cb in cbs:
        cb.set_model(model)
    model.stop_training = False
    for m in model.metrics:
        m.reset()
    for cb in cbs:
        cb.on_train_begin({"validating": val is not None, "keys": model._log_keys(val)})
    best = _BestWeights(model)
    try:
        for epoch in epochs:
            for cb in cbs:
                cb.on_epoch_begin(epoch)
            if progress is not None:
                progress.epoch_begin(epoch)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss = _train_epoch(model, *train, batch_size, rng, progress)
                logs = _epoch_logs(model, loss, val)
            best.update(loss)
            if progress is not None:
                progress.epoch_end(epoch, logs)
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if not np.isfinite(loss):
                _diverged(model, best, history, epoch, loss)
            if model.stop_training:
                history.stopped_epoch = epoch
                break
    except KeyboardInterrupt:
        best.restore()  # also undoes a half-applied step of the interrupted batch
        history.interrupted = history.params["interrupted"] = True
        if progress is not None:
            progress.close()
            print(f"Interrupted; keeping the weights of the best of {len(history.epoch)} "
                  "epoch(s)")
    finally:
        model._clear_caches()
    for cb in cbs:
        cb.on_train_end({})


def _diverged(model: Sequential, best: _BestWeights, history: History, epoch: int,
              loss: float) -> None:
    best.restore()
    history.diverged = True
    warnings.warn(
        f"the training loss became {loss} in epoch {epoch}; training stopped and the weights "
        "of the best epoch so far were restored (try a smaller learning_rate or scaled inputs)",
        UserWarning, stacklevel=5,
    )
    model.stop_training = True
