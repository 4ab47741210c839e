"""Data prepared once for a compiled loss (contiguous float64 columns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PreparedData", "is_dask", "is_dask_data"]


@dataclass(frozen=True)
class PreparedData:
    """Data columns already converted to contiguous float64 arrays for one CompiledLoss.

    Made by :meth:`CompiledLoss.prepare`; passing it instead of a raw mapping skips the
    conversion on every call (optimizers do this once per run).
    """

    columns: tuple[np.ndarray, ...]
    n: int

    def take(self, index: np.ndarray) -> PreparedData:
        """The rows ``index`` (a mini-batch)."""
        return PreparedData(tuple(c[index] for c in self.columns), len(index))


def is_dask(x: Any) -> bool:
    """Whether ``x`` is a Dask collection (checked without importing Dask)."""
    return type(x).__module__.startswith(("dask.", "dask_expr")) and hasattr(x, "__dask_graph__")


def is_dask_data(x: Any) -> bool:
    """Whether ``x`` is symcalc's lazy :class:`~symcalc.codegen.dask_blocks.DaskData`."""
    return type(x).__name__ == "DaskData" and type(x).__module__ == "symcalc.codegen.dask_blocks"
