"""One block ``d2L/dP dQ`` of the Hessian of a block loss, in matrix-calculus form.

The core's second derivatives ``h[i][j] = d2F/dv_i dv_j`` assemble as
``sum_ij h_ij J_i J_j^T`` plus ``dF/ds * d2s/dP dQ`` for the row constants, where ``J_v`` is
how the core variable ``v`` moves with the (flattened, row-major) parameter:

* a map output ``u[k] = P[k, :] . x`` moves along ``e_k (x) x`` (just ``x`` for a vector P),
  so a pair of maps gives ``A (x) x x^T`` with ``A[k, l] = h(u[k], u[l])``;
* an entry or a scalar parameter moves along a unit vector;
* a row constant ``s`` moves along ``ds/dP`` (``2 w`` for ``norm2(w)``) and curves as
  ``d2s/dP2`` (``2 I``, or ``diag(f''(w))`` for ``sum(f(w))``).
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.kronecker import KroneckerProduct

from .._layout import is_block
from .nodes import Elementwise

__all__ = ["hessian_block"]


def _size(p: Any) -> int:
    return int(p.shape[0]) * int(p.shape[1]) if is_block(p) else 1


def _rows(p: Any) -> int:
    """Rows of a matrix parameter (the K of its maps); 1 for a vector or scalar."""
    if not is_block(p) or 1 in p.shape:
        return 1
    return int(p.shape[0])


def _jacobians(deriv: Any, p: Any) -> dict[int, tuple]:
    """variable index -> how it moves with ``p``: ("unit", r) | ("map", k, x, transposed) |
    ("const", reduction)."""
    low = deriv.lowered
    out: dict[int, tuple] = {}
    for i, v in enumerate(deriv.variables):
        if v == p:
            out[i] = ("unit", 0)
    for e in low.entries:
        if e.block == p and e.symbol in deriv.variables:
            out[deriv.variables.index(e.symbol)] = ("unit", e.flat)
    for m in low.maps:
        if m.param == p:
            for k, s in enumerate(m.symbols):
                out[deriv.variables.index(s)] = ("map", k, m.data, m.transposed)
    for r in low.reductions:
        if p in r.blocks:
            out[deriv.variables.index(r.symbol)] = ("const", r)
    return out


def _const_dir(r: Any, p: Any) -> sp.Basic:
    if r.kind == "dot":
        a, b = r.blocks
        return 2 * p if a == b else (b if p == a else a)
    if r.kind == "sum":
        return sp.OneMatrix(*p.shape)
    d = r.function.variables[0]
    return Elementwise(sp.Lambda(d, sp.diff(r.function.expr, d)), p)


def _as_column(j: tuple, p: Any, size: int) -> sp.Basic:
    """``J`` as a column (vector parameters and scalars only)."""
    if j[0] == "unit":
        if size == 1:
            return sp.S.One
        col = sp.zeros(size, 1)
        col[j[1], 0] = 1
        return sp.ImmutableMatrix(col)
    if j[0] == "map":
        return j[2] if p.shape[1] == 1 else j[2].T
    return _const_dir(j[1], p)


def hessian_block(deriv: Any, h: list[list[sp.Expr]], p: Any, q: Any, namer: Any) -> sp.Basic:
    """The block ``d2L/dp dq`` (named; see the module docstring)."""
    show = lambda e: namer.display(namer.named(namer.tidy(e)))  # noqa: E731
    jp, jq = _jacobians(deriv, p), _jacobians(deriv, q)
    sp_, sq = _size(p), _size(q)
    kp, kq = _rows(p), _rows(q)
    maps: dict[tuple, dict[tuple[int, int], sp.Expr]] = {}
    map_slot: dict[Any, dict[tuple[int, int], sp.Expr]] = {}
    slot_map: dict[Any, dict[tuple[int, int], sp.Expr]] = {}
    slots: dict[tuple[int, int], sp.Expr] = {}
    general: list[sp.Basic] = []
    for i, a in jp.items():
        for j, b in jq.items():
            hij = h[i][j]
            if hij == 0:
                continue
            if a[0] == "map" and b[0] == "map":
                maps.setdefault((a[2], b[2]), {})[(a[1], b[1])] = hij
            elif a[0] == "map" and b[0] == "unit":
                map_slot.setdefault(a[2], {})[(a[1], b[1])] = hij
            elif a[0] == "unit" and b[0] == "map":
                slot_map.setdefault(b[2], {})[(a[1], b[1])] = hij
            elif a[0] == "unit" and b[0] == "unit":
                slots[(a[1], b[1])] = hij
            else:
                if (is_block(p) and 1 not in p.shape) or (is_block(q) and 1 not in q.shape):
                    raise NotImplementedError("row-constant cross terms of a matrix parameter")
                col_a, col_b = _as_column(a, p, sp_), _as_column(b, q, sq)
                general.append(sp.MatMul(show(hij), col_a, _t(col_b)) if is_block(q) or is_block(p)
                               else show(hij) * col_a * col_b)
    terms: list[sp.Basic] = []
    for (x, y), ent in maps.items():
        A = _explicit(ent, kp, kq, show)
        outer = x * y.T
        terms.append(_kron(A, outer))
    for x, ent in map_slot.items():
        terms.append(_kron(_explicit(ent, kp, sq, show), x))
    for y, ent in slot_map.items():
        terms.append(_kron(_explicit(ent, sp_, kq, show), y.T))
    if slots:
        terms.append(_explicit(slots, sp_, sq, show))
    terms += general
    terms += _curvature(deriv, p, q, show)
    return _total(terms, p, q)


def _t(e: sp.Basic) -> sp.Basic:
    return e.T if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)) else e


def _explicit(ent: dict[tuple[int, int], sp.Expr], rows: int, cols: int, show: Any) -> sp.Basic:
    if rows == cols == 1:
        return show(ent[(0, 0)])
    m = sp.zeros(rows, cols)
    for (i, j), v in ent.items():
        m[i, j] = show(v)
    return sp.ImmutableMatrix(m)


def _kron(A: sp.Basic, B: sp.Basic) -> sp.Basic:
    if not isinstance(A, sp.MatrixBase):
        return sp.MatMul(A, B)
    return KroneckerProduct(A, B)


def _curvature(deriv: Any, p: Any, q: Any, show: Any) -> list[sp.Basic]:
    out: list[sp.Basic] = []
    for r in deriv.lowered.reductions:
        if p not in r.blocks or q not in r.blocks or r.kind == "sum":
            continue
        c = show(deriv.gradient[deriv.variables.index(r.symbol)])
        n = _size(p)
        if r.kind == "dot":
            a, b = r.blocks
            if a == b:
                out.append(sp.MatMul(2 * c, sp.Identity(n)))
            else:
                out.append(sp.MatMul(c, sp.Identity(n)))
        else:
            d = r.function.variables[0]
            f2 = sp.Lambda(d, sp.diff(r.function.expr, d, 2))
            inner = Elementwise(f2, p)
            out.append(sp.MatMul(c, DiagMatrix(inner if p.shape[1] == 1 else inner.T)))
    return out


def _total(terms: list[sp.Basic], p: Any, q: Any) -> sp.Basic:
    if not is_block(p) and not is_block(q):
        return sp.Add(*terms) if terms else sp.S.Zero
    shape = (_size(p), _size(q))
    if not terms:
        return sp.ZeroMatrix(*shape)
    fixed = []
    for t in terms:
        if not isinstance(t, (sp.MatrixExpr, sp.MatrixBase)):
            t = sp.ImmutableMatrix([[t]])
        if tuple(t.shape) == shape[::-1] and shape[0] != shape[1]:
            t = t.T
        fixed.append(t)
    return fixed[0] if len(fixed) == 1 else sp.MatAdd(*fixed)
