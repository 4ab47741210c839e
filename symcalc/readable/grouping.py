"""Partials that share one structure, shown once: ``d/dw_j = x_j*(sigmoid(z) - y)``, j = 1..30.

Parameters whose names carry indices (``w1``, ``w_3``, ``W_2_1``) are grouped by stem. One
member's partial is turned into a template by replacing its index values with letters (``j``
for one index, ``k, j`` for two): every symbol carrying the member's indices gets the letters.
The template is then instantiated for every other member and compared with that member's
partial; the members that match are shown as one row, the others on rows of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .naming import split_index
from .tidy import rebuild

__all__ = ["Row", "group_rows"]

_LETTERS = {1: ("j",), 2: ("k", "j"), 3: ("i", "k", "j")}
#: Fewer members than this are shown one row each.
MIN_GROUP = 3


@dataclass
class Row:
    """One displayed partial: ``label`` (a parameter or a template), its expression, and for a
    group the index letters and the index tuples it stands for."""

    label: sp.Symbol
    expr: sp.Expr
    letters: tuple[str, ...] = ()
    members: tuple[tuple[int, ...], ...] = ()

    def index_text(self) -> str:
        """``"j = 1..30"``, ``"k = 1..3, j = 1..2"`` or ``"(k, j) in {(1, 2), (2, 1)}"``."""
        return _index_text(self.letters, self.members, latex=False)

    def index_latex(self) -> str:
        return _index_text(self.letters, self.members, latex=True)


def _index_text(letters: tuple[str, ...], members: tuple[tuple[int, ...], ...],
                *, latex: bool) -> str:
    ranges = []
    for pos, letter in enumerate(letters):
        values = sorted({m[pos] for m in members})
        lo, hi = values[0], values[-1]
        if values != list(range(lo, hi + 1)):
            break
        ranges.append((letter, lo, hi, len(values)))
    full = 1
    for r in ranges:
        full *= r[3]
    if len(ranges) == len(letters) and full == len(members):
        if latex:
            return ",\\ ".join(f"{x} = {lo}, \\dots, {hi}" for x, lo, hi, _ in ranges)
        return ", ".join(f"{x} = {lo}..{hi}" for x, lo, hi, _ in ranges)
    tuples = ", ".join(str(m[0]) if len(m) == 1 else "(" + ", ".join(map(str, m)) + ")"
                       for m in members)
    head = letters[0] if len(letters) == 1 else "(" + ", ".join(letters) + ")"
    if latex:
        return rf"{head} \in \{{{tuples}\}}"
    return f"{head} in {{{tuples}}}"


class _Template:
    """Abstract one member's indices into letters and instantiate the result for others."""

    def __init__(self, idx: tuple[int, ...], letters: tuple[str, ...]) -> None:
        self.idx, self.letters = idx, letters
        self.slots: dict[sp.Symbol, tuple[sp.Symbol, tuple[int, ...]]] = {}

    def abstract(self, e: sp.Basic) -> sp.Basic:
        rules = {}
        for s in e.free_symbols:
            parts = split_index(s.name)
            if parts is None:
                continue
            stem, sep, sidx = parts
            if sidx == self.idx:
                pos = tuple(range(len(self.idx)))
            elif len(sidx) == 1 and len(self.idx) > 1 and self.idx.count(sidx[0]) == 1:
                pos = (self.idx.index(sidx[0]),)
            else:
                continue
            name = stem + "_" + "_".join(self.letters[p] for p in pos)
            t = type(s)(name, **s.assumptions0)
            self.slots[t] = (s, pos)
            rules[s] = t
        return rebuild(e, rules)

    def instantiate(self, e: sp.Basic, idx: tuple[int, ...]) -> sp.Basic:
        rules = {}
        for t in e.free_symbols & set(self.slots):
            s, pos = self.slots[t]
            stem, sep, _ = split_index(s.name)  # type: ignore[misc]
            name = stem + sep + "_".join(str(idx[p]) for p in pos)
            rules[t] = type(s)(name, **s.assumptions0)
        return rebuild(e, rules)


def _try_group(members: list[tuple[int, sp.Symbol, tuple[int, ...], sp.Expr]]
               ) -> tuple[Row, set[int]] | None:
    """The largest group one representative's template explains (tries three of them)."""
    n = len(members[0][2])
    letters = _LETTERS.get(n)
    if letters is None:
        return None
    best: tuple[Row, set[int]] | None = None
    picks = [members[-1], members[len(members) // 2], members[0]]
    for _, param, idx, expr in picks:
        if len(set(idx)) != len(idx):
            continue
        tpl = _Template(idx, letters)
        label, template = tpl.abstract(param), tpl.abstract(expr)
        hits = {pos for pos, p, i, e in members if tpl.instantiate(template, i) == e
                and tpl.instantiate(label, i) == p}
        if best is None or len(hits) > len(best[1]):
            tuples = tuple(i for pos, _, i, _ in members if pos in hits)
            best = (Row(label, template, letters, tuples), hits)  # type: ignore[arg-type]
        if len(hits) == len(members):
            break
    return best


def group_rows(params: Sequence[sp.Symbol], exprs: Sequence[sp.Expr]) -> list[Row]:
    """Rows of the display, in parameter order, groups at the place of their first member.

    >>> import sympy as sp
    >>> ws, xs = sp.symbols("w1:4"), sp.symbols("x1:4")
    >>> rows = group_rows(ws, [x * 2 for x in xs])
    >>> [(str(r.label), str(r.expr), r.index_text()) for r in rows]
    [('w_j', '2*x_j', 'j = 1..3')]
    """
    by_stem: dict[tuple[str, int], list[tuple[int, sp.Symbol, tuple[int, ...], sp.Expr]]] = {}
    for pos, (p, e) in enumerate(zip(params, exprs)):
        parts = split_index(p.name)
        if parts is not None:
            by_stem.setdefault((parts[0], len(parts[2])), []).append((pos, p, parts[2], e))
    grouped: dict[int, Row] = {}
    covered: set[int] = set()
    for members in by_stem.values():
        if len(members) < MIN_GROUP:
            continue
        found = _try_group(members)
        if found is not None and len(found[1]) >= MIN_GROUP:
            grouped[min(found[1])] = found[0]
            covered |= found[1]
    rows = []
    for pos, (p, e) in enumerate(zip(params, exprs)):
        if pos in grouped:
            rows.append(grouped[pos])
        elif pos not in covered:
            rows.append(Row(p, e))
    return rows
