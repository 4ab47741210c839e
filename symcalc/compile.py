"""The compile path's public names (the code lives in :mod:`symcalc.codegen`)."""

from __future__ import annotations

from .codegen import (
    BACKENDS,
    DEFAULT_CHUNK_ROWS,
    CompiledLoss,
    ElementwiseFunction,
    PreparedData,
    compile_elementwise,
    compile_loss,
)

__all__ = [
    "CompiledLoss",
    "PreparedData",
    "ElementwiseFunction",
    "compile_elementwise",
    "compile_loss",
    "BACKENDS",
    "DEFAULT_CHUNK_ROWS",
]
