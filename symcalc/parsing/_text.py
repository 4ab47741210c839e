"""Checks on the raw text (type, size, characters, brackets, literal sizes) and positions."""

from __future__ import annotations

import ast
import re
from typing import Any

from .._validate import describe
from ..errors import ParseError
from ._tables import MAX_LENGTH, MAX_LITERAL_DIGITS, MAX_NESTING

_DIGIT_RUN = re.compile(r"(?<![A-Za-z_0-9])[0-9][0-9_]*")
_UNARY_RUN = re.compile(r"[-+~](?:\s*[-+~]){%d,}" % MAX_NESTING)


class Source:
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


def prepare(text: Any) -> Source:
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
    source = Source(text)
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


def _non_ascii_message(text: str, i: int, source: Source) -> str:
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

