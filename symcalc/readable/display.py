"""The displayed gradient: named inner expressions, grouped partials, text and LaTeX.

:func:`display` turns a loss and its (readable) partials into a :class:`DerivativeDisplay`:
shared inner sums named once (``z = w1*x1 + w2*x2 + b``), partials written with the names and
grouped by index (``d/dw_j = x_j*(sigmoid(z) - y)  for j = 1..30``), terms ordered the way the
loss lists its parameters. ``str()`` gives aligned plain text, ``latex()`` an ``aligned`` block,
and Jupyter renders it through ``_repr_latex_``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from .grouping import Row, group_rows
from .naming import Names, compress_sums, find_inner, find_outputs
from .printing import Ordering, to_latex, to_text

__all__ = ["DerivativeDisplay", "display"]

#: Hessians of more parameters than this are summarised, not listed.
_MAX_HESSIAN_PARAMS = 6


@dataclass(repr=False, eq=False)
class DerivativeDisplay:
    """A loss and its partial derivatives as a textbook shows them.

    Attributes
    ----------
    loss : sympy.Expr or None
        The loss of one sample, written with the names (``None`` when only derivatives are
        shown).
    definitions : list of (Symbol, Expr)
        The named inner expressions, innermost first.
    rows : list of Row
        One row per partial, or per group of partials sharing a template.
    hessian : list of (Symbol, Symbol, Expr)
        Second partials (upper triangle), when requested and small enough.
    note : str
        Why the raw form is shown, when the readable one was out of budget; else ``""``.
    """

    loss: sp.Expr | None
    definitions: list[tuple[sp.Symbol, sp.Expr]]
    rows: list[Row]
    hessian: list[tuple[sp.Symbol, sp.Symbol, sp.Expr]] = field(default_factory=list)
    note: str = ""
    params: tuple[sp.Symbol, ...] = ()
    reduce: str | None = None
    has_data: bool = True
    ordering: Ordering = field(default_factory=Ordering)

    # ----------------------------------------------------------------- text
    def text_lines(self) -> list[tuple[str, str]]:
        """``(left side, right side)`` pairs of the plain-text display."""
        t = lambda e: to_text(e, self.ordering)  # noqa: E731
        lines = []
        if self.loss is not None:
            lines.append(("loss", t(self.loss)))
        for row in group_rows(*zip(*self.definitions)) if self.definitions else []:
            tail = f"   for {row.index_text()}" if row.letters else ""
            lines.append((t(row.label), t(compress_sums(row.expr)) + tail))
        for row in self.rows:
            rhs = t(row.expr) + (f"   for {row.index_text()}" if row.letters else "")
            lines.append((f"d/d{t(row.label)}", rhs))
        for a, b, e in self.hessian:
            wrt = f"d{t(a)}^2" if a == b else f"d{t(a)}d{t(b)}"
            lines.append((f"d2/{wrt}", t(e)))
        return lines

    def __str__(self) -> str:
        pairs = self.text_lines()
        width = max((len(lhs) for lhs, _ in pairs), default=0)
        out = [f"{lhs.rjust(width)} = {rhs}" for lhs, rhs in pairs]
        if self.note:
            out.append(f"({self.note})")
        return "\n".join(out)

    __repr__ = __str__

    # ----------------------------------------------------------------- LaTeX
    def latex(self) -> str:
        """The display as one LaTeX ``aligned`` block."""
        L = lambda e: to_latex(e, self.ordering)  # noqa: E731
        args = ", ".join(L(p) for p in self.params)
        lines = []
        top = r"\ell" if self.has_data else r"\mathcal{L}"
        if self.loss is not None:
            if self.has_data:
                total = (r"\frac{1}{N}\sum_{i=1}^{N}" if self.reduce != "sum"
                         else r"\sum_{i=1}^{N}")
                lines.append(rf"\mathcal{{L}}({args}) &= {total} \ell_i, \quad \ell = "
                             f"{L(self.loss)}")
            else:
                lines.append(rf"\mathcal{{L}}({args}) &= {L(self.loss)}")
        for row in group_rows(*zip(*self.definitions)) if self.definitions else []:
            tail = rf" \quad \left({row.index_latex()}\right)" if row.letters else ""
            lines.append(f"{L(row.label)} &= {L(compress_sums(row.expr))}{tail}")
        for row in self.rows:
            tail = rf" \quad \left({row.index_latex()}\right)" if row.letters else ""
            lines.append(rf"\frac{{\partial {top}}}{{\partial {L(row.label)}}} &= "
                         f"{L(row.expr)}{tail}")
        for a, b, e in self.hessian:
            wrt = rf"\partial {L(a)}^{{2}}" if a == b else rf"\partial {L(a)} \partial {L(b)}"
            lines.append(rf"\frac{{\partial^{{2}} {top}}}{{{wrt}}} &= {L(e)}")
        if self.note:
            lines.append(rf"&\text{{({self.note})}}")
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"


def display(
    loss: sp.Expr | None,
    params: Sequence[sp.Symbol],
    gradient: Sequence[sp.Expr],
    *,
    has_data: bool = True,
    reduce: str | None = None,
    hessian: sp.Matrix | None = None,
    note: str = "",
) -> DerivativeDisplay:
    """Build the display of a loss and its partials (each already in readable form).

    >>> import sympy as sp
    >>> from symcalc.functions import sigmoid
    >>> w1, w2, b, x1, x2, y = sp.symbols("w1 w2 b x1 x2 y")
    >>> z = w1*x1 + w2*x2 + b
    >>> print(display(None, [w1, w2, b], [x1*(sigmoid(z) - y), x2*(sigmoid(z) - y), sigmoid(z) - y]))
        z = w1*x1 + w2*x2 + b
    d/dw1 = x1*(sigmoid(z) - y)
    d/dw2 = x2*(sigmoid(z) - y)
     d/db = sigmoid(z) - y
    """
    params = tuple(params)
    entries = list(gradient)
    h_entries: list[tuple[sp.Symbol, sp.Symbol, sp.Expr]] = []
    if hessian is not None and len(params) <= _MAX_HESSIAN_PARAMS:
        h_entries = [(params[i], params[j], hessian[i, j])
                     for i in range(len(params)) for j in range(i, len(params))]
    everything = entries + [e for _, _, e in h_entries] + ([loss] if loss is not None else [])
    taken = {s.name for e in everything for s in e.free_symbols}
    # The raw fallback of a big loss is shown as it is: no search for names or groups.
    inner = [] if note else find_inner(entries + [e for _, _, e in h_entries], params)
    outputs = [] if note else find_outputs(entries, params)
    names = Names(inner, taken, outputs)
    ordering = Ordering(params, names.definitions)
    named = [names(e) for e in entries]
    rows = [Row(p, e) for p, e in zip(params, named)] if note else group_rows(params, named)
    return DerivativeDisplay(
        loss=None if loss is None else names(loss),
        definitions=list(names.definitions.items()),
        rows=rows,
        hessian=[(a, b, names(e)) for a, b, e in h_entries],
        note=note, params=params, reduce=reduce, has_data=has_data, ordering=ordering,
    )
