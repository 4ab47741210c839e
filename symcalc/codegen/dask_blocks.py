"""Blockwise evaluation of compiled losses on Dask collections (extra ``symcalc[dask]``).

Data given as Dask arrays or as columns of a Dask DataFrame stays lazy: :func:`prepare_dask`
checks what the metadata can tell (1-D, numeric dtype, equal known lengths) without reading
any data. Each evaluation sends one task per block: the block's columns go through the SAME
generated kernel as in-memory data (NumPy or numba), which returns the block's row sums; the
partial sums and row counts are added on the client. Whatever scheduler is active runs the
tasks: threads by default, or a ``dask.distributed`` cluster once a ``Client`` exists. The
kernel travels as its generated source text (see :class:`symcalc.codegen.kernel.Kernel`), so workers in
other processes or machines rebuild it once and need only symcalc installed.

Non-finite data is refused block by block: each task checks its block's columns for NaN/inf
(one cheap pass) before running the kernel, and the first bad row is reported.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from .._layout import block_shape
from .._validate import first_nonfinite, nonfinite_entry
from ..errors import DataError, MissingDependencyError, NonFiniteError, ShapeError
from .data import PreparedData

__all__ = ["DaskData", "prepare_dask", "evaluate_blocks"]


def _dask() -> Any:
    try:
        import dask
        import dask.array
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"Dask data needs dask: pip install 'symcalc[dask]' ({exc})"
        ) from None
    return dask


class DaskData:
    """Loss data held as lazy Dask arrays, one per data symbol (1-D, or 2-D for a data block),
    aligned block by block along the rows.

    Made by ``CompiledLoss.prepare(data)`` when ``data`` holds Dask collections. ``n`` (the
    row count) is known from the metadata when the chunk sizes are, else computed once on
    first use; ``take(index)`` computes the chosen rows into memory (a mini-batch).
    """

    def __init__(self, columns: Sequence[Any], names: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.names = tuple(names)
        self._n: int | None = None

    def _known_columns(self) -> tuple[Any, ...]:
        if any(math.isnan(s) for c in self.columns for s in c.chunks[0]):
            self.columns = tuple(c.compute_chunk_sizes() for c in self.columns)
        return self.columns

    @property
    def n(self) -> int:
        if self._n is None:
            self._n = int(sum(self._known_columns()[0].chunks[0]))
        return self._n

    def take(self, index: np.ndarray) -> PreparedData:
        """The rows ``index`` computed into memory, as an in-memory :class:`PreparedData`."""
        dask = _dask()
        index = np.asarray(index)
        cols = dask.compute(*[c[index] for c in self._known_columns()])
        return PreparedData(tuple(np.ascontiguousarray(c, dtype=np.float64) for c in cols),
                            len(index))

    def __repr__(self) -> str:
        blocks = len(self.columns[0].chunks[0]) if self.columns else 0
        return f"DaskData(columns={list(self.names)}, blocks={blocks})"


def _as_dask_column(col: Any, name: str, like: Any, row: tuple[int, ...] = ()) -> Any:
    da = _dask().array
    if hasattr(col, "to_dask_array"):  # a Dask Series (DataFrame column)
        col = col.to_dask_array()
    elif not hasattr(col, "__dask_graph__"):  # in-memory column next to Dask ones
        arr = np.asarray(col)
        if like is None or any(math.isnan(s) for s in like.chunks[0]):
            raise DataError(
                f"data[{name!r}] is in memory while other columns are Dask collections of "
                "unknown block sizes; give every column as Dask (or all in memory)"
            )
        col = da.from_array(arr, chunks=(like.chunks[0], *[-1] * (arr.ndim - 1)))
    if col.ndim != 1 + len(row) or tuple(col.shape[1:]) != row:
        want = "1-D" if not row else f"of shape (N, {', '.join(map(str, row))}) for the data block"
        raise ShapeError(f"data[{name!r}] must be {want}; got a Dask array of shape {col.shape}")
    if row and any(len(c) > 1 for c in col.chunks[1:]):  # blocks split by rows only
        col = col.rechunk({i: -1 for i in range(1, col.ndim)})
    if col.dtype.kind not in "biuf":
        raise DataError(f"data[{name!r}] must contain numbers only; got dtype {col.dtype}")
    return col.astype(np.float64) if col.dtype != np.float64 else col


def prepare_dask(raw: Sequence[Any], symbols: Sequence[sp.Symbol]) -> DaskData:
    """Check Dask columns from their metadata only and align their blocks (no compute)."""
    _dask()
    names = [s.name for s in symbols]
    rows = [block_shape(s) for s in symbols]
    like = next((c for c in raw if hasattr(c, "__dask_graph__") and hasattr(c, "chunks")), None)
    cols = [_as_dask_column(c, n, like, r) for c, n, r in zip(raw, names, rows)]
    lengths = [c.shape[0] for c in cols]
    if all(not math.isnan(n) for n in lengths):
        if len(set(lengths)) > 1:
            detail = ", ".join(f"{k}: {int(n)}" for k, n in zip(names, lengths))
            raise ShapeError(f"data arrays must all have the same length; got {detail}")
        if lengths[0] == 0:
            raise DataError(f"data[{names[0]!r}] is empty; at least one row is required")
        cols = [c if c.chunks[0] == cols[0].chunks[0] else c.rechunk({0: cols[0].chunks[0]})
                for c in cols]
    elif len({c.numblocks for c in cols}) > 1:
        raise ShapeError(
            "data columns have different numbers of Dask blocks and unknown lengths; "
            f"got {', '.join(f'{k}: {c.numblocks[0]} blocks' for k, c in zip(names, cols))}"
        )
    return DaskData(cols, names)


def _block(run: Any, theta: np.ndarray, names: tuple[str, ...], index: int,
           *cols: Any) -> tuple[np.ndarray, int, tuple | None]:
    """One task: the row sums of one block, its row count, and its first bad value if any."""
    arrays = [np.ascontiguousarray(c, dtype=np.float64) for c in cols]
    n = len(arrays[0]) if arrays else 0
    if any(len(a) != n for a in arrays):
        detail = ", ".join(f"{k}: {len(a)}" for k, a in zip(names, arrays))
        raise ShapeError(f"data arrays must all have the same length; block {index} has {detail}")
    for name, a in zip(names, arrays):  # the block's data first: no kernel on NaN/inf
        row = first_nonfinite(a)
        if row is not None:
            value, where = nonfinite_entry(a, row)
            return np.zeros(0), n, (name, value, where, index)
    return np.asarray(run(theta, arrays, n), dtype=np.float64), n, None


def evaluate_blocks(run: Any, theta: np.ndarray, data: DaskData) -> tuple[np.ndarray, int]:
    """Sum ``run`` (a picklable kernel handle) over every block; return (sums, row count)."""
    dask = _dask()
    blocks = [c.to_delayed().ravel() for c in data.columns]
    task = functools.partial(_block, run, np.array(theta, dtype=np.float64), data.names)
    parts = dask.compute(*[
        dask.delayed(task, pure=True)(i, *[b[i] for b in blocks]) for i in range(len(blocks[0]))
    ])
    n = sum(p[1] for p in parts)
    if n == 0:
        raise DataError(f"data[{data.names[0]!r}] is empty; at least one row is required")
    for _, _, bad in parts:
        if bad is not None:
            name, value, where, index = bad
            raise NonFiniteError(
                f"data[{name!r}] contains {value} at {where} of Dask block {index}; finite "
                "numbers are required (drop or impute missing values first)"
            )
    total = parts[0][0].copy()
    for p in parts[1:]:
        total += p[0]
    if data._n is None:
        data._n = n
    return total, n
