"""Text and LaTeX printers that order terms the way a loss is written.

SymPy prints ``b + w*x - y`` and ``-y + sigmoid(z)``; a textbook writes ``w*x + b - y`` and
``sigmoid(z) - y``. The order used here: numbers first before functions and data
(``1 - sigmoid(z)``, ``1 - y``) but last after a parameter (``x + 1``), then terms by the
first parameter they involve, in the loss's ``params`` order (so ``w*x`` before ``b`` when the
parameters are ``[w, b]``), then the rest (data); a sum never starts with a minus sign when
one of its terms is positive. Factors: numbers, symbols, sums free of parameters (``(1 - y)``), functions, then sums
(``x*sigmoid(z)*(1 - sigmoid(z))``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp
from sympy.core.sorting import default_sort_key
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

__all__ = ["Ordering", "to_text", "to_latex", "ShownSymbol"]


class ShownSymbol(sp.Symbol):
    """A display-only symbol printed as ``softmax(z)_k`` (text) / ``\\operatorname{softmax}(z)_{k}``."""

    def _latex(self, printer: object) -> str:
        head, _, index = self.name.rpartition("_")
        name, _, arg = head.partition("(")
        return rf"\operatorname{{{name}}}\left({arg[:-1]}\right)_{{{index}}}"


class Ordering:
    """Sort keys for the terms of sums, from the parameters' order.

    Parameters
    ----------
    params : sequence of Symbol
        The parameters, in the order the loss lists them.
    names : mapping of Symbol to Expr, optional
        Display names and what they stand for (a name involves its expression's parameters).
    """

    def __init__(self, params: Sequence[sp.Symbol] = (),
                 names: Mapping[sp.Symbol, sp.Expr] | None = None) -> None:
        self.rank = {p: i for i, p in enumerate(params)}
        self.names = dict(names or {})
        self._memo: dict[sp.Basic, int | None] = {}

    def first_param(self, e: sp.Basic) -> int | None:
        hit = self._memo.get(e, -1)
        if hit != -1:
            return hit  # type: ignore[return-value]
        ranks = []
        for s in e.free_symbols:
            if s in self.rank:
                ranks.append(self.rank[s])
            elif s in self.names:
                r = self.first_param(self.names[s])
                if r is not None:
                    ranks.append(r)
        out = min(ranks) if ranks else None
        self._memo[e] = out
        return out

    def _direct(self, term: sp.Expr) -> bool:
        return any(f in self.rank or f in self.names
                   or (f.is_Pow and (f.base in self.rank or f.base in self.names))
                   for f in sp.Mul.make_args(term))

    def terms(self, expr: sp.Add) -> list[sp.Expr]:
        # A number leads a sum of functions or data (1 - sigmoid(z), 1 - y) and closes a
        # polynomial in the parameters (x + 1, w*x + b - 1).
        number_last = any(self._direct(t) for t in expr.args)

        def key(t: sp.Expr) -> tuple:
            if t.is_Number:
                return (3 if number_last else 0, 0, default_sort_key(t))
            if isinstance(t, sp.Sum):  # a compressed run of terms such as w_j*x_j
                return (1, -1, default_sort_key(t))
            r = self.first_param(t)
            return (2, 0, default_sort_key(t)) if r is None else (1, r, default_sort_key(t))

        terms = sorted(expr.args, key=key)
        if terms[0].could_extract_minus_sign():
            for i, t in enumerate(terms):
                if not t.could_extract_minus_sign():
                    terms.insert(0, terms.pop(i))
                    break
        return terms

    def factors(self, expr: sp.Mul) -> list[sp.Expr]:
        def kind(f: sp.Expr) -> int:
            base = f.base if f.is_Pow else f
            if f.is_Number:
                return 0
            if base.is_Symbol:
                return 1
            if base.is_Add:  # (1 - y) is a coefficient; (1 - sigmoid(z)) comes last
                plain = self.first_param(f) is None and not base.has(sp.Function)
                return 2 if plain else 4
            return 3

        return sorted(expr.args, key=lambda f: (kind(f), default_sort_key(f)))


class _Ordered:
    _ordering: Ordering

    def _as_ordered_terms(self, expr: sp.Expr, order: object = None) -> list[sp.Expr]:
        return self._ordering.terms(expr) if expr.is_Add else list(expr.args)

    def _print_Mul(self, expr: sp.Mul, *args: object, **kwargs: object) -> str:
        factors = self._ordering.factors(expr)
        return super()._print_Mul(sp.Mul(*factors, evaluate=False))  # type: ignore[misc]


class _Text(_Ordered, StrPrinter):
    def __init__(self, ordering: Ordering) -> None:
        super().__init__({"order": "old"})
        self._ordering = ordering


class _Latex(_Ordered, LatexPrinter):
    def __init__(self, ordering: Ordering) -> None:
        super().__init__({"order": "old"})
        self._ordering = ordering


def to_text(expr: sp.Basic, ordering: Ordering | None = None) -> str:
    """Plain text with ordered terms.

    >>> import sympy as sp
    >>> w, b, x, y = sp.symbols("w b x y")
    >>> to_text(2*x*(b + w*x - y), Ordering([w, b]))
    '2*x*(w*x + b - y)'
    """
    return _Text(ordering or Ordering()).doprint(expr)


def to_latex(expr: sp.Basic, ordering: Ordering | None = None) -> str:
    r"""LaTeX with ordered terms.

    >>> import sympy as sp
    >>> w, b, x, y = sp.symbols("w b x y")
    >>> to_latex(sp.factor_terms(2*b + 2*w*x - 2*y), Ordering([w, b]))
    '2 \\left(w x + b - y\\right)'
    """
    return _Latex(ordering or Ordering()).doprint(expr)
