"""Dense layers: weights ``W`` of shape (inputs, units), bias ``b``, a symbolic activation.

The forward pass is ``z = a_prev @ W + b``, ``a = sigma(z)``; the layer keeps what the
backward pass needs (its input and ``sigma'(z)``), and its backward step applies the chain rule
locally (as in micrograd): given ``delta = dL/dz`` it returns ``dL/dW = a_prev^T delta``,
``dL/db = sum_rows(delta)`` and ``dL/da_prev = delta @ W^T``.

>>> import numpy as np
>>> layer = Dense(3, activation="tanh", input_dim=2, seed=0)
>>> layer.build(2)
>>> layer.W.shape, layer.b.shape, layer.count_params()
((2, 3), (3,), 9)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._validate import as_rng, check_choice, check_int, describe
from ..errors import ShapeError, SymcalcError
from .activations import Activation, ActivationLike, get_activation
from .rowwise import RowActivation

__all__ = ["Dense", "Input", "INITIALIZERS"]


def _shape_to_dim(shape: object, name: str) -> int:
    """``(n,)`` -> n: Dense layers take flat feature vectors, as Keras's ``input_shape=(n,)``."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)) or len(shape) != 1:
        raise ShapeError(
            f"{name} must be a 1-tuple (n_features,), as Dense layers take flat feature "
            f"vectors; got {describe(shape)}"
        )
    return check_int(shape[0], f"{name}[0]", minimum=1)


class Input:
    """The input of a :class:`~symcalc.nn.Sequential` model, as Keras's ``Input(shape=(n,))``.

    Only as the first entry of a Sequential model; it has no weights.

    Parameters
    ----------
    shape : tuple of one int
        ``(n_features,)``.
    name : str, optional

    Examples
    --------
    >>> Input(shape=(10,))
    Input(shape=(10,))
    """

    def __init__(self, shape: tuple[int], *, name: str | None = None) -> None:
        self.input_dim = _shape_to_dim(shape, "shape")
        self.shape = (self.input_dim,)
        self.name = name

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"


def _uniform(scale: Callable[[int, int], float]) -> Callable[..., np.ndarray]:
    def init(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        limit = np.sqrt(3.0 * scale(*shape))  # variance limit^2 / 3 = scale
        return rng.uniform(-limit, limit, size=shape)

    return init


def _normal(scale: Callable[[int, int], float]) -> Callable[..., np.ndarray]:
    def init(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        return rng.normal(0.0, np.sqrt(scale(*shape)), size=shape)

    return init


def _glorot(fan_in: int, fan_out: int) -> float:
    return 2.0 / (fan_in + fan_out)


def _he(fan_in: int, fan_out: int) -> float:
    return 2.0 / fan_in


def _lecun(fan_in: int, fan_out: int) -> float:
    return 1.0 / fan_in


#: Kernel initializers by Keras name: ``init(shape, rng) -> array``. The ``*_normal`` ones
#: draw from an untruncated normal with the stated variance (Keras truncates at 2 sd).
INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "glorot_uniform": _uniform(_glorot),
    "glorot_normal": _normal(_glorot),
    "he_uniform": _uniform(_he),
    "he_normal": _normal(_he),
    "lecun_uniform": _uniform(_lecun),
    "lecun_normal": _normal(_lecun),
    "zeros": lambda shape, rng: np.zeros(shape),
}


class Dense:
    """A fully connected layer ``a = sigma(a_prev @ W + b)``.

    Parameters
    ----------
    units : int
        Number of outputs.
    activation : str, sympy.Expr, Activation or None
        A name (``linear``, ``relu``, ``tanh``, ``sigmoid``, ``softplus``, ``elu``,
        ``swish``, or ``softmax`` for the output layer), a SymPy expression in exactly one
        free symbol, or None (linear).
    input_dim : int, optional
        Number of inputs; required on the first layer unless the model is built by ``fit``
        (or starts with an :class:`Input`).
    input_shape : tuple of one int, optional
        Keras's spelling of the same: ``input_shape=(n,)`` is ``input_dim=n``.
    use_bias : bool
    kernel_initializer : str
        One of :data:`INITIALIZERS` (the bias starts at zero).
    seed : int or numpy.random.Generator, optional
        Seed of this layer's initializer (otherwise the model's generator is used).
    name : str, optional

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> Dense(4, activation=z * sp.tanh(sp.log(1 + sp.exp(z)))).activation.name
    'z*tanh(log(exp(z) + 1))'
    """

    def __init__(
        self,
        units: int,
        activation: ActivationLike = None,
        input_dim: int | None = None,
        *,
        input_shape: tuple[int] | None = None,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        seed: int | np.random.Generator | None = None,
        name: str | None = None,
    ) -> None:
        self.units = check_int(units, "units", minimum=1)
        self.activation: Activation | RowActivation = get_activation(activation)
        self.input_dim = None if input_dim is None else check_int(input_dim, "input_dim", minimum=1)
        if input_shape is not None:
            dim = _shape_to_dim(input_shape, "input_shape")
            if self.input_dim is not None and self.input_dim != dim:
                raise ShapeError(
                    f"input_dim={self.input_dim} and input_shape={tuple(input_shape)} disagree; "
                    "give one of them"
                )
            self.input_dim = dim
        if not isinstance(use_bias, (bool, np.bool_)):
            raise SymcalcError(f"use_bias must be True or False; got {describe(use_bias)}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = check_choice(
            kernel_initializer, INITIALIZERS, "kernel_initializer"
        )
        if seed is not None:
            as_rng(seed)  # validate early; an int seed gives the same weights on every build
        self.seed = seed
        self.name = name
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None
        # what the backward pass needs, set by forward(train=True)
        self._input: np.ndarray | None = None
        self._dsigma: np.ndarray | None = None
        self._row_cache: tuple[np.ndarray, ...] | None = None

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        return self.W is not None

    def build(self, input_dim: int, rng: np.random.Generator | None = None) -> None:
        """Create ``W`` (input_dim, units) and ``b`` (units,). The layer's own seed wins."""
        if self.input_dim is not None and self.input_dim != input_dim:
            raise ShapeError(
                f"layer {self.name or 'Dense'} expects input_dim={self.input_dim} but receives "
                f"{input_dim} inputs from the previous layer or the data"
            )
        self.input_dim = input_dim
        gen = as_rng(self.seed) if self.seed is not None else (rng or as_rng(None))
        init = INITIALIZERS[self.kernel_initializer]
        self.W = np.ascontiguousarray(init((input_dim, self.units), gen), dtype=np.float64)
        self.b = np.zeros(self.units)

    def weights(self) -> list[np.ndarray]:
        """``[W, b]`` (or ``[W]`` without bias), the arrays themselves (not copies)."""
        return [self.W, self.b] if self.use_bias else [self.W]

    def count_params(self) -> int:
        if self.input_dim is None:
            raise SymcalcError(
                f"layer {self.name or 'Dense'} is not built yet: give input_dim to the first "
                "layer or call fit first"
            )
        return self.input_dim * self.units + (self.units if self.use_bias else 0)

    # ------------------------------------------------------------------ passes
    def forward(self, a_prev: np.ndarray, *, train: bool = False) -> np.ndarray:
        """``sigma(a_prev @ W + b)``; with ``train`` also keeps ``a_prev`` and ``sigma'(z)``."""
        z = a_prev @ self.W
        if self.use_bias:
            z += self.b
        act = self.activation
        if act.is_identity:
            if train:
                self._input, self._dsigma = a_prev, None
            return z
        if act.rowwise:
            if not train:
                return act.fn(z)
            a, self._row_cache = act.fn.forward(z)
            self._input, self._dsigma = a_prev, None
            return a
        both, value = act._kernels()
        if not train:
            return value(z)[0]
        a, self._dsigma = both(z)
        self._input = a_prev
        return a

    def forward_logits(self, a_prev: np.ndarray, *, train: bool = False) -> np.ndarray:
        """``z = a_prev @ W + b`` only (for the combined sigmoid + cross-entropy output)."""
        z = a_prev @ self.W
        if self.use_bias:
            z += self.b
        if train:
            self._input, self._dsigma, self._row_cache = a_prev, None, None
        return z

    def backward(
        self, delta_a: np.ndarray, *, need_input_grad: bool = True
    ) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Chain rule through this layer.

        ``delta_a`` is ``dL/da`` (this layer's output); ``delta = dL/da * sigma'(z)`` is formed
        in place. Returns ``([dL/dW, dL/db], dL/da_prev)`` (the latter None when not needed).
        """
        delta = delta_a
        if self._dsigma is not None:
            np.multiply(delta, self._dsigma, out=delta)
        elif self._row_cache is not None:
            delta = self.activation.fn.vjp(self._row_cache, delta)  # type: ignore[union-attr]
        grads = [self._input.T @ delta]
        if self.use_bias:
            grads.append(delta.sum(axis=0))
        back = delta @ self.W.T if need_input_grad else None
        self._input = self._dsigma = self._row_cache = None
        return grads, back

    def __repr__(self) -> str:
        return (
            f"Dense({self.units}, activation={self.activation.name!r}, input_dim={self.input_dim}"
            f"{'' if self.use_bias else ', use_bias=False'})"
        )
