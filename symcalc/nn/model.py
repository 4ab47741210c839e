"""``Sequential``: a stack of Dense layers trained by backpropagation (the chain rule).

Backpropagation here is the chain rule applied layer by layer, vectorized over the batch
(there is no loop over samples). With ``z_l = a_{l-1} W_l + b_l`` and ``a_l = sigma_l(z_l)``:

* output layer: ``delta_L = dl/dy_pred(a_L, y) * sigma_L'(z_L) / (n*k)`` (mean over the n
  samples and k outputs), or ``(sigmoid(z_L) - y) / (n*k)`` for sigmoid + cross-entropy;
* hidden layers: ``delta_l = (delta_{l+1} W_{l+1}^T) * sigma_l'(z_l)``;
* gradients: ``dL/dW_l = a_{l-1}^T delta_l`` and ``dL/db_l = sum over rows of delta_l``.

Each ``sigma`` and ``sigma'`` (and the loss and its derivative) is a SymPy expression compiled
through :func:`symcalc.codegen.compile_elementwise`; see :meth:`Sequential.backprop_equations`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import as_float_array, as_rng, check_int, describe
from ..errors import DataError, ShapeError, SymcalcError
from ..optimizers import Optimizer, get_optimizer
from .callbacks import Callback, History
from .layers import Dense
from .losses import LossFunction, LossLike, get_loss

__all__ = ["Sequential"]

_EVAL_ROWS = 8192  # rows per chunk in predict/evaluate (bounds the memory of one call)


class Sequential:
    """A linear stack of :class:`~symcalc.nn.Dense` layers, with a Keras-like interface.

    Parameters
    ----------
    layers : sequence of Dense, optional
    seed : int or numpy.random.Generator, optional
        Seeds weight initialization (layers without their own seed) and, unless ``fit`` gets
        its own seed, the shuffling of batches.
    name : str

    Examples
    --------
    >>> import numpy as np, symcalc as sc
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> y = np.array([0, 1, 1, 0], dtype=float)
    >>> model = sc.nn.Sequential([sc.nn.Dense(8, activation="tanh", input_dim=2),
    ...                           sc.nn.Dense(1, activation="sigmoid")], seed=0)
    >>> model = model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05)
    >>> hist = model.fit(X, y, epochs=300, batch_size=4, seed=0)
    >>> (model.predict(X).ravel() > 0.5).astype(int).tolist()
    [0, 1, 1, 0]
    """

    def __init__(
        self,
        layers: Sequence[Dense] | None = None,
        *,
        seed: int | np.random.Generator | None = None,
        name: str = "sequential",
    ) -> None:
        self.layers: list[Dense] = []
        self.name = str(name)
        self._rng = as_rng(seed)
        self.loss: LossFunction | None = None
        self.optimizer: Optimizer | None = None
        self.stop_training = False
        self._fused = False
        if layers is not None:
            if isinstance(layers, Dense) or not isinstance(layers, Sequence):
                raise SymcalcError(f"layers must be a list of Dense layers; got {describe(layers)}")
            for layer in layers:
                self.add(layer)

    # ------------------------------------------------------------------ structure
    def add(self, layer: Dense) -> None:
        """Append a layer (names default to ``dense``, ``dense_1``, ...)."""
        if not isinstance(layer, Dense):
            raise SymcalcError(f"layers must be Dense instances; got {describe(layer)}")
        if layer.name is None:
            k = len(self.layers)
            layer.name = "dense" if k == 0 else f"dense_{k}"
        self.layers.append(layer)
        if self.loss is not None:
            self._fused = self.loss.fuses_with(layer.activation)

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_dim(self) -> int | None:
        return self.layers[0].input_dim if self.layers else None

    def _build(self, input_dim: int | None = None) -> None:
        if not self.layers:
            raise SymcalcError("the model has no layers; add Dense layers first")
        if self.built:
            return
        dim = input_dim if input_dim is not None else self.layers[0].input_dim
        if dim is None:
            raise SymcalcError(
                "the model is not built: give input_dim to the first layer or call fit first"
            )
        for layer in self.layers:
            layer.build(dim, self._rng)
            dim = layer.units

    def _weight_slots(self) -> list[tuple[Dense, str]]:
        return [(layer, attr) for layer in self.layers
                for attr in (("W", "b") if layer.use_bias else ("W",))]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights in Keras order ``[W1, b1, W2, b2, ...]``, W of shape (in, out)."""
        self._build()
        return [getattr(layer, a).copy() for layer, a in self._weight_slots()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set all weights from a list in :meth:`get_weights` order and shapes."""
        self._build()
        slots = self._weight_slots()
        if isinstance(weights, np.ndarray) or len(weights) != len(slots):
            got = "an array" if isinstance(weights, np.ndarray) else f"{len(weights)} arrays"
            raise ShapeError(f"set_weights expects a list of {len(slots)} arrays; got {got}")
        new = []
        for i, ((layer, attr), w) in enumerate(zip(slots, weights)):
            arr = as_float_array(w, f"weights[{i}]", ndim=None)
            expected = getattr(layer, attr).shape
            if arr.shape != expected:
                raise ShapeError(
                    f"weights[{i}] ({attr} of layer {layer.name}) must have shape {expected}; "
                    f"got {arr.shape}"
                )
            new.append(np.array(arr, dtype=np.float64, order="C"))
        for (layer, attr), arr in zip(slots, new):
            setattr(layer, attr, arr)

    def count_params(self) -> int:
        """Total number of weights and biases."""
        self._build()
        return sum(layer.count_params() for layer in self.layers)

    def summary(self) -> str:
        """Print and return a table of layers, output shapes, parameter counts and activations."""
        self._build()
        rows = [("Layer (type)", "Output Shape", "Param #", "Activation")]
        for layer in self.layers:
            rows.append((f"{layer.name} (Dense)", f"(None, {layer.units})",
                         str(layer.count_params()), layer.activation.name))
        widths = [max(len(r[c]) for r in rows) + 3 for c in range(4)]
        line = "".join(cell.ljust(w) for cell, w in zip(rows[0], widths)).rstrip()
        rule = "=" * max(len(line), 40)
        out = [f'Model: "{self.name}"', rule, line, rule]
        out += ["".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[1:]]
        out += [rule, f"Total params: {self.count_params()}"]
        if self.loss is not None:
            out.append(f"Loss: {self.loss.name}; optimizer: {self.optimizer!r}")
        text = "\n".join(out)
        print(text)
        return text

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: str | Optimizer = "sgd",
        loss: LossLike = "mse",
        learning_rate: float | None = None,
    ) -> Sequential:
        """Choose the optimizer and the loss; returns the model (so calls can be chained).

        Parameters
        ----------
        optimizer : {"sgd", "gd", "momentum", "nesterov", "adam"} or Optimizer
            The shared :mod:`symcalc.optimizers`; each weight array has its own state.
        loss : {"mse", "mae", "binary_crossentropy"} or sympy.Expr
            A SymPy expression in symbols named ``y_pred`` and ``y_true`` (per element; the
            model averages it over samples and outputs).
        learning_rate : float, optional
            For a named optimizer (its default otherwise).
        """
        if isinstance(optimizer, Optimizer) and learning_rate is not None:
            raise SymcalcError(
                "learning_rate applies to optimizer names only; set it on the Optimizer object"
            )
        self.optimizer = get_optimizer(optimizer, learning_rate)
        self.optimizer.reset()
        self.loss = get_loss(loss)
        if self.layers:
            self._fused = self.loss.fuses_with(self.layers[-1].activation)
            if self.layers[0].input_dim is not None:
                self._build()
        return self

    # ------------------------------------------------------------------ data checks
    def _check_x(self, X: Any, name: str = "X") -> np.ndarray:
        X = as_float_array(X, name, ndim=None)
        if X.ndim != 2:
            hint = " (use X.reshape(-1, 1) for a single feature)" if X.ndim == 1 else ""
            raise ShapeError(f"{name} must be 2-D (samples, features){hint}; got shape {X.shape}")
        if self.input_dim is not None and X.shape[1] != self.input_dim:
            raise ShapeError(
                f"{name} has {X.shape[1]} feature column(s); the model expects input_dim="
                f"{self.input_dim}"
            )
        self._build(X.shape[1])
        return X

    def _check_xy(
        self, X: Any, y: Any, names: tuple[str, str] = ("X", "y")
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self.layers:
            raise SymcalcError("the model has no layers; add Dense layers first")
        X = self._check_x(X, names[0])
        y = as_float_array(y, names[1], ndim=None)
        k = self.layers[-1].units
        if y.ndim == 1 and k == 1:
            y = y.reshape(-1, 1)
        if y.ndim != 2 or y.shape[1] != k:
            alt = " or (n_samples,)" if k == 1 else ""
            raise ShapeError(
                f"{names[1]} must have shape (n_samples, {k}){alt} to match the output layer's "
                f"{k} unit(s); got shape {y.shape}"
            )
        if len(y) != len(X):
            raise ShapeError(
                f"{names[0]} and {names[1]} must have the same number of samples; got "
                f"{len(X)} and {len(y)}"
            )
        if self.loss is not None and self.loss.name == "binary_crossentropy":
            outside = (y < 0) | (y > 1)
            if outside.any():
                i = tuple(int(v) for v in np.argwhere(outside)[0])
                raise DataError(
                    f"{names[1]} must hold labels (or probabilities) in [0, 1] for "
                    f"binary_crossentropy; found {y[i]:g} at index {i}"
                )
        return X, y

    def _require_compiled(self, what: str) -> LossFunction:
        if self.loss is None or self.optimizer is None:
            raise SymcalcError(
                f"call compile(optimizer=..., loss=...) before {what}; the model has no loss yet"
            )
        return self.loss

    # ------------------------------------------------------------------ passes
    def _forward(self, X: np.ndarray, *, train: bool, logits: bool) -> np.ndarray:
        a = X
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if i == last and logits:
                a = layer.forward_logits(a, train=train)
            else:
                a = layer.forward(a, train=train)
        return a

    def _loss_and_grads(self, X: np.ndarray, y: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """One forward and one backward pass: the mean loss and its gradients (Keras order)."""
        out = self._forward(X, train=True, logits=self._fused)
        if self._fused:
            value, delta = LossFunction.logit_value_and_delta(out, y)
        else:
            value, delta = self.loss.value_and_delta(out, y)  # type: ignore[union-attr]
        grads: list[np.ndarray] = []
        for i in range(len(self.layers) - 1, -1, -1):
            layer_grads, delta = self.layers[i].backward(delta, need_input_grad=i > 0)
            grads[:0] = layer_grads
        return value, grads

    def _loss_value(self, X: np.ndarray, y: np.ndarray) -> float:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._loss_value_chunks(X, y)

    def _loss_value_chunks(self, X: np.ndarray, y: np.ndarray) -> float:
        total = 0.0
        for start in range(0, len(X), _EVAL_ROWS):
            xb, yb = X[start : start + _EVAL_ROWS], y[start : start + _EVAL_ROWS]
            out = self._forward(xb, train=False, logits=self._fused)
            if self._fused:
                value = LossFunction.logit_value(out, yb)
            else:
                value = self.loss.value(out, yb)  # type: ignore[union-attr]
            total += value * len(xb)
        return total / len(X)

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs, shape (n_samples, units of the last layer)."""
        X = self._check_x(X)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            parts = [self._forward(X[s : s + _EVAL_ROWS], train=False, logits=False)
                     for s in range(0, len(X), _EVAL_ROWS)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def evaluate(self, X: Any, y: Any) -> float:
        """The mean loss on ``(X, y)`` (over samples and outputs)."""
        self._require_compiled("evaluate")
        X, y = self._check_xy(X, y)
        return self._loss_value(X, y)

    def gradients(self, X: Any, y: Any) -> list[np.ndarray]:
        """Gradients of the mean loss on ``(X, y)`` by backpropagation, in
        :meth:`get_weights` order and shapes."""
        self._require_compiled("gradients")
        X, y = self._check_xy(X, y)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._loss_and_grads(X, y)[1]

    def gradient_check(self, X: Any, y: Any, *, order: int = 4, floor: float = 1e-6) -> float:
        """Largest relative error of :meth:`gradients` against central finite differences.

        The error of each weight is ``|g - g_fd| / max(|g|, |g_fd|, floor)`` with ``g_fd`` from
        :func:`symcalc.testing.numeric_gradient` (``order``-accurate stencil). The floor keeps
        weights whose gradient is (nearly) zero from reporting rounding noise as error.
        Costs ``2*order`` loss evaluations per weight: use a small network and few samples.
        """
        from ..testing import numeric_gradient, relative_error

        self._require_compiled("gradient_check")
        X, y = self._check_xy(X, y)
        analytic = np.concatenate([g.ravel() for g in self.gradients(X, y)])
        saved = self.get_weights()
        shapes = [w.shape for w in saved]
        cuts = np.cumsum([w.size for w in saved])[:-1]

        def loss_at(theta: np.ndarray) -> float:
            self.set_weights([p.reshape(s) for p, s in zip(np.split(theta, cuts), shapes)])
            return self._loss_value(X, y)

        try:
            theta = np.concatenate([w.ravel() for w in saved])
            numeric = numeric_gradient(loss_at, theta, order=order)
        finally:
            self.set_weights(saved)
        return float(relative_error(analytic, numeric, floor=floor).max())

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int | None = 32,
        *,
        shuffle: bool = True,
        validation_data: tuple[Any, Any] | None = None,
        validation_split: float = 0.0,
        callbacks: Sequence[Callback] | None = None,
        verbose: int = 0,
        seed: int | np.random.Generator | None = None,
    ) -> History:
        """Train by mini-batch backpropagation; returns a :class:`~symcalc.nn.History`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, units)
        epochs : int
        batch_size : int or None
            Samples per gradient step (None: 32, as Keras).
        shuffle : bool
            Reshuffle the training samples before each epoch.
        validation_data : (X_val, y_val), optional
            Evaluated after each epoch (``history["val_loss"]``); overrides validation_split.
        validation_split : float in [0, 1)
            Fraction of the data held out for validation: as Keras documents, the LAST
            fraction of the samples as given, taken before any shuffling.
        callbacks : list of Callback, optional
            E.g. :class:`~symcalc.nn.EarlyStopping`.
        verbose : {0, 1, 2}
            1 or 2 print one line per epoch with the loss (and val_loss).
        seed : int or numpy.random.Generator, optional
            Seeds the shuffling (the model's generator otherwise).

        Returns
        -------
        History
            ``history.history["loss"]`` (and ``["val_loss"]``), ``epoch``, ``params``. A
            KeyboardInterrupt stops training, keeps the weights so far and sets
            ``history.interrupted`` (and ``params["interrupted"]``).
        """
        self._require_compiled("fit")
        X, y = self._check_xy(X, y)
        epochs = check_int(epochs, "epochs", minimum=1)
        batch_size = 32 if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        verbose = check_int(verbose, "verbose", minimum=0)
        rng = self._rng if seed is None else as_rng(seed)
        X, y, val = self._split_validation(X, y, validation_data, validation_split)
        n = len(X)
        history = History()
        history.params = {"epochs": epochs, "steps": math.ceil(n / batch_size),
                          "batch_size": batch_size, "samples": n, "verbose": verbose,
                          "interrupted": False}
        cbs: list[Callback] = [history, *self._check_callbacks(callbacks)]
        for cb in cbs:
            cb.set_model(self)
        self.stop_training = False
        for cb in cbs:
            cb.on_train_begin({"validating": val is not None})
        best = _BestWeights(self)
        try:
            for epoch in range(epochs):
                for cb in cbs:
                    cb.on_epoch_begin(epoch)
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    logs = {"loss": self._train_epoch(X, y, batch_size, rng if shuffle else None)}
                    if val is not None:
                        logs["val_loss"] = self._loss_value(*val)
                best.update(logs["loss"])
                if verbose:
                    text = " - ".join(f"{k}: {v:.6g}" for k, v in logs.items())
                    print(f"Epoch {epoch + 1}/{epochs} - {text}", flush=True)
                for cb in cbs:
                    cb.on_epoch_end(epoch, logs)
                if not np.isfinite(logs["loss"]):
                    best.restore()
                    history.diverged = True
                    warnings.warn(
                        f"the training loss became {logs['loss']} in epoch {epoch}; training "
                        "stopped and the weights of the best epoch so far were restored (try a "
                        "smaller learning_rate or scaled inputs)",
                        UserWarning, stacklevel=2,
                    )
                    self.stop_training = True
                if self.stop_training:
                    history.stopped_epoch = epoch
                    break
        except KeyboardInterrupt:
            best.restore()  # also undoes a half-applied step of the interrupted batch
            history.interrupted = history.params["interrupted"] = True
            if verbose:
                print(f"Interrupted; keeping the weights of the best of {len(history.epoch)} "
                      "epoch(s)")
        finally:
            self._clear_caches()
        for cb in cbs:
            cb.on_train_end({})
        return history

    def _train_epoch(self, X: np.ndarray, y: np.ndarray, batch_size: int,
                     rng: np.random.Generator | None) -> float:
        if rng is not None:
            order = rng.permutation(len(X))
            X, y = X.take(order, axis=0), y.take(order, axis=0)
        opt: Optimizer = self.optimizer  # type: ignore[assignment]
        slots = self._weight_slots()
        total = 0.0
        for start in range(0, len(X), batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            value, grads = self._loss_and_grads(xb, yb)
            total += value * len(xb)
            for key, ((layer, attr), g) in enumerate(zip(slots, grads)):
                setattr(layer, attr, opt.step(getattr(layer, attr), g, key=key))
        return total / len(X)

    def _split_validation(self, X: np.ndarray, y: np.ndarray, validation_data: Any,
                          split: Any) -> tuple[np.ndarray, np.ndarray, tuple | None]:
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                got = describe(validation_data)
                raise SymcalcError(f"validation_data must be a pair (X_val, y_val); got {got}")
            return X, y, self._check_xy(*validation_data, names=("validation X", "validation y"))
        numeric = isinstance(split, (int, float, np.number)) and not isinstance(split, bool)
        if not numeric or not 0.0 <= float(split) < 1.0:
            raise SymcalcError(
                f"validation_split must be a number in [0, 1); got {describe(split)}"
            )
        split = float(split)
        if split == 0.0:
            return X, y, None
        cut = math.ceil(len(X) * (1.0 - split))  # Keras: the last fraction, before shuffling
        if cut >= len(X) or cut == 0:
            raise SymcalcError(
                f"validation_split={split:g} of {len(X)} samples leaves an empty training or "
                "validation set"
            )
        return X[:cut], y[:cut], (X[cut:], y[cut:])

    @staticmethod
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

    def _clear_caches(self) -> None:
        for layer in self.layers:
            layer._input = layer._dsigma = None

    # ------------------------------------------------------------------ display
    def backprop_equations(self) -> Any:
        """The chain-rule equations of this network, per layer, with the actual activation
        derivatives; an object with ``_repr_latex_`` (notebooks) whose ``str`` is LaTeX."""
        from ._equations import backprop_equations

        return backprop_equations(self)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"


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
