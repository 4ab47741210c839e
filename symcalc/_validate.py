"""The one input-validation layer: arrays, lengths, finiteness, symbols, options.

Every public function converts and checks its user input through these helpers, so that a
wrong shape, a NaN or an unknown symbol always produces the same kind of
:class:`~symcalc.errors.SymcalcError`, with a message that names the argument, says what was
found and what was expected.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .errors import DataError, NonFiniteError, ShapeError, SymbolError, SymcalcError

__all__ = [
    "as_float_array",
    "as_finite_float",
    "check_equal_lengths",
    "check_choice",
    "check_positive",
    "check_int",
    "as_symbol",
    "as_symbol_tuple",
    "as_rng",
    "describe",
    "bind_data",
    "data_keys",
    "as_theta",
    "resolve_symbol",
    "first_nonfinite",
    "nonfinite_entry",
]


def describe(value: Any, limit: int = 60) -> str:
    """A short, single-line description of a value for error messages."""
    text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_float_array(
    x: Any,
    name: str,
    *,
    ndim: int | None = 1,
    allow_empty: bool = False,
    finite: bool = True,
) -> np.ndarray:
    """Convert ``x`` to a float64 array with checks.

    Parameters
    ----------
    x : array-like
        Numbers (lists, tuples, NumPy arrays, pandas Series, integers and booleans are accepted).
    name : str
        The argument's name as the user knows it; used in error messages.
    ndim : int or None
        Required number of dimensions (``None`` accepts any).
    allow_empty : bool
        Whether an array of size zero is acceptable.
    finite : bool
        Whether NaN and infinity are rejected.

    Raises
    ------
    DataError
        Non-numeric or complex values, or an empty array when that is not allowed.
    ShapeError
        The wrong number of dimensions.
    NonFiniteError
        NaN or infinity when ``finite`` is true.
    """
    if isinstance(x, (str, bytes)):
        raise DataError(f"{name} must be numeric; got the string {describe(x)}")
    if x is None:
        raise DataError(f"{name} must be numeric (an array of numbers); got None")
    if hasattr(x, "to_numpy") and not isinstance(x, np.ndarray):
        x = x.to_numpy()
    try:
        raw = np.asarray(x)
    except Exception as exc:  # ragged lists and other unconvertible objects
        raise DataError(f"{name} could not be converted to an array: {exc}") from None
    if raw.dtype.kind == "c":
        raise DataError(f"{name} must be real; got complex values (dtype {raw.dtype})")
    if raw.dtype.kind in "OUSV":
        try:
            arr = raw.astype(np.float64)
        except (TypeError, ValueError):
            bad = _first_non_numeric(raw)
            raise DataError(
                f"{name} must contain numbers only; found {describe(bad)} (dtype {raw.dtype})"
            ) from None
        except OverflowError:  # Python ints beyond float64, e.g. 10**400
            where, bad = _first_overflow(raw)
            raise DataError(
                f"{name} contains {describe(bad, 40)} at index {where}, beyond the float64 "
                "range (about 1.8e308 in magnitude); rescale the data"
            ) from None
    elif raw.dtype.kind in "biuf":
        arr = raw.astype(np.float64, copy=False)
    else:
        raise DataError(f"{name} must be numeric; got dtype {raw.dtype}")
    if ndim is not None and arr.ndim != ndim:
        if ndim == 1 and arr.ndim == 0:
            raise ShapeError(f"{name} must be a 1-D array; got a scalar {describe(x)}")
        raise ShapeError(f"{name} must be {ndim}-D; got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise DataError(f"{name} is empty; at least one value is required")
    if finite and arr.size and not np.isfinite(arr).all():
        bad_index = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad_index)
        where_text = where[0] if len(where) == 1 else where
        raise NonFiniteError(
            f"{name} contains {arr[tuple(bad_index)]} at index {where_text}; finite numbers "
            "are required (drop or impute missing values first)"
        )
    return arr


def _first_overflow(raw: np.ndarray) -> tuple[Any, Any]:
    for i, item in enumerate(raw.ravel()):
        try:
            float(item)
        except OverflowError:
            where = np.unravel_index(i, raw.shape)
            return (where[0] if len(where) == 1 else tuple(int(k) for k in where)), item
        except (TypeError, ValueError):
            continue
    return 0, raw.ravel()[0]


def first_nonfinite(arr: np.ndarray) -> int | None:
    """Row (first index) of the first NaN/inf of a float array (1-D, or (N, n...) for a data
    block), or None; one cheap pass when clean (the sum of finite numbers is finite unless it
    overflows, which falls back to a scan)."""
    flat = arr.reshape(-1)
    with np.errstate(all="ignore"):
        total = np.add.reduce(flat)
    if np.isfinite(total):
        return None
    bad = ~np.isfinite(flat)
    if not bad.any():
        return None
    return int(np.argmax(bad)) // max(1, flat.size // max(1, len(arr)))


def nonfinite_entry(arr: np.ndarray, row: int) -> tuple[float, str]:
    """The first NaN/inf in ``arr[row]`` and where it is ("row 3" or "row 3, column 1")."""
    if arr.ndim == 1:
        return float(arr[row]), f"row {row}"
    at = np.unravel_index(int(np.argmax(~np.isfinite(arr[row]))), arr.shape[1:])
    where = f"column {at[0]}" if len(at) == 1 else f"entry {tuple(int(i) for i in at)}"
    return float(arr[row][at]), f"row {row}, {where}"


def _first_non_numeric(raw: np.ndarray) -> Any:
    for item in raw.ravel():
        try:
            float(item)
        except (TypeError, ValueError):
            return item.item() if isinstance(item, np.generic) else item
    return raw.ravel()[0] if raw.size else None


def as_finite_float(value: Any, name: str) -> float:
    """Convert a scalar to a finite float or raise a :class:`SymcalcError` naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        try:
            value = float(sp.sympify(value)) if isinstance(value, sp.Basic) else value
        except (TypeError, ValueError):
            pass
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise DataError(f"{name} must be a real number; got {describe(value)}")
    out = float(value)
    if not np.isfinite(out):
        raise NonFiniteError(f"{name} must be finite; got {out}")
    return out


def check_equal_lengths(arrays: Mapping[str, np.ndarray], what: str = "data") -> int:
    """Check that every array has the same length and return it."""
    lengths = {key: len(arr) for key, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k!s}: {n}" for k, n in lengths.items())
        raise ShapeError(f"{what} arrays must all have the same length; got {detail}")
    return next(iter(lengths.values()), 0)


def check_choice(value: Any, allowed: Iterable[str], name: str) -> str:
    """Check that ``value`` is one of ``allowed`` (case-sensitive strings)."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise SymcalcError(
            f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {describe(value)}"
        )
    return value


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """A finite float that is > 0 (or >= 0 with ``allow_zero``)."""
    out = as_finite_float(value, name)
    if out < 0 or (out == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise SymcalcError(f"{name} must be {bound}; got {out:g}")
    return out


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """An integer (not a bool, not a float) at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise SymcalcError(f"{name} must be an integer; got {describe(value)}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise SymcalcError(f"{name} must be >= {minimum}; got {out}")
    return out


def as_symbol(value: Any, name: str = "symbol") -> sp.Symbol:
    """A SymPy Symbol from a Symbol or a valid identifier string."""
    if isinstance(value, sp.Symbol):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text.isidentifier() or text.startswith("__"):
            raise SymbolError(f"{name} must be a symbol name like 'x' or 'w1'; got {value!r}")
        return sp.Symbol(text)
    raise SymbolError(
        f"{name} must be a sympy Symbol or its name as a string; got {describe(value)} "
        f"of type {type(value).__name__}"
    )


def as_symbol_tuple(values: Any, name: str) -> tuple[sp.Symbol, ...]:
    """A tuple of distinct Symbols from a Symbol, a name, or a sequence of either."""
    if values is None:
        return ()
    if isinstance(values, (sp.Symbol, str)):
        values = [values]
    if not isinstance(values, (Sequence, sp.MatrixBase, tuple, set, frozenset)) and not hasattr(
        values, "__iter__"
    ):
        raise SymbolError(f"{name} must be a sequence of symbols; got {describe(values)}")
    out = tuple(as_symbol(v, f"{name} entry") for v in values)
    # by name: Symbol('w') and Symbol('w', positive=True) are different SymPy objects but
    # one column, one parameter slot and one key of theta
    first: dict[str, sp.Symbol] = {}
    for sym in out:
        if sym.name not in first:
            first[sym.name] = sym
            continue
        other = first[sym.name]
        if other != sym:
            raise SymbolError(
                f"{name} holds two different symbols named {sym.name!r} (with assumptions "
                f"{other.assumptions0} and {sym.assumptions0}); give each name once"
            )
        raise SymbolError(f"{name} lists {sym.name} more than once; each symbol may appear once")
    return out


def as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """``np.random.default_rng`` with a clear error for unusable seeds."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (
        isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer))
    ):
        raise SymcalcError(f"seed must be an int, a numpy Generator or None; got {describe(seed)}")
    if seed is not None and seed < 0:
        raise SymcalcError(f"seed must be non-negative; got {seed}")
    return np.random.default_rng(seed)


def _lookup(data: Any, sym: sp.Symbol) -> Any:
    """``data[sym]`` or ``data[str(sym)]``, whichever exists, else KeyError."""
    try:
        if sym in data:
            return data[sym]
    except TypeError:
        pass
    key = str(sym)
    if key in data:
        return data[key]
    raise KeyError(key)


def data_keys(data: Any) -> list[str]:
    """The keys of a data mapping (or DataFrame columns) as strings, for messages."""
    keys = data.columns if hasattr(data, "columns") else data.keys()
    return [str(k) for k in keys]


def bind_data(data: Any, symbols: Sequence[sp.Symbol], name: str = "data") -> list[Any]:
    """Look up one column per symbol in ``data`` (a mapping keyed by Symbol or name, or a
    DataFrame). Values are returned unconverted (NumPy conversion is the caller's choice, so
    Dask collections can stay lazy).

    Raises
    ------
    SymbolError
        When a symbol has no column, naming it and the keys found.
    DataError
        When ``data`` is not a mapping.
    """
    if not symbols:
        return []
    if data is None:
        raise SymbolError(
            f"{name} is required: the loss uses data symbols "
            f"{', '.join(repr(str(s)) for s in symbols)}"
        )
    if not (hasattr(data, "keys") or hasattr(data, "columns")) or isinstance(data, (str, bytes)):
        raise DataError(
            f"{name} must be a mapping {{symbol or name: 1-D array}} or a DataFrame; "
            f"got {type(data).__name__}"
        )
    cols = []
    for sym in symbols:
        try:
            cols.append(_lookup(data, sym))
        except KeyError:
            raise SymbolError(
                f"{name} is missing symbol {str(sym)!r} used by the loss; got keys "
                f"{data_keys(data)}"
            ) from None
    return cols


def as_theta(theta: Any, params: Sequence[sp.Symbol], name: str = "theta") -> np.ndarray:
    """Parameters as a float64 vector in ``params`` order.

    ``theta`` is a 1-D array-like of length ``len(params)`` or a mapping {Symbol or name: value}
    naming every parameter exactly once.
    """
    p = len(params)
    if isinstance(theta, Mapping):
        by_name = {}
        for key, value in theta.items():
            k = str(key) if isinstance(key, (sp.Symbol, str)) else None
            if k is None:
                raise SymbolError(f"{name} keys must be symbols or names; got {describe(key)}")
            by_name[k] = value
        names = [str(s) for s in params]
        unknown = sorted(set(by_name) - set(names))
        missing = [n for n in names if n not in by_name]
        if unknown:
            raise SymbolError(f"{name} has unknown parameter(s) {unknown}; parameters are {names}")
        if missing:
            raise SymbolError(f"{name} is missing parameter(s) {missing}; parameters are {names}")
        return np.array([as_finite_float(by_name[n], f"{name}[{n!r}]") for n in names])
    arr = as_float_array(theta, name, ndim=None, allow_empty=True)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ShapeError(f"{name} must be 1-D (one value per parameter); got shape {arr.shape}")
    if arr.shape[0] != p:
        raise ShapeError(
            f"{name} has length {arr.shape[0]}; expected {p} (parameters "
            f"{[str(s) for s in params]})"
        )
    return arr


def resolve_symbol(var: Any, expr: sp.Basic, name: str = "var") -> sp.Symbol:
    """The Symbol ``var`` names; a string matches ``expr``'s own symbol of that name (keeping
    its assumptions), else a new plain Symbol."""
    if isinstance(var, str):
        for sym in expr.free_symbols:
            if isinstance(sym, sp.Symbol) and sym.name == var.strip():
                return sym
    return as_symbol(var, name)
