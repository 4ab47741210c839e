"""Optimizers as small stateful objects, shared by ``gradient_descent`` and ``nn``.

Each optimizer updates a parameter vector from its gradient and keeps its own state (velocity,
moment estimates). They work on any float64 ndarray (a flat parameter vector or one layer's
weight matrix): state is kept per ``key`` so one optimizer can drive several arrays.

>>> import numpy as np
>>> opt = Adam(learning_rate=0.1)
>>> x = np.array([1.0, -2.0])
>>> for _ in range(200):
...     x = opt.step(x, 2 * x)          # gradient of |x|^2
>>> bool(np.all(np.abs(x) < 1e-2))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validate import check_choice, check_positive, describe
from .errors import SymcalcError

__all__ = ["Optimizer", "GradientDescent", "Momentum", "Nesterov", "Adam", "get_optimizer", "OPTIMIZERS"]


class Optimizer:
    """Base class: ``step(x, grad, key=0) -> new x``; ``reset()`` clears the state."""

    name = "optimizer"

    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.state: dict[Any, dict[str, Any]] = {}

    def reset(self) -> None:
        """Forget all state (velocities, moments, step counts)."""
        self.state.clear()

    def _slot(self, key: Any, x: np.ndarray) -> dict[str, Any]:
        slot = self.state.get(key)
        if slot is None or slot.get("shape") != x.shape:
            slot = self.state[key] = {"shape": x.shape, "t": 0}
        return slot

    def step(self, x: np.ndarray, grad: np.ndarray, key: Any = 0) -> np.ndarray:
        """Return the updated parameters (``x`` itself is not modified)."""
        raise NotImplementedError

    def _hyper(self) -> str:
        return f"learning_rate={self.learning_rate:g}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._hyper()})"


class GradientDescent(Optimizer):
    """Plain gradient descent: ``x - lr * g``."""

    name = "gd"

    def step(self, x: np.ndarray, grad: np.ndarray, key: Any = 0) -> np.ndarray:
        return x - self.learning_rate * grad


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = beta*v - lr*g; x = x + v``."""

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        if self.momentum >= 1:
            raise SymcalcError(f"momentum must be in [0, 1); got {self.momentum:g}")

    def step(self, x: np.ndarray, grad: np.ndarray, key: Any = 0) -> np.ndarray:
        slot = self._slot(key, x)
        v = self.momentum * slot.get("v", 0.0) - self.learning_rate * grad
        slot["v"] = v
        return x + v

    def _hyper(self) -> str:
        return f"learning_rate={self.learning_rate:g}, momentum={self.momentum:g}"


class Nesterov(Momentum):
    """Nesterov accelerated gradient in the look-ahead-free form used by Keras and PyTorch:
    ``v = beta*v - lr*g; x = x + beta*v - lr*g``."""

    name = "nesterov"

    def step(self, x: np.ndarray, grad: np.ndarray, key: Any = 0) -> np.ndarray:
        slot = self._slot(key, x)
        v = self.momentum * slot.get("v", 0.0) - self.learning_rate * grad
        slot["v"] = v
        return x + self.momentum * v - self.learning_rate * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; defaults as in the paper and Keras
    (``beta1=0.9, beta2=0.999, epsilon=1e-7``)."""

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(learning_rate)
        for value, label in ((beta1, "beta1"), (beta2, "beta2")):
            b = check_positive(value, label, allow_zero=True)
            if b >= 1:
                raise SymcalcError(f"{label} must be in [0, 1); got {b:g}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.epsilon = check_positive(epsilon, "epsilon")

    def step(self, x: np.ndarray, grad: np.ndarray, key: Any = 0) -> np.ndarray:
        slot = self._slot(key, x)
        t = slot["t"] = slot["t"] + 1
        m = slot["m"] = self.beta1 * slot.get("m", 0.0) + (1 - self.beta1) * grad
        v = slot["v"] = self.beta2 * slot.get("v", 0.0) + (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return x - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def _hyper(self) -> str:
        return (
            f"learning_rate={self.learning_rate:g}, beta1={self.beta1:g}, "
            f"beta2={self.beta2:g}, epsilon={self.epsilon:g}"
        )


#: Optimizer classes by name (``"sgd"`` is an alias of ``"gd"``, as in Keras).
OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "sgd": GradientDescent,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adam": Adam,
}


def get_optimizer(spec: str | Optimizer, learning_rate: float | None = None) -> Optimizer:
    """An optimizer from a name (with ``learning_rate``) or an existing Optimizer object.

    >>> get_optimizer("momentum", 0.1)
    Momentum(learning_rate=0.1, momentum=0.9)
    """
    if isinstance(spec, Optimizer):
        return spec
    if not isinstance(spec, str):
        raise SymcalcError(
            f"optimizer must be a name ({', '.join(map(repr, OPTIMIZERS))}) or an Optimizer; "
            f"got {describe(spec)}"
        )
    check_choice(spec, OPTIMIZERS, "optimizer")
    cls = OPTIMIZERS[spec]
    return cls() if learning_rate is None else cls(learning_rate=learning_rate)
