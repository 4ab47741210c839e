"""Safe formula parsing: text from users, files and the command line to SymPy.

``parse`` never executes Python. The text is checked for size, characters and nesting, ``^``
is turned into ``**``, Python's :mod:`ast` parses it (parsing runs no code), and the SymPy
expression is then built by walking a whitelisted syntax tree: numbers, names, ``+ - * / **``,
unary signs and calls of known math functions by plain name. Anything else (attribute access,
subscripts, dunder names, lambdas, comprehensions, strings, keyword arguments, statements, ...)
raises :class:`~symcalc.errors.ParseError` saying what was found and where.

Numeric work is kept bounded: constant powers whose result would have too many digits
(``9**9**9**9``, ``2**100000000``), floats beyond the float64 range, and constant arguments too
large for the function they are given to (``floor(exp(exp(20)))``, ``sin(exp(exp(20)))``: SymPy
would need hundreds of millions of digits of precision) are refused before SymPy evaluates
them, so every formula is built or refused within the time budget.

The package's modules follow the pipeline: :mod:`._text` (checks on the raw text),
:mod:`._syntax` (checks on Python's syntax tree), :mod:`._builder` (the SymPy expression, node
by node) and :mod:`._bounds` (the numeric bounds the builder applies); :mod:`._tables` holds the
whitelisted functions, constants and limits.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

import sympy as sp

from .._validate import as_symbol_tuple, describe
from ..errors import ParseError, SymbolError
from ._builder import Builder
from ._syntax import check_depth, syntax_tree
from ._tables import (  # noqa: F401 - the limits are part of this module's namespace
    CONSTANTS,
    FUNCTIONS,
    MAX_ARG_BITS,
    MAX_EXACT_BITS,
    MAX_LENGTH,
    MAX_LITERAL_DIGITS,
    MAX_NESTING,
    TIME_BUDGET,
)
from ._text import prepare

__all__ = ["parse", "FUNCTIONS", "CONSTANTS"]


def parse(text: str, symbols: Any = None) -> sp.Expr:
    """Parse formula text into a SymPy expression without executing any code.

    Parameters
    ----------
    text : str
        A formula such as ``"(w*x + b - y)^2"`` or ``"log(1 + exp(-y*(w*x + b)))"``. ``^`` and
        ``**`` both mean power. Allowed: numbers, names, ``+ - * / **``, parentheses, the
        functions in :data:`FUNCTIONS` called by name, and the constants ``pi``, ``E``/``e``,
        ``oo``/``inf``/``infinity``. ``sigmoid``/``expit``, ``softplus``, ``log_sigmoid``,
        ``relu`` and ``logsumexp`` are the folded functions of :mod:`symcalc.functions`.
    symbols : mapping, iterable or None
        Symbols to bind: a mapping ``{name: Symbol}`` or an iterable of Symbols or names. A name
        in the text that matches is bound to that exact Symbol (its assumptions, such as
        ``positive=True``, are kept), and a bound name wins over a constant of the same name
        (bind ``e`` to use it as a variable). Other names become plain ``Symbol(name)``.
        A ``MatrixSymbol`` (``sc.vector("w", 30)``) declares a block: the text may then use
        ``dot(w, x)``, ``W*x`` (a matrix product), ``norm2(w)``, ``logsumexp(z)``,
        ``softmax(z)``, and one-argument functions and powers of a block act entry by entry.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ParseError
        The text is not a string, is empty or too long (over 10,000 characters), nests deeper
        than 100 levels, has a syntax error or a construct that is not allowed, uses a
        non-ASCII or forbidden name, calls an unknown function, would produce a number too
        large to handle (e.g. ``9**9**9**9``) or give a function a constant argument too large
        to evaluate (e.g. ``floor(exp(exp(20)))``). The message says what and where.
    SymbolError
        ``symbols`` is not a mapping or iterable of Symbols/names.

    Examples
    --------
    >>> import sympy as sp
    >>> w = sp.Symbol("w", positive=True)
    >>> expr = parse("(w*x - y)^2 + log(1 + exp(-w))", symbols=[w])
    >>> expr
    (w*x - y)**2 + log(1 + exp(-w))
    >>> expr.has(w), sorted(s.name for s in expr.free_symbols)
    (True, ['w', 'x', 'y'])
    >>> parse("x.__class__")
    Traceback (most recent call last):
    ...
    symcalc.errors.ParseError: attribute access is not allowed at column 1: 'x.__class__'
    """
    bound = _bound_symbols(symbols)
    source = prepare(text)
    tree = syntax_tree(source)
    check_depth(tree, source)
    # The build is bounded in size, so its garbage can wait: with the collector on, its time
    # budget would also pay for walking every object the caller's process holds (a long
    # notebook or test session), and a formula accepted in a fresh process could be refused.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return Builder(source, bound).build(tree.body)
    except RecursionError:
        raise ParseError(
            f"the formula is nested too deeply to build (limit {MAX_NESTING} levels)"
        ) from None
    finally:
        if collecting:
            gc.enable()


def _bound_symbols(symbols: Any) -> dict[str, sp.Symbol]:
    """Normalise ``symbols`` to ``{name: Symbol}``."""
    if symbols is None:
        return {}
    if isinstance(symbols, Mapping):
        out: dict[str, sp.Symbol] = {}
        for key, value in symbols.items():
            if not isinstance(value, (sp.Symbol, sp.MatrixSymbol)):
                raise SymbolError(
                    f"symbols[{key!r}] must be a sympy Symbol; got {describe(value)} of type "
                    f"{type(value).__name__} (a MatrixSymbol declares a vector/matrix block)"
                )
            name = key.name if isinstance(key, sp.Symbol) else key
            if not isinstance(name, str):
                raise SymbolError(f"symbols keys must be names or Symbols; got {describe(key)}")
            out[name] = value
        return out
    out = {}
    blocks = [s for s in symbols if isinstance(s, sp.MatrixSymbol)] if not isinstance(
        symbols, (str, sp.Basic)) and hasattr(symbols, "__iter__") else []
    if blocks:  # declared vectors/matrices bind by name like symbols
        out.update({b.name: b for b in blocks})
        symbols = [s for s in symbols if not isinstance(s, sp.MatrixSymbol)]
    for sym in as_symbol_tuple(symbols, "symbols"):
        if out.get(sym.name, sym) != sym:
            raise SymbolError(f"symbols: the name {sym.name!r} is given twice")
        out[sym.name] = sym
    return out

