"""Training callbacks: the History record and EarlyStopping (built on the convergence rule).

A callback receives ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_epoch_end(epoch, logs)`` and ``on_train_end(logs)``; ``logs`` holds the epoch's
``"loss"`` (and ``"val_loss"``). Setting ``model.stop_training = True`` ends training after
the current epoch, as in Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import check_choice, check_int, check_positive
from ..convergence import check_convergence
from ..errors import SymcalcError

__all__ = ["Callback", "History", "EarlyStopping"]


class Callback:
    """Base class: override any of the hooks; ``self.model`` is set before training."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...


class History(Callback):
    """What ``fit`` returns: per-epoch values, as Keras's ``History``.

    Attributes
    ----------
    history : dict[str, list[float]]
        ``"loss"`` (mean training loss over the epoch's batches, weighted by batch size) and
        ``"val_loss"`` when validating.
    epoch : list[int]
        Epoch indices of this ``fit`` call (0-based).
    params : dict
        ``epochs``, ``steps`` (batches per epoch), ``verbose``, ``interrupted``.
    interrupted : bool
        True when a KeyboardInterrupt ended training; the model then holds the weights of
        the epoch with the lowest training loss so far.
    diverged : bool
        True when the training loss became non-finite; training stopped and the weights of
        the best epoch so far were restored.
    stopped_epoch : int or None
        The epoch at which training stopped early (a callback, or divergence).
    converged : bool
        True when a callback such as EarlyStopping ended training because the monitored
        loss settled; False when all epochs ran, or after an interrupt or divergence.
    message : str
        One sentence saying how training ended.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}
        self.interrupted = False
        self.diverged = False
        self.stopped_epoch: int | None = None

    @property
    def converged(self) -> bool:
        return self.stopped_epoch is not None and not (self.interrupted or self.diverged)

    @property
    def message(self) -> str:
        done = len(self.epoch)
        if self.interrupted:
            return (f"Training interrupted (KeyboardInterrupt) after {done} complete epoch(s); "
                    "the model keeps the weights of the epoch with the lowest loss so far.")
        if self.diverged:
            return (f"Training diverged: the loss became non-finite in epoch "
                    f"{self.stopped_epoch}; the weights of the best epoch so far were restored.")
        if self.stopped_epoch is not None:
            return f"Stopped early by a callback after epoch {self.stopped_epoch}."
        return f"Ran all {done} epoch(s)."

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))

    def __repr__(self) -> str:
        keys = ", ".join(f"{k}: {len(v)} values" for k, v in self.history.items())
        extra = ", interrupted" if self.interrupted else ", diverged" if self.diverged else ""
        return f"History({keys}{extra})"


class EarlyStopping(Callback):
    """Stop training when the monitored loss has not improved for ``patience`` epochs.

    Improvement follows Keras: a value counts as better when it is below the best so far by
    more than ``min_delta``. The sequence of best values (updated only on such improvements)
    is handed to the convergence rule :func:`symcalc.convergence.check_convergence` with
    ``window=patience``: training stops when the best value did not move over the last
    ``patience`` epochs.

    Parameters
    ----------
    monitor : {"val_loss", "loss"}
        ``"val_loss"`` needs validation data in ``fit``.
    patience : int
        Epochs without improvement before stopping (0: stop at the first one).
    min_delta : float
        Minimum decrease that counts as an improvement.
    restore_best_weights : bool
        Whenever training ends (stopped early, ran all epochs, or interrupted), set the
        weights of the best epoch (as in Keras 3).

    Attributes
    ----------
    best, best_epoch, stopped_epoch, best_weights

    Examples
    --------
    >>> stop = EarlyStopping(monitor="loss", patience=3, min_delta=1e-4)
    >>> stop
    EarlyStopping(monitor='loss', patience=3, min_delta=0.0001, restore_best_weights=False)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        restore_best_weights: bool = False,
    ) -> None:
        self.monitor = check_choice(monitor, ("val_loss", "loss"), "monitor")
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = abs(check_positive(min_delta, "min_delta", allow_zero=True))
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best = np.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self._best_values: list[float] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()
        if self.monitor == "val_loss" and not (logs or {}).get("validating", False):
            raise SymcalcError(
                "EarlyStopping(monitor='val_loss') needs validation: pass validation_data or "
                "validation_split to fit, or use monitor='loss'"
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = float((logs or {})[self.monitor])
        if current < self.best - self.min_delta:
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        self._best_values.append(self.best)
        if self._should_stop(improved=self.best_epoch == epoch):
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def _should_stop(self, *, improved: bool) -> bool:
        if improved or len(self._best_values) < 2:
            return False
        # Successive best values differ by 0 (no improvement) or by more than min_delta, so the
        # rule |difference| <= min_delta separates the two cases exactly.
        return self.patience == 0 or check_convergence(
            self._best_values, tol=self.min_delta, window=self.patience
        )

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta:g}, restore_best_weights={self.restore_best_weights})"
        )
