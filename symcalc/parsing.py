"""Safe formula parsing: text from users, files and the command line to SymPy.

``parse`` never executes Python. The text is checked for size, characters and nesting, ``^``
is turned into ``**``, Python's :mod:`ast` parses it (parsing runs no code), and the SymPy
expression is then built by walking a whitelisted syntax tree: numbers, names, ``+ - * / **``,
unary signs and calls of known math functions by plain name. Anything else (attribute access,
subscripts, dunder names, lambdas, comprehensions, strings, keyword arguments, statements, ...)
raises :class:`~symcalc.errors.ParseError` saying what was found and where.

Exact arithmetic is kept bounded: constant powers whose result would have too many digits
(``9**9**9**9``, ``2**100000000``), floats beyond the float64 range and similar inputs that
would make SymPy compute for a very long time are refused before SymPy evaluates them.
"""

from __future__ import annotations

import ast
import gc
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import sympy as sp

from ._validate import as_symbol_tuple, describe
from .errors import ParseError, SymbolError
from .blocks.formula import BLOCK_FUNCTIONS, block_power, combine, elementwise_ok, has_block
from .functions import ML_FUNCTIONS, log_sigmoid, logsumexp, relu, sigmoid, softplus

__all__ = ["parse", "FUNCTIONS", "CONSTANTS"]

MAX_LENGTH = 10_000  # characters of formula text
MAX_NESTING = 100  # bracket depth; the syntax tree may be at most 2x as deep
MAX_LITERAL_DIGITS = 1000  # digits of one number literal
MAX_EXACT_BITS = 13_000  # ~3900 decimal digits: largest exact number a formula may produce
MAX_ROOT_BASE_DIGITS = 100  # largest exact number SymPy is asked to take a fractional power of
MAX_FLOAT_EXP2 = 1100  # nonzero floats must lie within 2**(-4*1100) .. 2**1100 in magnitude
MAX_GAMMA_ARG = 1000  # gamma/loggamma of an exact number is evaluated exactly (a factorial)
MAX_MINMAX_ARGS = 10  # SymPy compares Max/Min arguments pairwise (quadratic, slow)
MAX_LOGSUMEXP_ARGS = 256  # logits of one logsumexp
TIME_BUDGET = 0.5  # seconds SymPy may spend building one formula

_LOG2_10 = math.log2(10)


#: name -> (min args, max args, builder). Only these names may be called.
FUNCTIONS: dict[str, tuple[int, int, Callable[..., sp.Expr]]] = {
    "exp": (1, 1, sp.exp),
    "log": (1, 2, sp.log),
    "ln": (1, 1, sp.log),
    "log10": (1, 1, lambda x: sp.log(x, 10)),
    "log2": (1, 1, lambda x: sp.log(x, 2)),
    "log1p": (1, 1, lambda x: sp.log(1 + x)),
    "sqrt": (1, 1, sp.sqrt),
    "sin": (1, 1, sp.sin),
    "cos": (1, 1, sp.cos),
    "tan": (1, 1, sp.tan),
    "asin": (1, 1, sp.asin),
    "acos": (1, 1, sp.acos),
    "atan": (1, 1, sp.atan),
    "atan2": (2, 2, sp.atan2),
    "sinh": (1, 1, sp.sinh),
    "cosh": (1, 1, sp.cosh),
    "tanh": (1, 1, sp.tanh),
    "asinh": (1, 1, sp.asinh),
    "acosh": (1, 1, sp.acosh),
    "atanh": (1, 1, sp.atanh),
    "abs": (1, 1, sp.Abs),
    "Abs": (1, 1, sp.Abs),
    "sign": (1, 1, sp.sign),
    "max": (1, MAX_MINMAX_ARGS, sp.Max),
    "Max": (1, MAX_MINMAX_ARGS, sp.Max),
    "min": (1, MAX_MINMAX_ARGS, sp.Min),
    "Min": (1, MAX_MINMAX_ARGS, sp.Min),
    "floor": (1, 1, sp.floor),
    "ceiling": (1, 1, sp.ceiling),
    "ceil": (1, 1, sp.ceiling),
    "erf": (1, 1, sp.erf),
    "erfc": (1, 1, sp.erfc),
    "gamma": (1, 1, sp.gamma),
    "loggamma": (1, 1, sp.loggamma),
    # ML functions stay folded (symcalc.functions): exact derivatives, stable code
    "sigmoid": (1, 1, sigmoid),
    "expit": (1, 1, sigmoid),
    "softplus": (1, 1, softplus),
    "log_sigmoid": (1, 1, log_sigmoid),
    "relu": (1, 1, relu),
    "logsumexp": (1, MAX_LOGSUMEXP_ARGS, logsumexp),
    "Heaviside": (1, 2, sp.Heaviside),
}
# the block functions (dot, norm2, softmax) need declared vectors; applied to a block, the
# one-argument functions act entry by entry (see Builder._call)
FUNCTIONS.update(BLOCK_FUNCTIONS)

#: names that mean a constant unless the caller binds the name to a symbol.
CONSTANTS: dict[str, sp.Expr] = {
    "pi": sp.pi,
    "E": sp.E,
    "e": sp.E,
    "oo": sp.oo,
    "inf": sp.oo,
    "infinity": sp.oo,
}

# Names of Python machinery that never belong in a formula, refused even as plain symbols.
_FORBIDDEN_NAMES = frozenset(
    "eval exec compile open input breakpoint globals locals vars getattr setattr delattr "
    "hasattr dir exit quit help memoryview os sys subprocess builtins importlib sympify "
    "lambdify".split()
)

# Friendly names of the syntax-tree nodes that are refused.
_REFUSED = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts (indexing) are",
    ast.Slice: "slices are",
    ast.Lambda: "lambda expressions are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.NamedExpr: "assignment expressions (:=) are",
    ast.IfExp: "conditional expressions (x if c else y) are",
    ast.BoolOp: "boolean operators (and/or) are",
    ast.Compare: "comparisons are",
    ast.Tuple: "tuples are",
    ast.List: "lists are",
    ast.Set: "sets are",
    ast.Dict: "dictionaries are",
    ast.Starred: "starred arguments are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
}

_BINOPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OP_NAMES = {
    ast.FloorDiv: "'//' (floor division)",
    ast.Mod: "'%' (modulo)",
    ast.MatMult: "'@' (matrix multiplication)",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.BitXor: "'^'",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.Invert: "'~'",
    ast.Not: "'not'",
}
_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)

_DIGIT_RUN = re.compile(r"(?<![A-Za-z_0-9])[0-9][0-9_]*")
_UNARY_RUN = re.compile(r"[-+~](?:\s*[-+~]){%d,}" % MAX_NESTING)
_STATEMENT_WORD = re.compile(r"\s*(import|from|def|class|del|global|nonlocal|return|raise|assert)\b")


class _Source:
    """The original text, the text given to ``ast`` (``^`` -> ``**``) and positions between."""

    def __init__(self, text: str) -> None:
        self.text = text
        parts: list[str] = []
        self._orig: list[int] = []  # offset in the ast text -> offset in the original text
        for i, ch in enumerate(text):
            piece = "**" if ch == "^" else ch
            parts.append(piece)
            self._orig.extend([i] * len(piece))
        self._orig.append(len(text))
        self.code = "".join(parts)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.code)]

    def offset(self, lineno: int | None, col: int | None) -> int:
        """Original-text offset of an ast (1-based line, 0-based column) position."""
        line = min(max((lineno or 1) - 1, 0), len(self._line_starts) - 1)
        pos = min(self._line_starts[line] + max(col or 0, 0), len(self.code))
        return self._orig[pos]

    def where(self, start: int, end: int | None = None) -> str:
        """'at column C: 'snippet'' (with the line when the text has several)."""
        line = self.text.count("\n", 0, start) + 1
        col = start - (self.text.rfind("\n", 0, start) + 1) + 1
        at = f"at column {col}" if "\n" not in self.text else f"at line {line}, column {col}"
        if end is None or end <= start:
            end = start + 1
        snippet = self.text[start:end]
        if len(snippet) > 40:
            snippet = snippet[:37] + "..."
        return f"{at}: {snippet!r}" if snippet.strip() else at

    def node_where(self, node: ast.AST) -> str:
        start = self.offset(getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
        end_line = getattr(node, "end_lineno", None)
        end = self.offset(end_line, getattr(node, "end_col_offset", None)) if end_line else None
        return self.where(start, end)

    def fail(self, what: str, node: ast.AST) -> ParseError:
        return ParseError(f"{what} {self.node_where(node)}")


def parse(text: str, symbols: Any = None) -> sp.Expr:
    """Parse formula text into a SymPy expression without executing any code.

    Parameters
    ----------
    text : str
        A formula such as ``"(w*x + b - y)^2"`` or ``"log(1 + exp(-y*(w*x + b)))"``. ``^`` and
        ``**`` both mean power. Allowed: numbers, names, ``+ - * / **``, parentheses, the
        functions in :data:`FUNCTIONS` called by name, and the constants ``pi``, ``E``/``e``,
        ``oo``/``inf``/``infinity``. ``sigmoid``/``expit`` expand to ``1/(1 + exp(-x))``,
        ``softplus`` to ``log(1 + exp(x))`` and ``relu`` to ``Max(0, x)``.
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
        non-ASCII or forbidden name, calls an unknown function, or would produce a number too
        large to handle (e.g. ``9**9**9**9``). The message says what and where.
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
    source = _prepare(text)
    tree = _syntax_tree(source)
    _check_depth(tree, source)
    # The build is bounded in size, so its garbage can wait: with the collector on, its time
    # budget would also pay for walking every object the caller's process holds (a long
    # notebook or test session), and a formula accepted in a fresh process could be refused.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Builder(source, bound).build(tree.body)
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
        if sym.name in out:
            raise SymbolError(
                f"symbols holds two different symbols named {sym.name!r} "
                f"({out[sym.name]!r} with assumptions {out[sym.name].assumptions0} and "
                f"{sym.assumptions0}); give each name once"
            )
        out[sym.name] = sym
    return out


def _prepare(text: Any) -> _Source:
    """Check type, size, characters, nesting and literal sizes before parsing."""
    if not isinstance(text, str):
        raise ParseError(
            f"a formula must be a string; got {describe(text)} of type {type(text).__name__}"
        )
    if not text.strip():
        raise ParseError("the formula is empty; expected an expression such as 'x**2 + 1'")
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"the formula is {len(text)} characters long; the limit is {MAX_LENGTH}"
        )
    source = _Source(text)
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            raise ParseError(_non_ascii_message(text, i, source))
        if (ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127:
            raise ParseError(
                f"control character {ch!r} {source.where(i)}; formulas are plain printable text"
            )
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(
                    f"brackets nest deeper than {MAX_NESTING} levels {source.where(i)}"
                )
        elif ch in ")]}":
            depth -= 1
    match = _UNARY_RUN.search(text)
    if match:
        raise ParseError(
            f"more than {MAX_NESTING} unary signs in a row {source.where(*match.span())}"
        )
    for match in _DIGIT_RUN.finditer(text):
        digits = len(match.group().replace("_", ""))
        if digits > MAX_LITERAL_DIGITS:
            raise ParseError(
                f"a number literal with {digits} digits {source.where(*match.span())}; "
                f"the limit is {MAX_LITERAL_DIGITS} digits"
            )
    return source


def _non_ascii_message(text: str, i: int, source: _Source) -> str:
    ch = text[i]
    start, end = i, i + 1
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    code = f"U+{ord(ch):04X}"
    if ch.isalnum() or ch == "_":
        return (
            f"non-ASCII identifier {text[start:end]!r} (character {ch!r}, {code}) "
            f"{source.where(start, end)}; names must use ASCII letters, digits and '_' only "
            "(look-alike letters such as full-width or Cyrillic ones are refused)"
        )
    return (
        f"non-ASCII character {ch!r} ({code}) {source.where(i)}; write formulas in plain "
        "ASCII (e.g. '-' not '\u2212', '*' not '\u00d7')"
    )


def _syntax_tree(source: _Source) -> ast.Expression:
    """``ast.parse`` in eval mode (parses only, runs nothing), errors turned into ParseError."""
    try:
        return ast.parse(source.code, mode="eval")
    except SyntaxError as exc:
        err = exc
    except (RecursionError, MemoryError):
        raise ParseError(
            "the formula is too deeply nested or has too many chained operators to parse"
        ) from None
    except ValueError as exc:  # e.g. null bytes (already refused) or int conversion limits
        raise ParseError(f"the formula could not be parsed: {exc}") from None
    if _STATEMENT_WORD.match(source.code) or _parses_as_statements(source.code):
        raise ParseError(
            "statements (import, assignment, def, ...) are not allowed; a formula is a single "
            f"expression, got {describe(source.text, 50)}"
        )
    start = source.offset(err.lineno, (err.offset or 1) - 1)
    reason = err.msg or "invalid syntax"
    if "Exceeds the limit" in reason:
        reason = "a number literal is too long"
    raise ParseError(f"{reason} {source.where(start, start + 20)} in {describe(source.text, 50)}")


def _parses_as_statements(code: str) -> bool:
    try:
        ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _check_depth(tree: ast.Expression, source: _Source) -> None:
    """Refuse syntax trees deeper than 2*MAX_NESTING (flat + - and * / chains count once)."""
    limit = 2 * MAX_NESTING
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise ParseError(
                f"the formula nests deeper than {limit} operations {source.node_where(node)}"
            )
        for child in ast.iter_child_nodes(node):
            same_chain = (
                isinstance(node, ast.BinOp)
                and child is node.left
                and isinstance(child, ast.BinOp)
                and _same_class(node.op, child.op)
            )
            stack.append((child, depth if same_chain else depth + 1))


def _same_class(a: ast.operator, b: ast.operator) -> bool:
    return (isinstance(a, _ADDITIVE) and isinstance(b, _ADDITIVE)) or (
        isinstance(a, _MULTIPLICATIVE) and isinstance(b, _MULTIPLICATIVE)
    )


class _Builder:
    """Walks a whitelisted syntax tree and builds the SymPy expression, bottom-up."""

    def __init__(self, source: _Source, bound: dict[str, sp.Symbol]) -> None:
        self.source = source
        self.bound = bound
        self.deadline = time.perf_counter() + TIME_BUDGET

    def _tick(self, node: ast.AST) -> None:
        if time.perf_counter() > self.deadline:
            raise self.source.fail(
                f"the formula is too complex: SymPy needed more than {TIME_BUDGET} s to build "
                "it (build very large or deeply nested expressions with SymPy directly); "
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
        what = _REFUSED.get(type(node), f"the construct {type(node).__name__} is")
        raise self.source.fail(f"{what} not allowed", node)

    # -- leaves ------------------------------------------------------------------------------
    def _constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.source.fail(f"the constant {value!r} is not allowed", node)
        if isinstance(value, int):
            if value.bit_length() > MAX_LITERAL_DIGITS * _LOG2_10:
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
        if name in _FORBIDDEN_NAMES:
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
                what = _OP_NAMES.get(type(node.op), type(node.op).__name__)
                raise self.source.fail(f"the operator {what} is not allowed", node)
            operand: ast.AST = node.operand
            node = operand  # type: ignore[assignment]
        value = self.build(node)
        return value if signs > 0 else self._checked(-value, node)

    def _binop(self, node: ast.BinOp) -> sp.Expr:
        if type(node.op) not in _BINOPS:
            what = _OP_NAMES.get(type(node.op), type(node.op).__name__)
            raise self.source.fail(f"the operator {what} is not allowed", node)
        if isinstance(node.op, ast.Pow):
            base = self.build(node.left)
            exponent = self.build(node.right)
            return self._checked(self._power(base, exponent, node), node)
        # flatten left-associative chains (a + b - c + ...) without recursion
        kind = _ADDITIVE if isinstance(node.op, _ADDITIVE) else _MULTIPLICATIVE
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
            return self._checked(combine(terms, kind is _ADDITIVE), node)
        if kind is _ADDITIVE:
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
            bits = _exact_bits(base) * abs(float(exponent))
            if bits > MAX_EXACT_BITS:
                raise self.source.fail(
                    f"this power would produce a number of about {bits / _LOG2_10:.3g} digits "
                    f"(the limit is {MAX_EXACT_BITS / _LOG2_10:.0f})",
                    node,
                )
            if not exponent.is_Integer:
                for number, _ in _exact_parts(base):
                    if max(abs(number.p), number.q) >= 10**MAX_ROOT_BASE_DIGITS:
                        raise self.source.fail(
                            f"fractional powers of exact numbers with more than "
                            f"{MAX_ROOT_BASE_DIGITS} digits are not allowed",
                            node,
                        )
        if base == 0 and (exponent.is_negative or exponent == sp.zoo):
            raise self.source.fail("division by zero (0 to a negative power)", node)
        return sp.Pow(base, exponent)

    def _check_sum(self, terms: list[sp.Expr], node: ast.AST) -> None:
        coeffs = [t.as_coeff_Mul()[0] for t in terms]
        coeffs = [c for c in coeffs if c.is_Rational]
        bits = sum((c.q - 1).bit_length() for c in coeffs)
        bits += max((abs(c.p).bit_length() for c in coeffs), default=0)
        if bits > MAX_EXACT_BITS:
            raise self.source.fail("this sum of fractions would produce too large a number", node)

    def _check_product(self, factors: list[sp.Expr], node: ast.AST) -> None:
        bits = sum(_exact_bits(f) for f in factors)
        if bits > MAX_EXACT_BITS:
            raise self.source.fail(
                f"this product would produce a number of about {bits / _LOG2_10:.3g} digits "
                f"(the limit is {MAX_EXACT_BITS / _LOG2_10:.0f})",
                node,
            )

    # -- calls -------------------------------------------------------------------------------
    def _call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            what = _REFUSED.get(type(node.func))
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
        if len(args) == 1 and has_block(args) and name not in BLOCK_FUNCTIONS and not (
                builder in ML_FUNCTIONS.values()):  # (those dispatch on blocks themselves)
            builder = elementwise_ok(builder)
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
            elif part.is_Rational and _exact_bits(part) > MAX_EXACT_BITS:
                raise self.source.fail("this expression produces too large an exact number", node)
        if not isinstance(value, sp.Expr):
            raise self.source.fail(f"{type(value).__name__} is not an expression", node)
        return value


def _exact_bits(expr: sp.Expr) -> float:
    """log2 of the exact numbers that a product/power of ``expr`` multiplies out."""
    total = 0.0
    for number, power in _exact_parts(expr):
        total += _rational_bits(number) * power
    return total


def _exact_parts(expr: sp.Expr) -> Iterable[tuple[sp.Rational, float]]:
    factors = expr.args if expr.is_Mul else (expr,)
    for f in factors:
        if f.is_Rational:
            yield f, 1.0
        elif f.is_Pow and f.base.is_Rational and f.exp.is_Rational:
            yield f.base, abs(float(f.exp))


def _rational_bits(r: sp.Rational) -> float:
    return (math.log2(abs(r.p)) if r.p else 0.0) + math.log2(r.q)
