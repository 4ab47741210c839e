"""Printers of generated code: NumPy (vectorized) and the shared shallow-AST mixin.

Generated code is printed by symcalc's own printers only, with a whitelist of functions
(``allow_unknown_functions=False``): an expression with a function the printer does not know
fails to print (:class:`sympy.printing.codeprinter.PrintMethodNotImplementedError`) rather
than emitting a call to an arbitrary name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

import sympy as sp
from sympy.printing.numpy import SciPyPrinter
from sympy.printing.precedence import PRECEDENCE

from .._safety import generated_names

__all__ = [
    "ShallowPrinter", "NumPyPrinter", "numpy_printer", "identifiers", "reduce_code", "MAX_FLAT_ARGS",
]

MAX_FLAT_ARGS = 48  # longer sums/products are printed as balanced groups (no deep ASTs)


class ShallowPrinter:
    """Printer mixin: long sums/products printed as balanced groups (no deep Python ASTs)."""

    _print: Callable[[Any], str]

    def _fold(self, fn: str, args: Sequence[sp.Expr]) -> str:
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{fn}({out}, {self._print(a)})"
        return out

    def _print_Add(self, e: sp.Expr, order: str | None = None) -> str:
        if len(e.args) > MAX_FLAT_ARGS:
            return self._grouped(e.args, " + ")
        # positive terms first, then subtractions: "s - y" is one array operation where
        # SymPy's "-y + s" is two (a negation, then an addition)
        pos = [t for t in e.args if not t.could_extract_minus_sign()]
        neg = [t for t in e.args if t.could_extract_minus_sign()]
        if not pos:
            return super()._print_Add(e, order="none")  # type: ignore[misc]
        out = " + ".join(self.parenthesize(t, PRECEDENCE["Add"]) for t in pos)  # type: ignore[attr-defined]
        for t in neg:
            out += " - " + self.parenthesize(-t, PRECEDENCE["Add"])  # type: ignore[attr-defined]
        return out

    def _print_Mul(self, e: sp.Expr) -> str:
        if len(e.args) <= MAX_FLAT_ARGS:
            return super()._print_Mul(e)  # type: ignore[misc]
        return self._grouped(e.args, "*")

    def _grouped(self, args: Sequence[sp.Expr], op: str) -> str:
        parts = [f"({self._print(a)})" for a in args]
        while len(parts) > MAX_FLAT_ARGS:
            parts = [
                "(" + op.join(parts[i : i + MAX_FLAT_ARGS]) + ")"
                for i in range(0, len(parts), MAX_FLAT_ARGS)
            ]
        return "(" + op.join(parts) + ")"


class NumPyPrinter(ShallowPrinter, SciPyPrinter):
    """SciPy printer with the stable helper functions (vectorized NumPy code)."""

    def _print_sigmoid(self, e: sp.Expr) -> str:
        return f"scipy.special.expit({self._print(e.args[0])})"

    def _print_softplus(self, e: sp.Expr) -> str:
        return f"numpy.logaddexp(0, {self._print(e.args[0])})"

    def _print_logsumexp(self, e: sp.Expr) -> str:
        args = ", ".join(self._print(a) for a in e.args)
        return f"numpy.logaddexp({args})" if len(e.args) == 2 else f"_logsumexp({args})"

    def _print_Max(self, e: sp.Expr) -> str:
        return self._fold("numpy.maximum", e.args)

    def _print_Min(self, e: sp.Expr) -> str:
        return self._fold("numpy.minimum", e.args)


def numpy_printer() -> NumPyPrinter:
    """A NumPy printer with the whitelist policy (unknown functions are an error)."""
    return NumPyPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})


def identifiers(symbols: Sequence[sp.Symbol], prefix: str) -> dict[sp.Symbol, sp.Symbol]:
    """Generated identifiers (``_p0``, ``_d1``, ...) for user symbols: no user name ever
    reaches generated source (names such as ``abs``, ``numpy`` or ``t=__import__('os')``)."""
    return generated_names(symbols, prefix)


def reduce_code(e: sp.Expr, dependent: set[sp.Symbol], pr: NumPyPrinter) -> str:
    """Code for the sum over the rows of the chunk of the per-row expression ``e`` (an array:
    its ``.sum()`` method, which skips ``numpy.sum``'s dispatch)."""
    if not (e.free_symbols & dependent):
        return "0.0" if e == 0 else f"_n*({pr.doprint(e)})"
    if e.is_Add:
        const = [t for t in e.args if not (t.free_symbols & dependent)]
        terms = [t for t in e.args if t.free_symbols & dependent]
        if len(terms) > 8:  # many terms: one pass over their sum beats one pass per term
            parts = [f"({pr.doprint(sp.Add(*terms))}).sum()"]
        else:
            parts = [reduce_code(t, dependent, pr) for t in terms]
        if const:
            parts.append(f"_n*({pr.doprint(sp.Add(*const))})")
        return " + ".join(parts)
    if e.is_Mul:
        scal = [f for f in e.args if not (f.free_symbols & dependent)]
        arrs = [f for f in e.args if f.free_symbols & dependent]
        lead = f"({pr.doprint(sp.Mul(*scal))})*" if scal else ""
        if len(arrs) == 1:
            return f"{lead}({pr.doprint(arrs[0])}).sum()"
        left = pr.doprint(sp.Mul(*arrs[:-1]))
        return f"{lead}numpy.dot({left}, {pr.doprint(arrs[-1])})"
    return f"({pr.doprint(e)}).sum()"
