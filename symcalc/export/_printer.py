"""The printer behind the JAX and PyTorch exports: a whitelist of functions, renamed symbols.

Only what the export needs is printable: sums, products, powers, numbers, the renamed symbols,
comparisons and boolean connectives (inside ``Piecewise``), ``Max``/``Min`` and the functions
named in the framework's table. Anything else (an undefined function, a derivative, an
integral, a function the framework lacks) is refused with a :class:`SymcalcError` naming it,
before any code exists. User symbol names never reach the generated source: every symbol is
replaced by a generated identifier first, and the printer refuses any other symbol.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.logic.boolalg import And, BooleanAtom, Not, Or
from sympy.printing.str import StrPrinter

from ..errors import SymcalcError

__all__ = ["ExportPrinter", "GENERATED_NAME"]

#: The only symbol names the printer accepts: the identifiers the export generates.
GENERATED_NAME = re.compile(r"_[pd][0-9]+\Z")

_PLAIN = (sp.Add, sp.Mul, sp.Pow, sp.Integer, sp.Rational, sp.Symbol, sp.core.relational.Relational,
          And, Or, Not, BooleanAtom)


class ExportPrinter(StrPrinter):
    """Python source for one framework from a stabilised, renamed SymPy expression.

    Parameters
    ----------
    framework : str
        The framework's name, for error messages.
    functions : mapping {SymPy class name: callable name in the generated namespace}
        The whitelist. It must also name ``"maximum"``, ``"minimum"``, ``"where"`` (for
        ``Max``, ``Min`` and ``Piecewise``) and ``"sqrt"``.
    """

    def __init__(self, framework: str, functions: Mapping[str, str]) -> None:
        super().__init__({"order": "none"})
        self.framework = framework
        self.functions = dict(functions)

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if isinstance(expr, sp.Expr) and expr.is_number and not isinstance(expr, sp.Rational):
            return self._constant(expr)
        if isinstance(expr, sp.Symbol) and not GENERATED_NAME.match(expr.name):
            raise SymcalcError(f"internal: symbol {expr.name!r} was not renamed before export")
        if isinstance(expr, _PLAIN):
            return str(super()._print(expr, **kwargs))
        if isinstance(expr, sp.Piecewise):
            return self._piecewise(expr)
        if isinstance(expr, (sp.Max, sp.Min)):
            fn = self.functions["maximum" if isinstance(expr, sp.Max) else "minimum"]
            out = self._print(expr.args[0])
            for arg in expr.args[1:]:
                out = f"{fn}({out}, {self._print(arg)})"
            return out
        name = type(expr).__name__
        if isinstance(expr, sp.Function) and name in self.functions:
            return f"{self.functions[name]}({', '.join(self._print(a) for a in expr.args)})"
        raise SymcalcError(
            f"cannot export {name} to {self.framework}: it is not among the functions the "
            f"export supports ({', '.join(sorted(self._public_names()))})"
        )

    def _public_names(self) -> list[str]:
        return [n for n in self.functions if n not in ("maximum", "minimum", "where")] + [
            "Max", "Min", "Piecewise"]

    def _constant(self, expr: sp.Expr) -> str:
        """A constant subexpression (``exp(2)``, ``pi``, a Float) as a float literal."""
        try:
            value = float(expr)
        except (TypeError, ValueError):
            raise SymcalcError(f"cannot export the non-real constant {expr}") from None
        if not math.isfinite(value):
            raise SymcalcError(f"cannot export the constant {expr}: it is not finite in float64")
        return repr(value) if value >= 0 else f"({value!r})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp is sp.S.Half:
            return f"{self.functions['sqrt']}({self._print(expr.base)})"
        if expr.exp == -sp.S.Half:
            return f"1/{self.functions['sqrt']}({self._print(expr.base)})"
        return str(super()._print_Pow(expr, rational))

    def _print_Equality(self, expr: sp.Eq) -> str:
        return f"({self._print(expr.lhs)} == {self._print(expr.rhs)})"

    def _print_Unequality(self, expr: sp.Ne) -> str:
        return f"({self._print(expr.lhs)} != {self._print(expr.rhs)})"

    def _print_BooleanTrue(self, expr: Any) -> str:
        return "True"

    def _print_BooleanFalse(self, expr: Any) -> str:
        return "False"

    def _piecewise(self, expr: sp.Piecewise) -> str:
        where = self.functions["where"]
        pieces = list(expr.args)
        last_value, last_cond = pieces[-1]
        out = self._print(last_value) if last_cond is sp.true else "float('nan')"
        if last_cond is not sp.true:
            pieces.append((sp.nan, sp.true))
        for value, cond in reversed(pieces[:-1]):
            out = f"{where}({self._print(cond)}, {self._print(value)}, {out})"
        return out
