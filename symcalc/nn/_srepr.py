"""Read SymPy ``srepr`` text back without executing it (for model files).

A saved model stores custom activations and losses as :func:`sympy.srepr` text, e.g.
``Mul(Symbol('z', real=True), tanh(Symbol('z', real=True)))``. Loading must be as safe as
parsing a hostile formula, so the text is never evaluated: Python's :mod:`ast` parses it
(parsing runs no code) and the expression is rebuilt by walking a whitelisted tree. Allowed:
calls of SymPy's structural classes (``Symbol``, ``Integer``, ``Rational``, ``Float``,
``Add``, ``Mul``, ``Pow``, ``Piecewise``, comparisons) and of the math functions the safe
formula parser knows (:data:`symcalc.parsing.FUNCTIONS`), by plain name; the constants ``pi``,
``E``, ``oo``, ``true``, ``false``; string, integer and boolean literals where those classes
take them. Sizes are bounded as in the parser: text length, nesting, digits of integers,
exact powers, and a time budget.
"""

from __future__ import annotations

import ast
import math
import re
import time
from typing import Any

import sympy as sp

from ..errors import ParseError
from ..parsing import FUNCTIONS, MAX_EXACT_BITS, MAX_LITERAL_DIGITS, MAX_NESTING, TIME_BUDGET

__all__ = ["read_srepr", "MAX_SREPR_LENGTH"]

#: Longest srepr text accepted (srepr is about 5x longer than the formula it spells).
MAX_SREPR_LENGTH = 50_000

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_FLOAT = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d{1,4})?")
_ASSUMPTIONS = frozenset({"real", "positive", "negative", "nonnegative", "nonpositive",
                          "nonzero", "integer", "finite"})
_CONSTANTS: dict[str, sp.Basic] = {"pi": sp.pi, "E": sp.E, "oo": sp.oo,
                                   "true": sp.true, "false": sp.false}
_RELATIONS: dict[str, type] = {
    "StrictGreaterThan": sp.StrictGreaterThan, "StrictLessThan": sp.StrictLessThan,
    "GreaterThan": sp.GreaterThan, "LessThan": sp.LessThan,
}
_KNOWN = frozenset({"Symbol", "Integer", "Rational", "Float", "Add", "Mul", "Pow", "Piecewise",
                    "ExprCondPair"})
#: The parser's math functions that are SymPy classes (srepr names them by class), minus
#: those whose exact evaluation the parser guards separately.
_FUNCTIONS: dict[str, tuple[int, int, type]] = {
    b.__name__: (low, high, b) for low, high, b in FUNCTIONS.values()
    if isinstance(b, type) and issubclass(b, sp.Basic) and b not in (sp.gamma, sp.loggamma)
}


def read_srepr(text: Any, what: str = "expression") -> sp.Expr:
    """The SymPy expression spelled by ``text`` (srepr form), or :class:`ParseError`.

    Examples
    --------
    >>> read_srepr("Mul(Integer(2), tanh(Symbol('z', real=True)))")
    2*tanh(z)
    >>> read_srepr("__import__('os')")
    Traceback (most recent call last):
    ...
    symcalc.errors.ParseError: expression: '__import__' is not an allowed SymPy class or function
    """
    if not isinstance(text, str):
        raise ParseError(f"{what} must be srepr text; got {type(text).__name__}")
    if len(text) > MAX_SREPR_LENGTH:
        raise ParseError(f"{what} is {len(text)} characters long; the limit is "
                         f"{MAX_SREPR_LENGTH}")
    if _depth(text) > 2 * MAX_NESTING:
        raise ParseError(f"{what} is nested more than {2 * MAX_NESTING} deep")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(f"{what} is not valid srepr text: {exc}") from None
    result = _Reader(what).build(tree.body, 0)
    if not isinstance(result, sp.Expr):
        raise ParseError(f"{what} must be an expression; got {type(result).__name__}")
    return result


def _depth(text: str) -> int:
    deepest = level = 0
    for ch in text:
        level += (ch == "(") - (ch == ")")
        deepest = max(deepest, level)
    return deepest


class _Reader:
    def __init__(self, what: str) -> None:
        self.what = what
        self.deadline = time.perf_counter() + TIME_BUDGET

    def fail(self, message: str) -> ParseError:
        return ParseError(f"{self.what}: {message}")

    def build(self, node: ast.AST, depth: int) -> Any:
        if depth > 2 * MAX_NESTING:
            raise self.fail(f"nested more than {2 * MAX_NESTING} deep")
        if time.perf_counter() > self.deadline:
            raise self.fail(f"took more than {TIME_BUDGET} s to rebuild; refused")
        if isinstance(node, ast.Name):
            if node.id not in _CONSTANTS:
                raise self.fail(f"the name {node.id!r} is not an allowed constant")
            return _CONSTANTS[node.id]
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            raise self.fail(f"only calls of SymPy classes by plain name are allowed; found "
                            f"{type(node).__name__}")
        name = node.func.id
        if name not in _KNOWN and name not in _FUNCTIONS and name not in _RELATIONS:
            raise self.fail(f"{name[:40]!r} is not an allowed SymPy class or function")
        if name in ("Symbol", "Integer", "Rational", "Float"):
            return self._atom(name, node)
        if node.keywords:
            raise self.fail(f"keyword arguments in {name}(...) are not allowed")
        if name == "ExprCondPair":
            raise self.fail("ExprCondPair is only allowed inside Piecewise")
        if name == "Piecewise":
            return sp.Piecewise(*[self._pair(a, depth + 1) for a in node.args])
        args = [self.build(a, depth + 1) for a in node.args]
        return self._combine(name, args)

    # -- leaves -------------------------------------------------------------------------------
    def _atom(self, name: str, node: ast.Call) -> sp.Expr:
        if name == "Symbol":
            return self._symbol(node)
        if name == "Float":
            return self._float(node)
        if node.keywords:
            raise self.fail(f"keyword arguments in {name}(...) are not allowed")
        ints = [self._int(a) for a in node.args]
        if name == "Integer" and len(ints) == 1:
            return sp.Integer(ints[0])
        if name == "Rational" and len(ints) == 2 and ints[1] != 0:
            return sp.Rational(ints[0], ints[1])
        want = "one integer" if name == "Integer" else "two integers, the second nonzero"
        raise self.fail(f"{name}(...) needs {want}")

    def _int(self, node: ast.AST) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if not (isinstance(node, ast.Constant) and type(node.value) is int):
            raise self.fail("Integer and Rational take integer literals only")
        if node.value.bit_length() > MAX_LITERAL_DIGITS * math.log2(10):
            raise self.fail(f"integer literal longer than {MAX_LITERAL_DIGITS} digits")
        return sign * node.value

    def _symbol(self, node: ast.Call) -> sp.Symbol:
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or not isinstance(
                node.args[0].value, str) or not _NAME.fullmatch(node.args[0].value):
            raise self.fail("Symbol(...) takes one name made of letters, digits and _")
        symbol_name = node.args[0].value
        if "__" in symbol_name:
            raise self.fail(f"dunder names such as {symbol_name!r} are not allowed")
        assumptions = {}
        for kw in node.keywords:
            if kw.arg not in _ASSUMPTIONS or not isinstance(kw.value, ast.Constant) or not (
                    isinstance(kw.value.value, bool)):
                raise self.fail(f"Symbol assumption {kw.arg!r} is not allowed (allowed: "
                                f"{', '.join(sorted(_ASSUMPTIONS))} = True/False)")
            assumptions[kw.arg] = kw.value.value
        return sp.Symbol(symbol_name, **assumptions)

    def _float(self, node: ast.Call) -> sp.Float:
        arg = node.args[0] if len(node.args) == 1 else None
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                and len(arg.value) <= 400 and _FLOAT.fullmatch(arg.value)):
            raise self.fail("Float(...) takes one decimal number written as a string")
        precision = 53
        for kw in node.keywords:
            if kw.arg != "precision" or not isinstance(kw.value, ast.Constant) or type(
                    kw.value.value) is not int or not 1 <= kw.value.value <= 1000:
                raise self.fail("Float(...) allows only precision=<1..1000>")
            precision = kw.value.value
        value = sp.Float(arg.value, precision=precision)
        as_float = float(value)
        if not math.isfinite(as_float) or (value != 0 and as_float == 0.0):
            raise self.fail(f"the number {arg.value} is outside the float64 range")
        return value

    # -- compound -----------------------------------------------------------------------------
    def _pair(self, node: ast.AST, depth: int) -> tuple[Any, Any]:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "ExprCondPair" and len(node.args) == 2 and not node.keywords):
            raise self.fail("Piecewise takes ExprCondPair(expression, condition) arguments")
        return self.build(node.args[0], depth + 1), self.build(node.args[1], depth + 1)

    def _combine(self, name: str, args: list[Any]) -> Any:
        if name in ("Add", "Mul"):
            if len(args) < 2:
                raise self.fail(f"{name}(...) needs at least two arguments")
            self._check_numbers(args, name)
            return sp.Add(*args) if name == "Add" else sp.Mul(*args)
        if name == "Pow":
            if len(args) != 2:
                raise self.fail("Pow(...) takes a base and an exponent")
            self._check_power(*args)
            return sp.Pow(*args)
        if name in _RELATIONS:
            if len(args) != 2:
                raise self.fail(f"{name}(...) takes two arguments")
            return _RELATIONS[name](*args)
        if name in _FUNCTIONS:
            low, high, cls = _FUNCTIONS[name]
            if not low <= len(args) <= high:
                raise self.fail(f"{name}(...) takes {low} to {high} argument(s); got {len(args)}")
            return cls(*args)
        raise self.fail(f"{name!r} is not an allowed SymPy class or function")

    def _check_numbers(self, args: list[Any], name: str) -> None:
        bits = sum(_bits(a) for a in args if isinstance(a, sp.Rational))
        if bits > MAX_EXACT_BITS:
            raise self.fail(f"{name}(...) of these exact numbers would be too large")

    def _check_power(self, base: Any, exponent: Any) -> None:
        if isinstance(base, sp.Rational) and isinstance(exponent, sp.Rational) and exponent != 0:
            if _bits(base) * abs(float(exponent)) > MAX_EXACT_BITS:
                raise self.fail("this power would produce too large an exact number")
            if not exponent.is_Integer and max(abs(base.p), base.q) >= 10**100:
                raise self.fail("fractional powers of exact numbers over 100 digits are refused")
        if isinstance(exponent, sp.Rational) and abs(exponent) > 10**6:
            raise self.fail("exponents beyond 10**6 are refused")


def _bits(r: sp.Rational) -> float:
    return (math.log2(abs(r.p)) if r.p else 0.0) + math.log2(r.q)
