"""Where each parameter lives in the flat theta vector, and the shapes data must have.

A loss's parameters are scalars (SymPy ``Symbol``) and blocks (``MatrixSymbol``: a vector
``n x 1`` or a matrix ``m x n``). Internally every solver works on ONE flat float64 vector:
the parameters in ``params`` order, each block flattened row-major. :class:`ParamLayout`
converts between that vector and what users write (``{w: array of shape (n,), b: 0.1}`` or
the flat vector itself) and back, with a :class:`~symcalc.errors.ShapeError` naming the
block, the expected and the given shape.

>>> import sympy as sp
>>> w, b = sp.MatrixSymbol("w", 2, 1), sp.Symbol("b")
>>> lay = ParamLayout([w, b])
>>> lay.size, lay.flatten({"w": [1.0, 2.0], b: 3.0}).tolist()
(3, [1.0, 2.0, 3.0])
>>> lay.unflatten([1.0, 2.0, 3.0])
{w: array([1., 2.]), b: 3.0}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from ._validate import as_finite_float, as_float_array, describe
from .errors import NonFiniteError, ShapeError, SymbolError

__all__ = ["ParamLayout", "block_shape", "is_block", "shape_text", "as_data_column"]


def is_block(sym: Any) -> bool:
    """Whether ``sym`` is a vector/matrix symbol (a SymPy ``MatrixSymbol``)."""
    return isinstance(sym, sp.MatrixSymbol)


def block_shape(sym: Any) -> tuple[int, ...]:
    """The array shape of one value of ``sym``: ``()`` for a scalar, ``(n,)`` for a vector
    (``n x 1`` or ``1 x n``), ``(m, n)`` for a matrix."""
    if not is_block(sym):
        return ()
    m, n = (int(d) for d in sym.shape)
    if n == 1:
        return (m,)
    if m == 1:
        return (n,)
    return (m, n)


def shape_text(sym: Any) -> str:
    """``"w (30 x 1)"`` for messages."""
    if not is_block(sym):
        return f"{sym.name} (scalar)"
    m, n = sym.shape
    return f"{sym.name} ({m} x {n})"


def as_data_column(col: Any, sym: Any) -> np.ndarray:
    """The data of ``sym`` as float64: shape (N,) for a scalar symbol, (N, n) for a vector
    block of length n, (N, m, n) for an m x n matrix block (NaN/inf are checked later)."""
    label = f"data[{sym.name!r}]"
    row = block_shape(sym)
    if not row:
        return as_float_array(col, label, finite=False)
    arr = as_float_array(col, label, ndim=None, finite=False)
    if arr.ndim == 1 and row == (1,):
        arr = arr[:, None]
    if arr.ndim != 1 + len(row):
        raise ShapeError(
            f"{label} must have shape (N, {', '.join(map(str, row))}) for the data block "
            f"{shape_text(sym)}, one row per sample; got shape {arr.shape}"
        )
    if arr.shape[1:] != row:
        what = f"{arr.shape[1]} columns" if len(row) == 1 else f"rows of shape {arr.shape[1:]}"
        raise ShapeError(
            f"{label} has {what}; expected {row[0] if len(row) == 1 else row} for the data "
            f"block {shape_text(sym)} (got shape {arr.shape})"
        )
    return arr


class ParamLayout:
    """The flat-vector layout of a loss's parameters (blocks flattened row-major).

    Attributes
    ----------
    params : tuple
        The parameter symbols (``Symbol`` or ``MatrixSymbol``), in order.
    shapes : tuple of tuple
        Array shape of each parameter (``()`` for scalars).
    slices : tuple of slice
        Where each parameter lives in the flat vector.
    size : int
        Length of the flat vector.
    has_blocks : bool
        Whether any parameter is a block.
    """

    def __init__(self, params: Sequence[Any]) -> None:
        self.params = tuple(params)
        self.shapes = tuple(block_shape(p) for p in self.params)
        sizes = [int(np.prod(s)) if s else 1 for s in self.shapes]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.slices = tuple(slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:]))
        self.size = int(offsets[-1])
        self.has_blocks = any(self.shapes)
        self._by_name = {p.name: i for i, p in enumerate(self.params)}

    # ------------------------------------------------------------------ conversions
    def flatten(self, theta: Any, name: str = "theta", *, start: bool = False) -> np.ndarray:
        """``theta`` (a mapping naming every parameter, or the flat vector) as the flat vector.

        ``start=True`` (a starting point ``x0``): blocks missing from a mapping are zeros.
        """
        if isinstance(theta, Mapping):
            return self._from_mapping(theta, name, start)
        arr = as_float_array(theta, name, ndim=None, allow_empty=True)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1:
            raise ShapeError(
                f"{name} must be 1-D (the flat parameter vector{', blocks row-major' if self.has_blocks else ''}) "
                f"or a mapping {{parameter: value}}; got shape {arr.shape}"
            )
        if arr.shape[0] != self.size:
            raise ShapeError(f"{name} has length {arr.shape[0]}; expected {self.size} ({self._parts()})")
        return arr

    def _parts(self) -> str:
        if not self.has_blocks:
            return f"parameters {[p.name for p in self.params]}"
        parts = [f"{p.name}: {int(np.prod(s)) if s else 1}" for p, s in zip(self.params, self.shapes)]
        return "values per parameter " + ", ".join(parts)

    def _from_mapping(self, theta: Mapping, name: str, start: bool = False) -> np.ndarray:
        given: dict[str, Any] = {}
        for key, value in theta.items():
            if not isinstance(key, (sp.Symbol, sp.MatrixSymbol, str)):
                raise SymbolError(f"{name} keys must be symbols or names; got {describe(key)}")
            given[key if isinstance(key, str) else key.name] = value
        names = [p.name for p in self.params]
        unknown = sorted(set(given) - set(names))
        if start:  # a starting point may leave blocks out: zeros
            for p, shape in zip(self.params, self.shapes):
                if shape and p.name not in given:
                    given[p.name] = np.zeros(shape)
        missing = [n for n in names if n not in given]
        if unknown:
            raise SymbolError(f"{name} has unknown parameter(s) {unknown}; parameters are {names}")
        if missing:
            raise SymbolError(f"{name} is missing parameter(s) {missing}; parameters are {names}")
        out = np.empty(self.size)
        for p, shape, sl in zip(self.params, self.shapes, self.slices):
            out[sl] = self._value(p, shape, given[p.name], f"{name}[{p.name!r}]")
        return out

    @staticmethod
    def _value(p: Any, shape: tuple[int, ...], value: Any, label: str) -> Any:
        if not shape:
            return as_finite_float(value, label)
        arr = as_float_array(value, label, ndim=None, finite=False)
        ok = arr.shape == shape or (len(shape) == 1 and arr.shape in ((shape[0], 1), (1, shape[0])))
        if not ok:
            raise ShapeError(
                f"{label} has shape {arr.shape}; expected {shape} for the parameter block "
                f"{shape_text(p)}"
            )
        if not np.isfinite(arr).all():
            raise NonFiniteError(f"{label} contains non-finite values; finite numbers are required")
        return arr.reshape(-1)

    def unflatten(self, flat: Any, keys: Sequence[Any] | None = None) -> dict[Any, Any]:
        """``{param: value}`` from the flat vector (floats for scalars, arrays for blocks);
        ``keys`` replaces the parameter symbols as dictionary keys."""
        flat = np.asarray(flat, dtype=np.float64)
        keys = self.params if keys is None else keys
        out: dict[Any, Any] = {}
        for k, shape, sl in zip(keys, self.shapes, self.slices):
            out[k] = flat[sl].reshape(shape).copy() if shape else float(flat[sl][0])
        return out

    def like(self, flat: np.ndarray, theta: Any) -> Any:
        """``flat`` (e.g. a gradient) in the form ``theta`` was given: a mapping keyed like
        it (symbols or names) for a mapping, else the flat vector."""
        if not isinstance(theta, Mapping):
            return flat
        by_name = {(k if isinstance(k, str) else k.name): k for k in theta}
        return self.unflatten(flat, [by_name[p.name] for p in self.params])

    def entry_names(self) -> list[str]:
        """One label per flat entry: ``b``, ``w[3]``, ``W[1,2]``."""
        out: list[str] = []
        for p, shape in zip(self.params, self.shapes):
            if not shape:
                out.append(p.name)
            elif len(shape) == 1:
                out += [f"{p.name}[{i}]" for i in range(shape[0])]
            else:
                out += [f"{p.name}[{i},{j}]" for i in range(shape[0]) for j in range(shape[1])]
        return out

    def index(self, name: str) -> int:
        """Position of the parameter called ``name`` in ``params``."""
        return self._by_name[name]

    def __repr__(self) -> str:
        return f"ParamLayout({', '.join(shape_text(p) for p in self.params)}; size={self.size})"
