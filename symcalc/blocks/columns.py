"""Feeding data blocks from named DataFrame columns: ``sc.columns(df, x=[...], t="target")``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validate import as_float_array, describe
from ..errors import DataError, SymbolError

__all__ = ["columns", "Columns"]


class Columns(dict):
    """A data mapping ``{name: array}`` made by :func:`columns`; ``names[key]`` lists the
    DataFrame columns behind each block (in order)."""

    names: dict[str, list[str]]


def columns(frame: Any, /, **blocks: str | Sequence[str]) -> Columns:
    """Data for a loss from the columns of a DataFrame (or a mapping of columns).

    Each keyword names a data symbol: a list of column names gives a data block (a 2-D array,
    one column per entry, in the order given), one name gives a scalar column, and ``"*"``
    gives all columns that no other keyword uses. The columns nobody asked for are passed
    through under their own names, so scalar data symbols named like a column still find it.

    Parameters
    ----------
    frame : pandas.DataFrame or mapping {name: 1-D array}
    **blocks : str or list of str
        ``symbol_name=[column, ...]``, ``symbol_name="column"`` or ``symbol_name="*"``.

    Returns
    -------
    Columns
        A dict ``{name: array}`` to pass as ``data``.

    Raises
    ------
    SymbolError
        A named column is missing, or more than one keyword is ``"*"``.

    Examples
    --------
    >>> import pandas as pd, symcalc as sc
    >>> df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0], "y": [0.0, 1.0]})
    >>> data = sc.columns(df, x="*", t="y")
    >>> data["x"].tolist(), data["t"].tolist(), data.names["x"]
    ([[1.0, 3.0], [2.0, 4.0]], [0.0, 1.0], ['a', 'b'])
    """
    if not (hasattr(frame, "columns") or hasattr(frame, "keys")):
        raise DataError(f"columns needs a DataFrame or a mapping of columns; got {describe(frame)}")
    available = [str(c) for c in (frame.columns if hasattr(frame, "columns") else frame.keys())]
    star = [k for k, v in blocks.items() if isinstance(v, str) and v == "*"]
    if len(star) > 1:
        raise SymbolError(f"only one data block can take the remaining columns ('*'); got {star}")
    used: set[str] = set(blocks) & set(available)  # a column named like a keyword is its own
    for key, spec in blocks.items():
        if not (isinstance(spec, str) and spec == "*"):
            used |= {spec} if isinstance(spec, str) else set(map(str, spec))
    out = Columns()
    out.names = {}
    for key, spec in blocks.items():
        if isinstance(spec, str) and spec != "*":
            out[key] = _column(frame, spec, available, key)
            out.names[key] = [spec]
            continue
        names = [c for c in available if c not in used] if isinstance(spec, str) else list(spec)
        if not names:
            raise SymbolError(f"columns for {key!r}: no columns left; got {available}")
        cols = [_column(frame, str(c), available, key) for c in names]
        out[key] = np.column_stack(cols)
        out.names[key] = [str(c) for c in names]
    taken = used | {c for k in star for c in out.names[k]}
    for name in available:
        if name not in taken and name not in out:
            out[name] = frame[name]
    return out


def _column(frame: Any, name: str, available: list[str], key: str) -> np.ndarray:
    if name not in available:
        raise SymbolError(f"columns for {key!r}: no column {name!r}; columns are {available}")
    return as_float_array(frame[name], f"column {name!r}", finite=False)
