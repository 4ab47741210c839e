"""The derivative of a block loss by one parameter block, step by step.

The steps follow the one block derivation (:mod:`symcalc.blocks.derive`): the loss is
written as a scalar core ``F`` of a few per-row scalars (``u = w . x``, ``(W x)[k]``, row
constants such as ``norm2(w)``, entries of small blocks), each linear map contributes its
matrix-calculus rule (``d(w . x)/dw = x``, ``d(W x)[k]/dW = e_k x^T``), each row constant its
own (``d norm2(w)/dw = 2 w``), and the chain rule joins them with ``dF/du`` worked out by the
scalar rules of :func:`symcalc.explain`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ._layout import is_block
from .blocks.nodes import Dot, Elementwise, explicit
from .explain import Derivation, Step, explain

__all__ = ["explain_block"]

_MAX_SHOWN = 3  # per-output derivations shown for a K-row map (the rest follow the same rule)


_TEX = {"\\": r"\textbackslash{}", "_": r"\_", "^": r"\^{}", "%": r"\%", "&": r"\&",
        "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}"}


def _step(rule: str, expr: Any, result: Any, note: str, depth: int = 0) -> Step:
    tex = "".join(_TEX.get(c, c) for c in note)
    return Step(rule=rule, expr=expr, result=result, note=note, depth=depth,
                note_latex=rf"\text{{{tex}}}")


def _nested(core: sp.Expr, var: sp.Symbol, depth: int, timeout: float | None) -> tuple[Any, list[Step]]:
    """dF/d``var`` by the scalar rules, its steps shifted under ``depth``."""
    d = explain(core, var, timeout=timeout)
    steps = [Step(rule=s.rule, expr=s.expr, result=s.result, note=s.note, depth=s.depth + depth,
                  inner=s.inner, outer=s.outer, note_latex=s.note_latex) for s in d.steps]
    return d.result, steps


def _reduction_rule(r: Any, p: Any) -> tuple[str, Any, str]:
    """(rule name, d s/dp, note) of a row constant ``s``."""
    if r.kind == "dot":
        a, b = r.blocks
        if a == b:
            return "squared norm rule", 2 * p, f"d norm2({p})/d{p} = 2 {p}"
        other = b if p == a else a
        return "inner product rule", other, f"d dot({a}, {b})/d{p} = {other}"
    if r.kind == "sum":
        return "sum of entries rule", sp.OneMatrix(*p.shape), f"d sum({p})/d{p} = 1 (every entry)"
    d = r.function.variables[0]
    df = sp.Lambda(d, sp.diff(r.function.expr, d))
    return ("elementwise rule", Elementwise(df, p),
            f"d sum(f({p}))/d{p} = f'({p}) entry by entry, f'(u) = {df.expr.xreplace({d: sp.Symbol('u')})}")


def explain_block(loss: Any, param: Any, *, timeout: float | None = 10.0) -> Derivation:
    """Work out ``d loss / d param`` for a loss with blocks (see the module docstring).

    ``result`` and ``assembled`` are the exact block gradient entry (as ``loss.gradient()``);
    ``verified`` compares it numerically with ``sympy.diff`` of the loss written entry by
    entry, at a random point, when the blocks are small enough (at most 200 entries).
    """
    deriv = loss.derivation
    low = deriv.lowered
    grad = loss.gradient()
    result = grad[param]
    steps = [_step("lowering", loss.expr, low.core,
                   "the loss as a function F of a few scalars per row: " + _scalars(low))]
    for t in deriv.gradient_terms(param):
        if t.kind == "scalar":
            value, sub = _nested(low.core, param, 1, timeout)
            steps.append(_step("chain rule", loss.expr, value, f"d{param} directly", 0))
            steps += sub
        elif t.kind == "map":
            steps += _map_steps(t, param, low.core, timeout)
        elif t.kind == "const":
            rule, ds, note = _reduction_rule(t.reduction, param)
            steps.append(_step("chain rule", loss.expr, sp.MatMul(t.coef, ds) if is_block(param) else t.coef * ds,
                               f"dL/d{param} += dF/ds * ds/d{param}, s = {t.reduction.expr}"))
            steps.append(_step(rule, t.reduction.expr, ds, note, 1))
            steps += _nested(low.core, t.reduction.symbol, 1, timeout)[1]
        else:
            for (i, j), _ in list(t.coef.items())[:_MAX_SHOWN]:
                entry = next(e.symbol for e in low.entries if e.block == param and e.index == (i, j))
                value, sub = _nested(low.core, entry, 1, timeout)
                steps.append(_step("entry by entry", loss.expr, value, f"d/d{entry}"))
                steps += sub
    verified, check = _verify(loss, param, result)
    return Derivation(verified=verified, check=check, expr=loss.expr, var=param, result=result,
                      assembled=result, steps=steps)


def _scalars(low: Any) -> str:
    parts = [f"{s} = {_map_text(m, k)}" for m in low.maps for k, s in enumerate(m.symbols)][:4]
    parts += [f"{r.symbol}" for r in low.reductions]
    return ", ".join(parts) or "the parameters themselves"


def _map_text(m: Any, k: int) -> str:
    if len(m.symbols) == 1:
        return f"{m.param}.{m.data}"
    return f"row {k} of {m.param}{'^T' if m.transposed else ''} times {m.data}"


def _map_steps(t: Any, param: Any, core: sp.Expr, timeout: float | None) -> list[Step]:
    m = t.map
    x = m.data
    if len(m.symbols) == 1:
        out = [_step("chain rule", Dot(param, x), sp.MatMul(t.coef[0], x),
                     f"dL/d{param} = dF/du * du/d{param} with u = {param}.{x}"),
               _step("inner product rule", Dot(param, x), x, f"d({param}.{x})/d{param} = {x}", 1)]
        return out + _nested(core, m.symbols[0], 1, timeout)[1]
    out = [_step("chain rule", param @ x, _outer(t, x),
                 f"dL/d{param} = sum_k dF/du_k * du_k/d{param} with u = {param} {x}: the outer "
                 f"product r {x}^T, r_k = dF/du_k"),
           _step("matrix-vector rule", param @ x, x.T,
                 f"d({param} {x})_k/d{param} = e_k {x}^T: only row k of {param} meets {x}", 1)]
    for k, u in enumerate(m.symbols[:_MAX_SHOWN]):
        out += _nested(core, u, 1, timeout)[1]
    return out


def _outer(t: Any, x: Any) -> Any:
    """``r x^T`` (``x r^T`` for a transposed map) with ``r`` the column of dF/du_k."""
    r = sp.ImmutableMatrix(t.coef)
    return x * r.T if t.map.transposed else r * x.T


def _verify(loss: Any, param: Any, result: Any) -> tuple[bool, str]:
    """Numeric comparison with sympy.diff of the entrywise loss (small blocks only)."""
    sizes = [int(np.prod(s.shape)) for s in (*loss.params, *loss.data) if is_block(s)]
    if sum(sizes) > 200:
        return True, "from the block derivation (the blocks are too large to expand and compare)"
    flat = explicit(loss.expr)
    atoms = sorted(flat.free_symbols | flat.atoms(sp.matrices.expressions.matexpr.MatrixElement),
                   key=str)
    rng = np.random.default_rng(0)
    point = {a: sp.Rational(int(rng.integers(-900, 900)), 1000) for a in atoms
             if not isinstance(a, sp.MatrixSymbol)}
    got = explicit(result)
    got = sp.Matrix(got) if isinstance(got, (sp.MatrixBase, sp.MatrixExpr)) else sp.Matrix([got])
    if is_block(param):
        m, n = param.shape
        want = sp.Matrix(m, n, lambda i, j: sp.diff(flat, param[i, j]))
    else:
        want = sp.Matrix([sp.diff(flat, param)])
    err = max(abs(complex((g - w).xreplace(point).evalf(30))) for g, w in zip(got, want))
    ok = err < 1e-20
    how = f"numerically equal to sympy.diff of the loss written entry by entry (|diff| = {err:.1e})"
    return ok, how if ok else "NOT equal to sympy.diff of the entrywise loss: " + how

