"""The one derivation of a loss: derivatives of its lowered core, assembled per parameter.

:class:`CoreDerivation` differentiates the scalar core ``F`` of a lowered loss by its few
variables (scalar parameters, parameter entries, map outputs ``u``, row constants ``s``);
that list is what the compile path compiles. :meth:`CoreDerivation.gradient_terms` and
:meth:`CoreDerivation.hessian_terms` say how those scalar derivatives assemble into the
gradient and Hessian of each parameter BLOCK (matrix calculus, never entry by entry):

* a map ``u = w . x``: ``dL/dw += dF/du * x``; for ``W @ x`` (K rows),
  ``dL/dW += r x^T`` with ``r[k] = dF/du[k]``;
* a row constant: ``dL/dP += dF/ds * ds/dP`` (``2*w`` for ``norm2(w)``);
* an entry ``P[i, j]``: ``dL/dP[i, j] += dF/dP[i, j]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from .._layout import is_block
from ..codegen.realdiff import real_derivatives as derivatives  # parameters and data are real
from .lower import Entry, LinearMap, Lowered, Reduction

__all__ = ["CoreDerivation", "Term"]


@dataclass(frozen=True)
class Term:
    """One contribution to the derivative of the loss by one parameter (or parameter pair).

    ``kind``:

    * ``"scalar"``: ``coef`` is the derivative itself (a scalar parameter);
    * ``"map"``: ``coef`` is a list (one per map output) of dF/du[k]; ``map`` the LinearMap
      (gradient ``coef * x``, or ``r x^T`` for K outputs);
    * ``"entries"``: ``coef`` maps (i, j) -> dF/dP[i, j];
    * ``"const"``: ``coef`` is dF/ds, ``reduction`` the row constant ``s``.
    """

    kind: str
    coef: Any
    map: LinearMap | None = None
    reduction: Reduction | None = None


class CoreDerivation:
    """The derivatives of a lowered loss's core by its variables (exact, cached).

    Parameters
    ----------
    lowered : Lowered
    gradient : list of sympy.Expr, optional
        dF/dv for ``v`` in ``lowered.variables`` when already known (a loss without blocks
        passes its own gradient, so the two are the same objects).
    """

    def __init__(self, lowered: Lowered, gradient: list[sp.Expr] | None = None) -> None:
        self.lowered = lowered
        self.variables = lowered.variables
        self.gradient = (
            list(gradient) if gradient is not None
            else derivatives(lowered.core, list(self.variables))
        )
        self._hessian: list[list[sp.Expr]] | None = None

    def hessian(self) -> list[list[sp.Expr]]:
        """Symmetric matrix (list of rows) of d2F/dv dv' over the variables (upper derived once)."""
        if self._hessian is None:
            v = len(self.variables)
            rows = [[sp.S.Zero] * v for _ in range(v)]
            for i in range(v):
                upper = derivatives(self.gradient[i], list(self.variables[i:]))
                for j, d in enumerate(upper, start=i):
                    rows[i][j] = rows[j][i] = d
            self._hessian = rows
        return self._hessian

    # ------------------------------------------------------------------ assembly
    def _by_variable(self) -> dict[sp.Symbol, int]:
        return {v: i for i, v in enumerate(self.variables)}

    def gradient_terms(self, param: Any) -> list[Term]:
        """How dL/d``param`` assembles from the core's derivatives."""
        low, at = self.lowered, self._by_variable()
        g = self.gradient
        if not is_block(param):
            return [Term("scalar", g[at[param]])]
        terms: list[Term] = []
        for m in low.maps:
            if m.param == param:
                terms.append(Term("map", [g[at[s]] for s in m.symbols], map=m))
        ents = {e.index: g[at[e.symbol]] for e in _entries_of(low, param)}
        if ents:
            terms.append(Term("entries", ents))
        for r in low.reductions:
            if param in r.blocks:
                terms.append(Term("const", g[at[r.symbol]], reduction=r))
        return terms

    def hessian_pairs(self) -> list[tuple[int, int, sp.Expr]]:
        """The nonzero d2F/dv dv' with i <= j (indices into ``variables``)."""
        h = self.hessian()
        return [(i, j, h[i][j]) for i in range(len(h)) for j in range(i, len(h)) if h[i][j] != 0]


def _entries_of(low: Lowered, block: Any) -> list[Entry]:
    return [e for e in low.entries if e.block == block]
