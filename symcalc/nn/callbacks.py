"""Training callbacks: the History record and EarlyStopping (built on the convergence rule).

A callback receives ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_epoch_end(epoch, logs)`` and ``on_train_end(logs)``; ``logs`` holds the epoch's
``"loss"``, one key per metric, and the ``"val_"`` keys when validating (Keras's names and
order). Setting ``model.stop_training = True`` ends training after
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
        ``"loss"`` (mean training loss over the epoch's batches, weighted by batch size), one
        key per compiled metric, and ``"val_loss"``/``"val_<metric>"`` when validating.
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
    """Stop training when the monitored quantity has not improved for ``patience`` epochs.

    Improvement follows Keras: with ``mode="min"`` a value is better when it is below the best
    so far by more than ``min_delta`` (``"max"``: above). ``mode="auto"`` decides as Keras 3
    does: ``loss``/``val_loss`` and error metrics (mse, mae) are minimized, accuracies and AUC
    maximized; a callable metric needs an explicit mode. The sequence of best values (updated
    only on improvements) is handed to the convergence rule
    :func:`symcalc.convergence.check_convergence` with ``window=patience``: training stops when
    the best value did not move over the last ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        ``"val_loss"``, ``"loss"``, or a metric's log key (``"accuracy"``, ``"val_auc"``...).
        ``val_`` keys need validation data in ``fit``.
    min_delta : float
        Minimum change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping (0: stop at the first one).
    verbose : {0, 1}
        1 prints a line when training is stopped and when best weights are restored.
    mode : {"auto", "min", "max"}
    restore_best_weights : bool
        Whenever training ends (stopped early, ran all epochs, or interrupted), set the
        weights of the best epoch (as in Keras 3).
    start_from_epoch : int
        Epochs to wait before monitoring (a warm-up, as Keras).

    Attributes
    ----------
    best, best_epoch, stopped_epoch, best_weights, mode_used

    Examples
    --------
    >>> stop = EarlyStopping(monitor="loss", patience=3, min_delta=1e-4)
    >>> stop
    EarlyStopping(monitor='loss', mode='auto', patience=3, min_delta=0.0001, restore_best_weights=False)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise SymcalcError(f"monitor must be a log key such as 'val_loss'; got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = abs(check_positive(min_delta, "min_delta", allow_zero=True))
        self.verbose = check_int(verbose, "verbose", minimum=0)
        self.mode = check_choice(mode, ("auto", "min", "max"), "mode")
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch", minimum=0)
        self._reset()

    def _reset(self) -> None:
        self._best = np.inf  # of the value to minimize (the negated value in "max" mode)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.mode_used: str | None = None
        self._best_values: list[float] = []

    def _direction(self) -> str:
        """"min" or "max", decided as Keras 3's ``mode="auto"``."""
        if self.mode != "auto":
            return self.mode
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return "min"
        for metric in getattr(self.model, "metrics", []):
            if metric.name == name and metric.direction is not None:
                return "max" if metric.direction == "up" else "min"
        raise SymcalcError(
            f"EarlyStopping(monitor={self.monitor!r}) cannot tell whether that metric should be "
            "maximized or minimized; pass mode='max' (e.g. for accuracies) or mode='min'"
        )

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()
        logs = logs or {}
        keys = logs.get("keys")
        if self.monitor.startswith("val_") and not logs.get("validating", False):
            raise SymcalcError(
                f"EarlyStopping(monitor={self.monitor!r}) needs validation: pass "
                "validation_data or validation_split to fit, or monitor a training key such as "
                "'loss'"
            )
        if keys is not None and self.monitor not in keys:
            raise SymcalcError(
                f"EarlyStopping(monitor={self.monitor!r}) is not among the logged keys "
                f"{keys}; add the metric to compile(metrics=...)"
            )
        self.mode_used = self._direction()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if epoch < self.start_from_epoch:
            return
        if self.mode_used is None:  # used without fit's on_train_begin (tests, custom loops)
            self.mode_used = self._direction()
        current = float((logs or {})[self.monitor])
        # minimize -x for "max": improvements and the convergence rule are then the same
        signed = current if self.mode_used == "min" else -current
        if signed < self._best - self.min_delta:
            self._best, self.best_epoch = signed, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        self._best_values.append(self._best)
        if self._should_stop(improved=self.best_epoch == epoch):
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping")

    @property
    def best(self) -> float:
        """The best monitored value so far (inf, or -inf in "max" mode, before any)."""
        return -self._best if self.mode_used == "max" else self._best

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
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")  # type: ignore[operator]
            self.model.set_weights(self.best_weights)

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, mode={self.mode!r}, patience="
            f"{self.patience}, min_delta={self.min_delta:g}, restore_best_weights="
            f"{self.restore_best_weights})"
        )
