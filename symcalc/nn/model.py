"""``Sequential``: a stack of Dense layers trained by backpropagation (the chain rule).

Backpropagation here is the chain rule applied layer by layer, vectorized over the batch
(there is no loop over samples). With ``z_l = a_{l-1} W_l + b_l`` and ``a_l = sigma_l(z_l)``:

* output layer: ``delta_L = dl/dy_pred(a_L, y) * sigma_L'(z_L) / (n*k)`` (mean over the n
  samples and k outputs), or the combined forms on the logits: ``(sigmoid(z_L) - y) / (n*k)``
  for sigmoid + binary cross-entropy, ``(softmax(z_L) - y) / n`` for softmax + categorical
  cross-entropy;
* hidden layers: ``delta_l = (delta_{l+1} W_{l+1}^T) * sigma_l'(z_l)``;
* gradients: ``dL/dW_l = a_{l-1}^T delta_l`` and ``dL/db_l = sum over rows of delta_l``.

Each ``sigma`` and ``sigma'`` (and the loss and its derivative) is a SymPy expression compiled
through :func:`symcalc.codegen.compile_elementwise`; see :meth:`Sequential.backprop_equations`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from .._validate import as_float_array, as_rng, check_int, describe
from ..errors import ShapeError, SymcalcError
from ..optimizers import Optimizer, get_optimizer
from .training import check_sample_weight, fit as _fit
from .callbacks import Callback, History
from .layers import Dense, Input
from .losses import CategoricalCrossentropy, LossFunction, LossLike, get_loss
from .metrics import Metric, get_metrics
from .serialize import load_weights, save_model, save_weights

__all__ = ["Sequential"]

_EVAL_ROWS = 8192  # rows per chunk in predict/evaluate (bounds the memory of one call)

Loss = LossFunction | CategoricalCrossentropy


class Sequential:
    """A linear stack of :class:`~symcalc.nn.Dense` layers, with a Keras-like interface.

    Parameters
    ----------
    layers : sequence of Dense, optional
        May start with an :class:`~symcalc.nn.Input` giving the number of features.
    seed : int or numpy.random.Generator, optional
        Seeds weight initialization (layers without their own seed) and, unless ``fit`` gets
        its own seed, the shuffling of batches.
    name : str

    Examples
    --------
    >>> import numpy as np, symcalc as sc
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> y = np.array([0, 1, 1, 0], dtype=float)
    >>> model = sc.nn.Sequential([sc.nn.Input(shape=(2,)), sc.nn.Dense(8, activation="tanh"),
    ...                           sc.nn.Dense(1, activation="sigmoid")], seed=0)
    >>> model = model.compile(optimizer="adam", loss="binary_crossentropy", learning_rate=0.05,
    ...                       metrics=["accuracy"])
    >>> hist = model.fit(X, y, epochs=300, batch_size=4, seed=0, verbose=0)
    >>> (model.predict(X).ravel() > 0.5).astype(int).tolist()
    [0, 1, 1, 0]
    >>> model.evaluate(X, y, return_dict=True)["accuracy"]
    1.0
    """

    def __init__(
        self,
        layers: Sequence[Dense | Input] | None = None,
        *,
        seed: int | np.random.Generator | None = None,
        name: str = "sequential",
    ) -> None:
        self.layers: list[Dense] = []
        self.name = str(name)
        self._rng = as_rng(seed)
        self._input: Input | None = None
        self.loss: Loss | None = None
        self.optimizer: Optimizer | None = None
        self.metrics: list[Metric] = []
        self._metric_specs: list[Any] = []
        self.stop_training = False
        self._head: Loss | None = None  # the loss on the logits when it fuses with the output
        if layers is not None:
            if isinstance(layers, (Dense, Input)) or not isinstance(layers, Sequence):
                raise SymcalcError(f"layers must be a list of Dense layers; got {describe(layers)}")
            for layer in layers:
                self.add(layer)

    # ------------------------------------------------------------------ structure
    def add(self, layer: Dense | Input) -> None:
        """Append a layer (names default to ``dense``, ``dense_1``, ...); an
        :class:`~symcalc.nn.Input` may come first only."""
        if isinstance(layer, Input):
            if self.layers or self._input is not None:
                raise SymcalcError("an Input may only be the first entry of a Sequential model")
            self._input = layer
            return
        if not isinstance(layer, Dense):
            raise SymcalcError(f"layers must be Dense instances; got {describe(layer)}")
        if not self.layers and self._input is not None:
            if layer.input_dim is not None and layer.input_dim != self._input.input_dim:
                raise ShapeError(
                    f"the first Dense layer has input_dim={layer.input_dim} but the model's "
                    f"Input has shape {self._input.shape}"
                )
            layer.input_dim = self._input.input_dim
        if layer.name is None:
            k = len(self.layers)
            layer.name = "dense" if k == 0 else f"dense_{k}"
        self.layers.append(layer)
        self._update_head()

    def _update_head(self) -> None:
        if self.loss is not None and self.layers:
            self._head = self.loss.fused_with(self.layers[-1].activation)
            self.metrics = get_metrics(self._metric_specs, units=self.layers[-1].units)

    @property
    def _fused(self) -> bool:
        """Whether the output activation and the loss are evaluated together on the logits."""
        return self._head is not None

    @property
    def built(self) -> bool:
        return bool(self.layers) and all(layer.built for layer in self.layers)

    @property
    def input_dim(self) -> int | None:
        return self.layers[0].input_dim if self.layers else None

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``: the order of :meth:`evaluate`'s list."""
        return ["loss", *(m.name for m in self.metrics)]

    def _build(self, input_dim: int | None = None) -> None:
        if not self.layers:
            raise SymcalcError("the model has no layers; add Dense layers first")
        if self.built:
            return
        dim = input_dim if input_dim is not None else self.layers[0].input_dim
        if dim is None:
            raise SymcalcError(
                "the model is not built: give input_dim (or input_shape=(n,)) to the first "
                "layer, start with Input(shape=(n,)), or call fit first"
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
        """Total number of weights and biases (Keras's count for the same layers)."""
        self._build()
        return sum(layer.count_params() for layer in self.layers)

    def summary(self) -> str:
        """Print and return a table of layers, output shapes, parameter counts and activations,
        with Keras's totals (all parameters are trainable; float64 takes 8 bytes each)."""
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
        total = self.count_params()
        size = _bytes(8 * total)
        out += [rule, f"Total params: {total} ({size})", f"Trainable params: {total} ({size})",
                "Non-trainable params: 0 (0.00 B)"]
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
        *,
        metrics: Sequence[Any] | None = None,
    ) -> Sequential:
        """Choose the optimizer, the loss and the metrics; returns the model (for chaining).

        Parameters
        ----------
        optimizer : {"sgd", "gd", "momentum", "nesterov", "adam"} or Optimizer
            The shared :mod:`symcalc.optimizers`; each weight array has its own state.
        loss : str, sympy.Expr or loss object
            ``"mse"``, ``"mae"``, ``"binary_crossentropy"``, ``"categorical_crossentropy"``,
            ``"sparse_categorical_crossentropy"`` (Keras's long names work too), a loss object
            such as ``CategoricalCrossentropy(from_logits=True)``, or a SymPy expression in
            symbols named ``y_pred`` and ``y_true`` (per element; averaged over samples and
            outputs).
        learning_rate : float, optional
            For a named optimizer (its default otherwise).
        metrics : list of str or callable, optional
            Logged per epoch in ``History.history`` under Keras's names; see
            :mod:`symcalc.nn.metrics`.
        """
        if isinstance(optimizer, Optimizer) and learning_rate is not None:
            raise SymcalcError(
                "learning_rate applies to optimizer names only; set it on the Optimizer object"
            )
        new_optimizer = get_optimizer(optimizer, learning_rate)
        new_loss = get_loss(loss)
        units = self.layers[-1].units if self.layers else 1
        get_metrics(metrics, units=units)  # validate before changing anything
        self.optimizer, self.loss = new_optimizer, new_loss
        self.optimizer.reset()
        self._metric_specs = list(metrics or [])
        self.metrics = get_metrics(self._metric_specs, units=units)
        if self.layers:
            self._update_head()
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
        loss = self._require_compiled("training or evaluating")
        if not self.layers:
            raise SymcalcError("the model has no layers; add Dense layers first")
        X = self._check_x(X, names[0])
        y = loss.prepare_target(as_float_array(y, names[1], ndim=None), self.layers[-1].units,
                                names[1])
        if len(y) != len(X):
            raise ShapeError(
                f"{names[0]} and {names[1]} must have the same number of samples; got "
                f"{len(X)} and {len(y)}"
            )
        return X, y

    def _require_compiled(self, what: str) -> Loss:
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

    def _output_from(self, out: np.ndarray) -> np.ndarray:
        """The network's output from what the training pass returned (logits when fused)."""
        return self.layers[-1].activation(out) if self._head is not None else out

    def _loss_and_grads(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
                        ) -> tuple[float, list[np.ndarray], np.ndarray]:
        """One forward and one backward pass: the mean loss, its gradients (Keras order) and
        the last layer's output (logits when the loss is fused with the output activation)."""
        head = self._head if self._head is not None else self.loss
        out = self._forward(X, train=True, logits=self._head is not None)
        value, delta = head.value_and_delta(out, y, w)  # type: ignore[union-attr]
        grads: list[np.ndarray] = []
        for i in range(len(self.layers) - 1, -1, -1):
            layer_grads, delta = self.layers[i].backward(delta, need_input_grad=i > 0)
            grads[:0] = layer_grads
        return value, grads, out

    def _loss_value(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
        return self._evaluate_logs(X, y, w, with_metrics=False)["loss"]

    def _evaluate_logs(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None, *,
                       batch_size: int | None = None, with_metrics: bool = True
                       ) -> dict[str, float]:
        """The loss and the metrics on ``(X, y)``, in Keras's order (sorted by name)."""
        head = self._head if self._head is not None else self.loss
        metrics = get_metrics(self._metric_specs, units=self.layers[-1].units) if (
            with_metrics) else []
        step = batch_size or _EVAL_ROWS
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for s in range(0, len(X), step):
                xb, yb = X[s : s + step], y[s : s + step]
                out = self._forward(xb, train=False, logits=self._head is not None)
                wb = None if w is None else w[s : s + step]
                total += head.value(out, yb, wb) * len(xb)  # type: ignore[union-attr]
                if metrics:
                    pred = self._output_from(out)
                    for m in metrics:
                        m.update(yb, pred)
        logs = {"loss": total / len(X), **{m.name: m.result() for m in metrics}}
        return dict(sorted(logs.items()))

    def _log_keys(self, val: Any) -> list[str]:
        keys = sorted(self.metrics_names)
        return keys + [f"val_{k}" for k in keys] if val is not None else keys

    def predict(self, X: Any, batch_size: int | None = None, verbose: Any = 0) -> np.ndarray:
        """The network's outputs, shape (n_samples, units of the last layer).

        ``batch_size`` rows are evaluated at a time (default: 8192), which bounds the memory
        of one call; ``verbose`` is accepted for Keras compatibility (nothing is printed).
        """
        X = self._check_x(X)
        step = _EVAL_ROWS if batch_size is None else check_int(batch_size, "batch_size",
                                                                minimum=1)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            parts = [self._forward(X[s : s + step], train=False, logits=False)
                     for s in range(0, len(X), step)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def evaluate(self, X: Any, y: Any, batch_size: int | None = None, verbose: Any = 0, *,
                 sample_weight: Any = None, return_dict: bool = False
                 ) -> float | list[float] | dict[str, float]:
        """The mean loss on ``(X, y)`` and the compiled metrics, as Keras returns them.

        Returns
        -------
        float, list or dict
            The loss alone when there are no metrics; otherwise ``[loss, *metrics]`` in
            :attr:`metrics_names` order; with ``return_dict=True`` a dict keyed by name
            (``{"accuracy": ..., "loss": ...}``, sorted as Keras's logs).
        """
        self._require_compiled("evaluate")
        X, y = self._check_xy(X, y)
        w = check_sample_weight(sample_weight, len(X))
        if batch_size is not None:
            batch_size = check_int(batch_size, "batch_size", minimum=1)
        logs = self._evaluate_logs(X, y, w, batch_size=batch_size)
        if return_dict:
            return logs
        if not self.metrics:
            return logs["loss"]
        return [logs[name] for name in self.metrics_names]

    def gradients(self, X: Any, y: Any) -> list[np.ndarray]:
        """Gradients of the mean loss on ``(X, y)`` by backpropagation, in
        :meth:`get_weights` order and shapes."""
        self._require_compiled("gradients")
        return self._gradients(*self._check_xy(X, y))

    def _gradients(self, X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._loss_and_grads(X, y)[1]

    def gradient_check(self, X: Any, y: Any, *, order: int = 4, floor: float = 1e-6) -> float:
        """Largest relative error of :meth:`gradients` against central finite differences.

        The error of each weight is ``|g - g_fd| / max(|g|, |g_fd|, floor, bound / 1e-6)``
        with ``g_fd`` and its error ``bound`` from :func:`symcalc.testing.compare_gradient`:
        an ``order``-accurate stencil first, and for weights that differ by more than 1e-8
        (relative) the estimate that settles best over a dozen halvings of the step (so a
        stencil that straddles a ReLU kink is replaced by one that does not). The floor keeps
        weights whose gradient is (nearly) zero from reporting rounding noise as error.
        Weights whose differences never settle (a kink closer than the smallest step) are
        left out with a warning. Costs
        ``2*order`` loss evaluations per weight (up to 28 more for a disagreeing one): use a
        small network and few samples.
        """
        from ..testing import KINK, compare_gradient, relative_error

        self._require_compiled("gradient_check")
        X, y = self._check_xy(X, y)
        analytic = np.concatenate([g.ravel() for g in self._gradients(X, y)])
        saved = self.get_weights()
        shapes = [w.shape for w in saved]
        cuts = np.cumsum([w.size for w in saved])[:-1]

        def loss_at(theta: np.ndarray) -> float:
            self.set_weights([p.reshape(s) for p, s in zip(np.split(theta, cuts), shapes)])
            return self._loss_value(X, y)

        try:
            theta = np.concatenate([w.ravel() for w in saved])
            cmp = compare_gradient(loss_at, theta, analytic, order=order, rtol=1e-8)
        finally:
            self.set_weights(saved)
        kinks = cmp.status == KINK
        if kinks.any():
            warnings.warn(f"gradient_check: {int(kinks.sum())} of {kinks.size} weights sit "
                          "at a kink of the loss (finite differences do not settle); they "
                          "are not checked", stacklevel=2)
        rel = relative_error(analytic, cmp.numeric, floor=floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.fmin(rel, np.abs(analytic - cmp.numeric) * 1e-6 / cmp.bound)
        return float(np.max(rel[~kinks], initial=0.0))

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 1,
        batch_size: int | None = 32,
        *,
        shuffle: bool = True,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0,
        callbacks: Sequence[Callback] | None = None,
        verbose: int | str = "auto",
        seed: int | np.random.Generator | None = None,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
    ) -> History:
        """Train by mini-batch backpropagation; returns a :class:`~symcalc.nn.History`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, units)
            Integer class labels (n_samples,) for ``sparse_categorical_crossentropy``.
        epochs : int
            Index of the last epoch (as Keras: with ``initial_epoch`` the run covers epochs
            ``initial_epoch .. epochs - 1``).
        batch_size : int or None
            Samples per gradient step (None: 32, as Keras).
        shuffle : bool
            Reshuffle the training samples before each epoch.
        validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
            Evaluated after each epoch (``history["val_loss"]``, ``"val_" + metric``);
            overrides validation_split.
        validation_split : float in [0, 1)
            Fraction of the data held out for validation: as Keras documents, the LAST
            fraction of the samples as given, taken before any shuffling.
        callbacks : list of Callback, optional
            E.g. :class:`~symcalc.nn.EarlyStopping`.
        verbose : {"auto", 0, 1, 2}
            Keras's meanings: 0 silent, 1 a progress bar per epoch, 2 one line per epoch;
            "auto" is 1 when the output is interactive, else 2 (see :mod:`symcalc.nn.progress`).
        seed : int or numpy.random.Generator, optional
            Seeds the shuffling (the model's generator otherwise, which a saved model keeps,
            so that a loaded model resumes the same sequence of batches).
        class_weight : dict {class index: weight}, optional
            Weighs each sample's loss by its class (argmax of one-hot targets, else the label).
        sample_weight : array-like of shape (n_samples,), optional
            Weighs each sample's loss: the loss is ``sum(w_i * l_i) / n`` per batch, as Keras.
            Not both with class_weight.
        initial_epoch : int
            The epoch to start from (to resume a previous run's numbering).

        Returns
        -------
        History
            ``history.history["loss"]`` (and ``"val_loss"``, one key per metric),
            ``epoch``, ``params``. A KeyboardInterrupt stops training, keeps the weights of
            the best epoch so far and sets ``history.interrupted``.
        """
        return _fit(
            self, X, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
            validation_data=validation_data, validation_split=validation_split,
            callbacks=callbacks, verbose=verbose, seed=seed, class_weight=class_weight,
            sample_weight=sample_weight, initial_epoch=initial_epoch,
        )

    def _clear_caches(self) -> None:
        for layer in self.layers:
            layer._input = layer._dsigma = layer._row_cache = None

    # ------------------------------------------------------------------ saving
    def save(self, path: str | PathLike[str]) -> None:
        """Save architecture, weights, loss, metrics, optimizer state and the shuffling
        generator's state to one ``.npz`` file (no pickle); see :func:`symcalc.nn.load_model`."""
        save_model(self, path)

    def save_weights(self, path: str | PathLike[str]) -> None:
        """Save the weights only (an ``.npz`` file; see :meth:`load_weights`)."""
        save_weights(self, path)

    def load_weights(self, path: str | PathLike[str]) -> None:
        """Load weights saved by :meth:`save_weights` (or :meth:`save`) into this model, whose
        layers must have the same shapes."""
        load_weights(self, path)

    # ------------------------------------------------------------------ display
    def backprop_equations(self) -> Any:
        """The chain-rule equations of this network, per layer, with the actual activation
        derivatives; an object with ``_repr_latex_`` (notebooks) whose ``str`` is LaTeX."""
        from ._equations import backprop_equations

        return backprop_equations(self)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"


def _bytes(n: int) -> str:
    """Keras's size format: ``3.25 KB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.2f} GB"  # pragma: no cover
