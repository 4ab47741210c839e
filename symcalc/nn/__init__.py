"""Neural networks whose derivatives come from SymPy (capability 5: the chain rule).

A Keras-like ``Sequential`` of ``Dense`` layers. Every activation and loss is a SymPy
expression; its derivative is derived symbolically and compiled through the one compile path,
and backpropagation multiplies these derivatives by the chain rule, vectorized over batches.

>>> import symcalc as sc
>>> model = sc.nn.Sequential([sc.nn.Dense(8, activation="tanh", input_dim=2), sc.nn.Dense(1)])
>>> model = model.compile(optimizer="sgd", loss="mse", learning_rate=0.1)
>>> model.count_params()
33
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .callbacks import Callback, EarlyStopping, History
from .layers import INITIALIZERS, Dense, Input
from .losses import (
    LOSSES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    LossFunction,
    SparseCategoricalCrossentropy,
    get_loss,
)
from .metrics import METRICS, Metric
from .model import Sequential
from .saving import load_model

__all__ = [
    "Sequential",
    "Dense",
    "Input",
    "load_model",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "Metric",
    "METRICS",
    "EarlyStopping",
    "Callback",
    "History",
    "Activation",
    "LossFunction",
    "get_activation",
    "get_loss",
    "ACTIVATIONS",
    "LOSSES",
    "INITIALIZERS",
]
