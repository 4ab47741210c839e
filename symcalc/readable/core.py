"""The readable form of derivatives: fold the ML functions, then tidy; exactly equal to raw.

:func:`readable_gradient` is the one entry point :class:`symcalc.Loss` calls: it turns the raw
partials (``sympy.diff`` output) into their readable form under one CPU-time budget, and
returns ``None`` when the budget or the size cap says "show the raw form".
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ._budget import Budget, OutOfBudget, too_large
from .fold import Folder, logistic_families, substitute
from .tidy import cost, rebuild, tidy

__all__ = ["readable_form", "readable_gradient", "readable_hessian", "Readable", "OnDemand"]


class Readable:
    """Folds and tidies expressions under one budget, sharing work between them."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.folder = Folder(budget)
        self.memo: dict[sp.Basic, sp.Basic] = {}
        self.family_memo: dict[sp.Basic, tuple[sp.Expr, ...]] = {}

    def __call__(self, raw: sp.Expr) -> sp.Expr:
        hit = self.memo.get(raw)
        if hit is None:
            hit = self.memo[raw] = self._compute(sp.sympify(raw))
        return hit  # type: ignore[return-value]

    def _compute(self, raw: sp.Expr) -> sp.Expr:
        if not isinstance(raw, sp.Expr) or raw.is_Atom:
            return raw
        folded = self.folder(raw)
        best = tidy(folded, self.budget)
        families = logistic_families(folded, self.family_memo)
        if families:
            subbed, back = substitute(folded, families)
            other = rebuild(tidy(subbed, self.budget), back)
            other = self.folder(other)
            if cost(other) < cost(best):
                best = other
        return best


class OnDemand:
    """Readable forms computed when first shown, all under one budget; once the budget is
    spent every further expression is shown raw (for displays such as ``explain``)."""

    def __init__(self, budget: float | Budget | None = None) -> None:
        self._budget = budget
        self._work: Readable | None = None

    def __call__(self, e: sp.Expr) -> sp.Expr:
        if self._work is None:
            self._work = Readable(_as_budget(self._budget))
        if too_large([e]):
            return e
        try:
            return self._work(e)
        except OutOfBudget:
            return e


def readable_form(expr: sp.Expr, *, budget: float | Budget | None = None) -> sp.Expr:
    """The readable form of one expression, or the expression itself when out of budget.

    >>> import sympy as sp
    >>> x, y, z = sp.symbols("x y z")
    >>> readable_form(-x*y + x*sp.exp(z)/(sp.exp(z) + 1))
    x*(-y + sigmoid(z))
    """
    out = readable_gradient([expr], budget=budget)
    return expr if out is None else out[0]


def _as_budget(budget: float | Budget | None) -> Budget:
    return budget if isinstance(budget, Budget) else Budget(budget)


def readable_gradient(
    exprs: Sequence[sp.Expr], *, budget: float | Budget | None = None
) -> list[sp.Expr] | None:
    """The readable form of each expression, or ``None`` if the budget ran out.

    Parameters
    ----------
    exprs : sequence of sympy.Expr
        Raw derivatives (``sympy.diff`` output).
    budget : float or Budget, optional
        CPU seconds for all of them together (default
        :data:`symcalc.readable._budget.DEFAULT_SECONDS`).
    """
    b = _as_budget(budget)
    if b.exhausted() or too_large(exprs):
        return None
    work = Readable(b)
    try:
        return [work(e) for e in exprs]
    except OutOfBudget:
        return None


def readable_hessian(
    gradient: Sequence[sp.Expr], params: Sequence[sp.Symbol], *,
    budget: float | Budget | None = None,
) -> sp.Matrix | None:
    """Second partials derived from the readable gradient (so they keep ``sigmoid`` folded),
    upper triangle mirrored; ``None`` if the budget ran out."""
    b = _as_budget(budget)
    if b.exhausted():
        return None
    work = Readable(b)
    p = len(params)
    h = sp.zeros(p, p)
    try:
        for i in range(p):
            for j in range(i, p):
                b.check()
                h[i, j] = h[j, i] = work(sp.diff(gradient[i], params[j]))
    except OutOfBudget:
        return None
    return h
