"""Exceptions raised by symcalc.

Every error caused by bad user input is a :class:`SymcalcError`, which is itself a
:class:`ValueError`, so ``except ValueError`` keeps working for callers that do not know
symcalc. The subclasses let callers tell the kinds of mistakes apart.
"""

from __future__ import annotations

__all__ = [
    "SymcalcError",
    "ParseError",
    "SymbolError",
    "DataError",
    "ShapeError",
    "NonFiniteError",
    "MissingDependencyError",
    "SymbolicTimeout",
]


class SymcalcError(ValueError):
    """Base class of every error symcalc raises on bad input."""


class ParseError(SymcalcError):
    """A formula string could not be parsed safely (syntax, forbidden construct, size)."""


class SymbolError(SymcalcError):
    """A symbol is unknown, unbound, duplicated or in the wrong role (parameter vs data)."""


class DataError(SymcalcError):
    """Data values or types are unusable (non-numeric, empty, wrong dtype)."""


class ShapeError(DataError):
    """Arrays have the wrong number of dimensions or unequal lengths."""


class NonFiniteError(DataError):
    """Input contains NaN or infinity where finite numbers are required."""


class MissingDependencyError(SymcalcError, ImportError):
    """An optional dependency (an extra such as ``symcalc[fast]``) is not installed."""


class SymbolicTimeout(SymcalcError, TimeoutError):
    """A symbolic computation did not finish within its time budget."""
