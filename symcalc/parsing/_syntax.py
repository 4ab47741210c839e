"""Checks on Python's syntax tree of the formula (parsing runs no code): statements,
refused constructs and operators, nesting depth."""

from __future__ import annotations

import ast
import re

from .._validate import describe
from ..errors import ParseError
from ._tables import MAX_NESTING
from ._text import Source

# Friendly names of the syntax-tree nodes that are refused.
REFUSED = {
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

BINOPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
OP_NAMES = {
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
ADDITIVE = (ast.Add, ast.Sub)
MULTIPLICATIVE = (ast.Mult, ast.Div)

_STATEMENT_WORD = re.compile(r"\s*(import|from|def|class|del|global|nonlocal|return|raise|assert)\b")


def syntax_tree(source: Source) -> ast.Expression:
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


def check_depth(tree: ast.Expression, source: Source) -> None:
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
    return (isinstance(a, ADDITIVE) and isinstance(b, ADDITIVE)) or (
        isinstance(a, MULTIPLICATIVE) and isinstance(b, MULTIPLICATIVE)
    )

