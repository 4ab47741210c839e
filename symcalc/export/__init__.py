"""Exports of a :class:`symcalc.Loss` to other frameworks and languages.

- :func:`to_jax` / :func:`to_torch` (``loss.to_jax()``, ``loss.to_torch()``): the loss as a
  function of ``(params, data)`` in JAX or PyTorch operations, differentiable by the framework.
- :func:`to_c` (``loss.to_c()``): C99 source of the loss value and its exact gradient.

All of them print the same numerically stable expressions the compile path evaluates, with
every symbol renamed to a generated identifier and only whitelisted functions.
"""

from __future__ import annotations

from .c import CSource, to_c
from .frameworks import ExportedLoss, to_jax, to_torch

__all__ = ["ExportedLoss", "CSource", "to_jax", "to_torch", "to_c"]
