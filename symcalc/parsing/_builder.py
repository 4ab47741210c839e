"""The builder: walks the checked syntax tree bottom-up and builds the SymPy expression, with
every numeric step bounded (sizes of exact numbers, float ranges, magnitudes of constant
arguments) before SymPy evaluates it."""

from __future__ import annotations

import ast
import math
import time

import sympy as sp

from .._validate import describe
from ..blocks.formula import BLOCK_FUNCTIONS, block_power, combine, elementwise_ok, has_block
from ..functions import ML_FUNCTIONS
from ._bounds import check_call, check_power, exact_bits, exact_parts
from ._syntax import ADDITIVE, BINOPS, MULTIPLICATIVE, OP_NAMES, REFUSED
from ._tables import (
    CONSTANTS,
    FORBIDDEN_NAMES,
    FUNCTIONS,
    LOG2_10,
    MAX_EXACT_BITS,
    MAX_FLOAT_EXP2,
    MAX_GAMMA_ARG,
    MAX_LITERAL_DIGITS,
    MAX_MINMAX_ARGS,
    MAX_ROOT_BASE_DIGITS,
    TIME_BUDGET,
)
from ._text import Source


class Builder:
    """Walks a whitelisted syntax tree and builds the SymPy expression, bottom-up."""

    def __init__(self, source: Source, bound: dict[str, sp.Symbol]) -> None:
        self.source = source
        self.bound = bound
        self.deadline = time.perf_counter() + TIME_BUDGET

    def _tick(self, node: ast.AST) -> None:
        if time.perf_counter() > self.deadline:
            raise self.source.fail(
                f"the formula is too complex: SymPy needed more than {TIME_BUDGET} s to "
                "build it (build very large or deeply nested expressions with SymPy directly); "
                "stopped",
                node,
            )

    def build(self, node: ast.AST) -> sp.Expr:
        self._tick(node)
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        what = REFUSED.get(type(node), f"the construct {type(node).__name__} is")
        raise self.source.fail(f"{what} not allowed", node)

    # -- leaves ------------------------------------------------------------------------------
    def _constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.source.fail(f"the constant {value!r} is not allowed", node)
        if isinstance(value, int):
            if value.bit_length() > MAX_LITERAL_DIGITS * LOG2_10:
                raise self.source.fail(
                    f"integer literal larger than {MAX_LITERAL_DIGITS} digits", node
                )
            return sp.Integer(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.source.fail("float literal outside the float64 range", node)
            return sp.Float(repr(value))
        if isinstance(value, complex):
            raise self.source.fail(
                "complex literals (the 'j' suffix) are not allowed; formulas are real-valued",
                node,
            )
        if isinstance(value, (str, bytes)):
            kind = "strings" if isinstance(value, str) else "bytes literals"
            raise self.source.fail(f"{kind} are not allowed", node)
        raise self.source.fail(f"the literal {describe(value)} is not allowed", node)

    def _name(self, node: ast.Name) -> sp.Expr:
        name = node.id
        if name in self.bound:
            return self.bound[name]
        self._check_name(name, node)
        if name in CONSTANTS:
            return CONSTANTS[name]
        return sp.Symbol(name)

    def _check_name(self, name: str, node: ast.AST) -> None:
        if "__" in name:
            raise self.source.fail(f"dunder names such as {name!r} are not allowed", node)
        if name in FORBIDDEN_NAMES:
            raise self.source.fail(
                f"the name {name!r} is not allowed (it is Python machinery, not math)", node
            )

    # -- operators ---------------------------------------------------------------------------
    def _unary(self, node: ast.UnaryOp) -> sp.Expr:
        signs = 1
        while isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                signs = -signs
            elif not isinstance(node.op, ast.UAdd):
                what = OP_NAMES.get(type(node.op), type(node.op).__name__)
                raise self.source.fail(f"the operator {what} is not allowed", node)
            operand: ast.AST = node.operand
            node = operand  # type: ignore[assignment]
        value = self.build(node)
        return value if signs > 0 else self._checked(-value, node)

    def _binop(self, node: ast.BinOp) -> sp.Expr:
        if type(node.op) not in BINOPS:
            what = OP_NAMES.get(type(node.op), type(node.op).__name__)
            raise self.source.fail(f"the operator {what} is not allowed", node)
        if isinstance(node.op, ast.Pow):
            base = self.build(node.left)
            exponent = self.build(node.right)
            return self._checked(self._power(base, exponent, node), node)
        # flatten left-associative chains (a + b - c + ...) without recursion
        kind = ADDITIVE if isinstance(node.op, ADDITIVE) else MULTIPLICATIVE
        chain: list[tuple[ast.operator, ast.AST]] = []
        left: ast.AST = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, kind):
            chain.append((left.op, left.right))
            left = left.left
        terms = [self.build(left)]
        for op, right in reversed(chain):
            value = self.build(right)
            if isinstance(op, ast.Sub):
                value = -value
            elif isinstance(op, ast.Div):
                if value == 0:
                    raise self.source.fail("division by zero", right)
                value = self._power(value, sp.Integer(-1), right)
            terms.append(value)
        if has_block(terms):  # vectors and matrices: shapes checked, matrix products in order
            return self._checked(combine(terms, kind is ADDITIVE), node)
        if kind is ADDITIVE:
            self._check_sum(terms, node)
            return self._checked(sp.Add(*terms), node)
        self._check_product(terms, node)
        return self._checked(sp.Mul(*terms), node)

    def _power(self, base: sp.Expr, exponent: sp.Expr, node: ast.AST) -> sp.Expr:
        if has_block([base, exponent]):
            return block_power(base, exponent)
        return self._scalar_power(base, exponent, node)

    def _scalar_power(self, base: sp.Expr, exponent: sp.Expr, node: ast.AST) -> sp.Expr:
        """``base**exponent`` after making sure SymPy will not compute a gigantic number."""
        if exponent.is_Rational and exponent != 0:
            bits = exact_bits(base) * abs(float(exponent))
            if bits > MAX_EXACT_BITS:
                raise self.source.fail(
                    f"this power would produce a number of about {bits / LOG2_10:.3g} digits "
                    f"(the limit is {MAX_EXACT_BITS / LOG2_10:.0f})",
                    node,
                )
            if not exponent.is_Integer:
                for number, _ in exact_parts(base):
                    if max(abs(number.p), number.q) >= 10**MAX_ROOT_BASE_DIGITS:
                        raise self.source.fail(
                            f"fractional powers of exact numbers with more than "
                            f"{MAX_ROOT_BASE_DIGITS} digits are not allowed",
                            node,
                        )
        if base == 0 and (exponent.is_negative or exponent == sp.zoo):
            raise self.source.fail("division by zero (0 to a negative power)", node)
        why = check_power(base, exponent)
        if why:
            raise self.source.fail(why, node)
        return sp.Pow(base, exponent)

    def _check_sum(self, terms: list[sp.Expr], node: ast.AST) -> None:
        coeffs = [t.as_coeff_Mul()[0] for t in terms]
        coeffs = [c for c in coeffs if c.is_Rational]
        bits = sum((c.q - 1).bit_length() for c in coeffs)
        bits += max((abs(c.p).bit_length() for c in coeffs), default=0)
        if bits > MAX_EXACT_BITS:
            raise self.source.fail("this sum of fractions would produce too large a number", node)

    def _check_product(self, factors: list[sp.Expr], node: ast.AST) -> None:
        bits = sum(exact_bits(f) for f in factors)
        if bits > MAX_EXACT_BITS:
            raise self.source.fail(
                f"this product would produce a number of about {bits / LOG2_10:.3g} digits "
                f"(the limit is {MAX_EXACT_BITS / LOG2_10:.0f})",
                node,
            )

    # -- calls -------------------------------------------------------------------------------
    def _call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            what = REFUSED.get(type(node.func))
            if what is not None:
                raise self.source.fail(f"{what} not allowed", node.func)
            raise self.source.fail("only known functions may be called, by plain name", node)
        name = node.func.id
        self._check_name(name, node.func)
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS, key=str.lower))
            raise self.source.fail(f"unknown function {name!r} (known: {known})", node)
        if node.keywords:
            raise self.source.fail(f"keyword arguments in a call of {name!r} are not allowed", node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.source.fail("starred arguments are not allowed", arg)
        low, high, builder = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise self.source.fail(
                f"{name}() takes {want} argument{'s' if high > 1 else ''}, got {len(node.args)}",
                node,
            )
        args = [self.build(a) for a in node.args]
        if name in ("max", "Max", "min", "Min", "relu"):
            flat = sum(len(a.args) if isinstance(a, (sp.Max, sp.Min)) else 1 for a in args)
            if flat > MAX_MINMAX_ARGS:
                raise self.source.fail(
                    f"{name}() would combine {flat} arguments; the limit is {MAX_MINMAX_ARGS}",
                    node,
                )
        if name in ("gamma", "loggamma") and args[0].is_Rational and abs(args[0]) > MAX_GAMMA_ARG:
            raise self.source.fail(
                f"{name} of an exact number larger than {MAX_GAMMA_ARG} is not allowed "
                "(it is computed exactly); write it as a float, e.g. 1000.0",
                node,
            )
        if name in ("log", "log10", "log2", "log1p") and args[-1] == 0 and len(args) == 2:
            raise self.source.fail("log with base 0 is not allowed", node)
        if has_block(args):
            if len(args) == 1 and name not in BLOCK_FUNCTIONS and not (
                    builder in ML_FUNCTIONS.values()):  # (those dispatch on blocks themselves)
                builder = elementwise_ok(builder)
        else:
            why = check_call(name, args)
            if why:
                raise self.source.fail(why, node)
        return self._checked(builder(*args), node)

    # -- result checks -----------------------------------------------------------------------
    def _checked(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        """Refuse floats outside a sane range and exact numbers that got too large."""
        self._tick(node)
        if not isinstance(value, sp.Basic):
            raise self.source.fail("this expression did not produce a SymPy value", node)
        parts = [value]
        if value.is_Add:
            parts = [value.as_coeff_Add()[0]]
        elif value.is_Mul:
            parts = [value.as_coeff_Mul()[0]]
        for part in parts:
            if part.is_Float and part != 0 and part.is_finite:
                exp2 = part._mpf_[2] + part._mpf_[3]  # |part| ~ 2**exp2
                if exp2 > MAX_FLOAT_EXP2 or exp2 < -4 * MAX_FLOAT_EXP2:
                    raise self.source.fail(
                        "this expression gives a floating-point number outside the float64 "
                        f"range (about 2**{exp2})",
                        node,
                    )
            elif part.is_Rational and exact_bits(part) > MAX_EXACT_BITS:
                raise self.source.fail("this expression produces too large an exact number", node)
        if not isinstance(value, sp.Expr):
            raise self.source.fail(f"{type(value).__name__} is not an expression", node)
        return value

