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
    "LabelTypeError",
    "UnsupportedOptionError",
    "UndefinedMetricWarning",
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



class LabelTypeError(DataError, TypeError):
    """Class labels of an unusable type (bytes, numbers mixed with strings).

    Also a :class:`TypeError`, as scikit-learn raises for bytes labels, so code written for
    scikit-learn's metrics catches it either way.
    """


class UnsupportedOptionError(SymcalcError, NotImplementedError):
    """A combination of options that has no definition (``average=None`` with one-vs-one).

    Also a :class:`NotImplementedError`, the class scikit-learn raises for the same call.
    """


class UndefinedMetricWarning(UserWarning):
    """A metric is undefined for the data given (one class only) and the result is ``nan``.

    Filter it like any warning, e.g.
    ``warnings.simplefilter("ignore", symcalc.UndefinedMetricWarning)``. When scikit-learn is
    imported, the warnings symcalc emits are also instances of
    ``sklearn.exceptions.UndefinedMetricWarning``, so filters written for either library work.
    """
