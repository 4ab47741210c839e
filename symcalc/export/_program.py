"""What every export prints: the loss's stable expressions with every symbol renamed.

The expressions are the ones the compile path evaluates (:func:`symcalc.codegen.stable.stabilize`
of the loss and of its exact, raw gradient), so an export computes the same numbers, with the same
overflow-free forms. Symbols are replaced by generated identifiers (``_p0, _p1, ...`` for
parameters, ``_d0, ...`` for data) before printing: a user's symbol name never reaches
generated source.
"""

from __future__ import annotations

from typing import Protocol

import sympy as sp

from ..codegen.stable import stabilize

__all__ = ["LossLike", "stable_value", "stable_value_and_grad", "renaming"]


class LossLike(Protocol):
    """What an export needs from a :class:`symcalc.Loss` (kept structural: no import cycle)."""

    expr: sp.Expr
    params: tuple[sp.Symbol, ...]
    data: tuple[sp.Symbol, ...]
    reduce: str

    def gradient(self, *, form: str = ...) -> sp.Matrix: ...


def renaming(loss: LossLike) -> dict[sp.Symbol, sp.Symbol]:
    """Every parameter and data symbol -> its generated identifier, in call order."""
    out = {p: sp.Symbol(f"_p{i}") for i, p in enumerate(loss.params)}
    out.update({d: sp.Symbol(f"_d{i}") for i, d in enumerate(loss.data)})
    return out


def stable_value(loss: LossLike) -> tuple[sp.Expr, list[str]]:
    """The per-sample loss in its stable form, renamed; and the argument names in order."""
    names = renaming(loss)
    (expr,), _ = stabilize([loss.expr])
    return expr.xreplace(names), [s.name for s in names.values()]


def stable_value_and_grad(loss: LossLike) -> tuple[list[sp.Expr], list[str]]:
    """``[loss, d/dp0, d/dp1, ...]`` per sample in stable form, renamed; argument names."""
    names = renaming(loss)
    exprs, _ = stabilize([loss.expr, *loss.gradient(form="raw")])
    return [e.xreplace(names) for e in exprs], [s.name for s in names.values()]
