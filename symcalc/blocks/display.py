"""Block gradients and Hessians in matrix-calculus form, with inner expressions named once.

The derivation (:mod:`symcalc.blocks.derive`) yields scalar coefficients (``dF/du``) in the
core's variables. Here they are put back into block form:

* the affine argument of the nonlinearities is named once: ``z = w . x + b`` (a vector
  ``z = W x + b`` when the map has K outputs);
* per-class coefficients that follow one pattern are re-vectorized: the K entries
  ``softmax(z)[k] - y[k]`` become the vector ``softmax(z) - y``, so the gradient of ``W`` is
  the outer product ``(softmax(z) - y) x^T``; otherwise an explicit matrix of entries.

:class:`BlockGradient` and :class:`BlockHessian` are what ``Loss.gradient()`` and
``Loss.hessian()`` return for a loss with blocks. Their entries are exact, self-contained
SymPy (matrix) expressions (the names substituted back); ``str``/LaTeX show the named form.
This module is the display hook: a readable form of the scalar coefficients plugs in at
:meth:`_Namer.tidy`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement, MatrixExpr

from .._layout import is_block
from ..readable import readable_form
from ..functions import SoftmaxEntry, logsumexp
from .derive import CoreDerivation, Term
from .lower import Lowered
from .nodes import ENTRY, BlockSum, Dot, Elementwise, LogSumExp, Softmax

__all__ = ["BlockGradient", "BlockHessian", "LossDisplay", "revectorize"]


# ------------------------------------------------------------------------------ naming
class _Namer:
    """Maps the core's scalars back to block expressions, naming the affine arguments."""

    def __init__(self, lowered: Lowered, exprs: list[sp.Expr], taken: set[str]) -> None:
        self.low = lowered
        self.taken = set(taken)
        self.back: dict[sp.Basic, sp.Basic] = {}     # core scalar -> exact block scalar
        self.families: list[tuple[dict[int, sp.Basic], MatrixExpr]] = []  # k -> atom, vector
        self.definitions: list[tuple[sp.Basic, sp.Basic]] = []  # (name, exact definition)
        self.rename: dict[sp.Basic, sp.Basic] = {}   # core expression -> named atom
        self._families_of_blocks()
        self._name_arguments(exprs)

    def _families_of_blocks(self) -> None:
        low = self.low
        for m in low.maps:
            vec = (m.param.T if m.transposed else m.param) @ m.data if len(m.symbols) > 1 else None
            for k, s in enumerate(m.symbols):
                self.back[s] = Dot(m.param, m.data) if vec is None else MatrixElement(vec, k, 0)
            if vec is not None:
                self.families.append(({k: s for k, s in enumerate(m.symbols)}, vec))
        by_block: dict[Any, dict[int, sp.Basic]] = {}
        for e in low.entries:
            self.back[e.symbol] = MatrixElement(e.block, *e.index)
            if 1 in e.block.shape:
                by_block.setdefault(e.block, {})[e.flat] = e.symbol
        for block, atoms in by_block.items():
            if len(atoms) == block.shape[0] * block.shape[1]:
                self.families.append((atoms, block))
        for r in low.reductions:
            self.back[r.symbol] = r.expr

    def _fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = f"{base}{k}"
        self.taken.add(name)
        return name

    def _name_arguments(self, exprs: list[sp.Expr]) -> None:
        """Name the function arguments that contain exactly one map output (``u + b``)."""
        owner = {s: (m, k) for m in self.low.maps for k, s in enumerate(m.symbols)}
        found: dict[Any, dict[int, sp.Expr]] = {}
        for e in exprs:
            for a in sp.preorder_traversal(self.tidy(e)):
                if not a.is_Add:
                    continue
                # affine in one map output (u + b, u[k] + b[k]): the output is a term itself
                us = [s for s in a.free_symbols if s in owner]
                if len(us) == 1 and us[0] in a.args:
                    m, k = owner[us[0]]
                    found.setdefault(id(m), {}).setdefault(k, a)
        for m in self.low.maps:
            args = found.get(id(m))
            if len(m.symbols) > 1:  # softmax/logsumexp straight of the map's outputs: W x
                vec = (m.param.T if m.transposed else m.param) @ m.data
                self._softmax_family(vec, dict(enumerate(m.symbols)))
            if not args:
                continue
            if len(m.symbols) == 1:
                z = sp.Symbol(self._fresh("z"), real=True)
                self.rename[args[0]] = z
                self.definitions.append((z, self.exact(args[0])))
                continue
            if len(args) != len(m.symbols):
                continue
            exprs_k = [args[k] for k in range(len(m.symbols))]
            vec = revectorize(exprs_k, self.families)
            if vec is None:
                continue
            z = sp.MatrixSymbol(self._fresh("z"), len(exprs_k), 1)
            atoms = {k: sp.Symbol(f"{z.name}[{k}]", real=True) for k in range(len(exprs_k))}
            for k, a in enumerate(exprs_k):
                self.rename[a] = atoms[k]
                self.back[atoms[k]] = MatrixElement(z, k, 0)
            self.families.append((atoms, z))
            self.definitions.append((z, self.exact_vec(vec)))
            self._softmax_family(z, atoms)

    def _softmax_family(self, z: MatrixExpr, atoms: dict[int, sp.Basic]) -> None:
        """``softmax(z)[k]`` and ``logsumexp(z)`` of the entries ``atoms`` of the vector ``z``."""
        zs = tuple(atoms[k] for k in range(len(atoms)))
        label = str(z)
        smax = {k: sp.Symbol(f"softmax({label})[{k}]", real=True) for k in range(len(zs))}
        for k in range(len(zs)):
            self.rename[SoftmaxEntry(k, *zs)] = smax[k]
            self.back[smax[k]] = MatrixElement(Softmax(z), k, 0)
        self.families.append((smax, Softmax(z)))
        lse = sp.Symbol(f"logsumexp({label})", real=True)
        self.rename[logsumexp(*zs)] = lse
        self.back[lse] = LogSumExp(z)

    # ------------------------------------------------------------------ conversions
    def named(self, e: sp.Expr) -> sp.Expr:
        """``e`` with the named arguments (and softmax of them) as atoms, and sums over the
        entries of one vector folded back into ``dot``/``sum`` (``a[k]*relu(u[k])`` summed
        over k is ``dot(a, relu(W x))``)."""
        out = e
        if self.rename:
            out = e.xreplace(self.rename)
            # softmax entries of the named vector: their logits were renamed inside them first
            out = out.xreplace(self.rename) if out != e else out
        return _fold_sums(out, self.families)

    def tidy(self, e: sp.Expr) -> sp.Expr:
        """A scalar coefficient in its readable form (``sigmoid`` folded, factors pulled out;
        exactly equal), under the readable module's time budget: the display hook."""
        return readable_form(e)

    def exact(self, e: sp.Basic) -> sp.Basic:
        """A core (or named) scalar expression with every core scalar replaced by its block
        expression (self-contained, no names)."""
        back = {k: self._unname(v) for k, v in self.back.items()}
        return e.xreplace(back)

    def _unname(self, v: sp.Basic) -> sp.Basic:
        subs = {n: d for n, d in self.definitions if isinstance(n, MatrixExpr)}
        return v.xreplace(subs) if subs else v

    def exact_vec(self, v: MatrixExpr) -> MatrixExpr:
        return v.xreplace({k: self._unname(val) for k, val in self.back.items()})

    def display(self, e: sp.Basic) -> sp.Basic:
        """A named expression with core scalars shown as block expressions."""
        return e.xreplace(self.back)


# ------------------------------------------------------------------------------ re-vectorizing
def revectorize(exprs: list[sp.Expr], families: list[tuple[dict[int, sp.Basic], MatrixExpr]]
                ) -> MatrixExpr | None:
    """The vector ``V`` whose entry ``k`` is ``exprs[k]`` for every k, when all entries follow
    one pattern in the indexed ``families`` (atom of index k -> vector), else None."""
    K = len(exprs)
    fams = [(atoms, vec) for atoms, vec in families if len(atoms) == K]
    if not fams:
        return None
    shifts = [{atoms[0]: atoms[k] for atoms, _ in fams} for k in range(K)]
    first = exprs[0]
    if any(first.xreplace(shifts[k]) != exprs[k] for k in range(1, K)):
        return None
    zero = {atoms[0]: vec for atoms, vec in fams}
    out = _as_vector(first, zero)
    return out if isinstance(out, MatrixExpr) else None


def _as_vector(e: sp.Expr, zero: dict[sp.Basic, MatrixExpr]) -> Any:
    """``e`` (in index-0 atoms) as a vector expression; a scalar when it has none; None
    when it mixes them in a way matrix algebra cannot write (scalar + vector)."""
    if e in zero:
        return zero[e]
    inside = [a for a in zero if e.has(a)]
    if not inside:
        return e
    if len(inside) == 1 and not e.is_Mul:  # a function of one entry: entrywise, f(z)
        lam = sp.Lambda(ENTRY, e.xreplace({inside[0]: ENTRY}))
        return Elementwise(lam, zero[inside[0]])
    parts = [_as_vector(a, zero) for a in e.args]
    if any(p is None for p in parts):
        return None
    vecs = [p for p in parts if isinstance(p, MatrixExpr)]
    scal = [p for p in parts if not isinstance(p, MatrixExpr)]
    if e.is_Add:
        return sp.MatAdd(*vecs) if not scal else None
    if e.is_Mul:
        coef = sp.Mul(*scal)
        v = vecs[0] if len(vecs) == 1 else sp.hadamard_product(*vecs)
        return v if coef == 1 else sp.MatMul(coef, v)
    if e.is_Pow and len(vecs) == 1 and vecs[0] is parts[0]:
        d = ENTRY
        return Elementwise(sp.Lambda(d, d ** parts[1]), vecs[0])
    if isinstance(e, sp.Function) and len(e.args) == 1:
        d = ENTRY
        return Elementwise(sp.Lambda(d, e.func(d)), vecs[0])
    return None


def _fold_sums(e: sp.Expr, families: list[tuple[dict[int, sp.Basic], MatrixExpr]]) -> sp.Expr:
    """Every sum of K terms that are one pattern over the entries of a K-vector, written as
    the block reduction it is: ``dot(p, q)`` for entrywise products, else ``sum(v)``."""
    if not e.args or not families:
        return e
    args = [_fold_sums(a, families) for a in e.args]
    e = e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e
    if not e.is_Add:
        return e
    for atoms, _ in families:
        K = len(atoms)
        if K < 2 or len(e.args) < K:
            continue
        first = [t for t in e.args if t.has(atoms[0])]
        for t0 in first:
            group = [t0.xreplace({a[0]: a[k] for a, _ in families if len(a) == K})
                     for k in range(K)]
            if all(g in e.args for g in group) and len(set(group)) == K:
                vec = revectorize(group, families)
                if vec is None:
                    continue
                rest = [t for t in e.args if t not in group]
                return sp.Add(*rest, _reduction_of(vec))
    return e


def _reduction_of(vec: MatrixExpr) -> sp.Expr:
    if isinstance(vec, sp.HadamardProduct) and len(vec.args) == 2:
        return Dot(*vec.args)
    if isinstance(vec, sp.MatMul) and not isinstance(vec.args[0], MatrixExpr):
        rest = vec.args[1:]
        return vec.args[0] * _reduction_of(rest[0] if len(rest) == 1 else sp.MatMul(*rest))
    return BlockSum(vec)


def _explicit_block(entries: dict[tuple[int, int], sp.Expr], shape: tuple[int, int]) -> sp.Matrix:
    m = sp.zeros(*shape)
    for (i, j), v in entries.items():
        m[i, j] = v
    return sp.ImmutableMatrix(m)


def _column(exprs: list[sp.Expr], namer: _Namer) -> MatrixExpr:
    vec = revectorize(exprs, namer.families)
    if vec is not None:
        return vec
    return sp.ImmutableMatrix([namer.display(e) for e in exprs])


def _shaped(v: MatrixExpr, shape: tuple[int, int]) -> MatrixExpr:
    return v.T if v.shape != shape and v.shape == shape[::-1] else v


def assemble(terms: list[Term], param: Any, namer: _Namer) -> sp.Basic:
    """dL/d``param`` as a (named) vector/matrix expression from its derivation terms."""
    if not is_block(param):
        return namer.display(namer.named(namer.tidy(terms[0].coef)))
    shape = (int(param.shape[0]), int(param.shape[1]))
    parts: list[MatrixExpr] = []
    for t in terms:
        if t.kind == "map":
            coefs = [namer.named(namer.tidy(c)) for c in t.coef]
            x = t.map.data
            if len(coefs) == 1:
                parts.append(_shaped(sp.MatMul(namer.display(coefs[0]), x), shape))
            else:
                r = _column(coefs, namer)
                # (MatMul built directly: ``r * x.T`` would doit() the entries, expanding
                # every (W x)[k] into its sum of products)
                parts.append(sp.MatMul(x, r.T) if t.map.transposed else sp.MatMul(r, x.T))
        elif t.kind == "entries":
            ents = {ij: namer.named(namer.tidy(c)) for ij, c in t.coef.items()}
            if len(ents) == shape[0] * shape[1] and 1 in shape:
                flat = [ents[(i, j)] for i in range(shape[0]) for j in range(shape[1])]
                parts.append(_shaped(_column(flat, namer), shape))
            else:
                parts.append(_explicit_block({k: namer.display(v) for k, v in ents.items()}, shape))
        else:
            parts.append(_const_gradient(namer.display(namer.named(namer.tidy(t.coef))),
                                         t.reduction, param))
    parts = [p for p in parts if not (isinstance(p, sp.MatrixBase) and p.is_zero_matrix)]
    if not parts:
        return sp.ZeroMatrix(*shape)
    return parts[0] if len(parts) == 1 else sp.MatAdd(*parts)


def _const_gradient(c: sp.Expr, r: Any, param: Any) -> MatrixExpr:
    """``c * ds/dparam`` for a row constant ``s``."""
    if r.kind == "dot":
        p, q = r.blocks
        if p == q:
            return sp.MatMul(2 * c, param)
        return sp.MatMul(c, q if param == p else p)
    if r.kind == "sum":
        return sp.MatMul(c, sp.OneMatrix(*param.shape))
    d = r.function.variables[0]
    dfun = sp.Lambda(d, sp.diff(r.function.expr, d))
    return sp.MatMul(c, Elementwise(dfun, param))


# ------------------------------------------------------------------------------ results
class _BlockDisplay:
    """Shared printing of block derivatives: definitions first, then one line per entry."""

    definitions: list[tuple[sp.Basic, sp.Basic]]
    _lines: list[tuple[str, str, sp.Basic]]  # (plain label, LaTeX label, named expression)

    def _defs_named(self) -> list[tuple[sp.Basic, sp.Basic]]:
        return self._named_defs

    def __str__(self) -> str:
        lines = [f"{n} = {d}" for n, d in self._defs_named()]
        lines += [f"{label} = {e}" for label, _, e in self._lines]
        return "\n".join(lines)

    def latex_lines(self) -> list[str]:
        """The lines of :meth:`latex` (``name &= expression``), to join into a larger block."""
        lines = [rf"{sp.latex(n)} &= {sp.latex(d)}" for n, d in self._defs_named()]
        return lines + [rf"{tex} &= {sp.latex(e)}" for _, tex, e in self._lines]

    def latex(self) -> str:
        """All entries as one ``aligned`` block, named inner expressions first."""
        return r"\begin{aligned}" + r" \\ ".join(self.latex_lines()) + r"\end{aligned}"

    def _latex(self, printer: Any = None) -> str:
        return self.latex()

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"


def _taken(loss: Any) -> set[str]:
    return {s.name for s in (*loss.params, *loss.data)} | {
        s.name for s in loss.expr.free_symbols if hasattr(s, "name")
    }


class BlockGradient(_BlockDisplay):
    """The gradient of a loss with blocks: one entry per parameter, in ``params`` order.

    Indexing (``g[0]``, ``g[w]``, ``g["w"]``) and iteration give exact, self-contained SymPy
    expressions (a vector/matrix expression for a block, a scalar for a scalar parameter);
    ``str(g)`` and the notebook display name the inner expression once
    (``z = w . x + b``, then ``d/dw = (sigmoid(z) - t)*x + 0.01*w``).
    """

    def __init__(self, loss: Any) -> None:
        deriv: CoreDerivation = loss.derivation
        self.params = tuple(loss.params)
        namer = _Namer(deriv.lowered, [deriv.lowered.core, *deriv.gradient], _taken(loss))
        self.named = [assemble(deriv.gradient_terms(p), p, namer) for p in self.params]
        subs = {n: d for n, d in namer.definitions}
        self.entries = [_unname(e, subs) for e in self.named]
        self.definitions = [(n, d) for n, d in namer.definitions]
        self._named_defs = [(n, d) for n, d in namer.definitions]
        top = r"\ell" if loss.data else r"\mathcal{L}"
        self._lines = [
            (f"d/d{p.name}", rf"\frac{{\partial {top}}}{{\partial {sp.latex(p)}}}", e)
            for p, e in zip(self.params, self.named)
        ]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Any:
        return iter(self.entries)

    def __getitem__(self, key: Any) -> sp.Basic:
        if isinstance(key, (int, slice)):
            return self.entries[key]
        name = key if isinstance(key, str) else key.name
        for p, e in zip(self.params, self.entries):
            if p.name == name:
                return e
        raise KeyError(f"{name!r} is not a parameter; parameters are {[p.name for p in self.params]}")

    def __repr__(self) -> str:
        return "BlockGradient(\n  " + str(self).replace("\n", "\n  ") + "\n)"


def _entrywise_block(expr: sp.Expr, p: Any, q: Any) -> sp.Basic:
    """``d2 expr / dp dq`` by sympy.diff of the loss written entry by entry (grows with the
    block sizes; used only where no matrix-calculus form is assembled)."""
    from .nodes import explicit

    flat = explicit(expr)

    def entries(s: Any) -> list[sp.Basic]:
        if not is_block(s):
            return [s]
        return [s[i, j] for i in range(s.shape[0]) for j in range(s.shape[1])]

    rows = [[sp.diff(flat, a, c) for c in entries(q)] for a in entries(p)]
    if not is_block(p) and not is_block(q):
        return rows[0][0]
    return sp.ImmutableMatrix(rows)


def _unname(e: sp.Basic, subs: dict[sp.Basic, sp.Basic]) -> sp.Basic:
    return e.xreplace(subs) if subs else e


class BlockHessian(_BlockDisplay):
    """The Hessian of a loss with blocks as blocks: ``H[p, q]`` for each parameter pair.

    ``H[w, w]`` of ``f(w . x + b)`` is ``f''(z) x x^T``; for a K-row map ``W @ x`` the
    ``(W, W)`` block is ``A (x) x x^T`` with ``A[k, l] = d2F/du[k] du[l]`` (a Kronecker
    product over the rows of ``W``, flattened row-major like theta).
    """

    def __init__(self, loss: Any) -> None:
        deriv: CoreDerivation = loss.derivation
        self.params = tuple(loss.params)
        low = deriv.lowered
        h = deriv.hessian()
        namer = _Namer(low, [low.core, *deriv.gradient], _taken(loss))
        self._named_defs = list(namer.definitions)
        self.definitions = list(namer.definitions)
        subs = dict(namer.definitions)
        from .hessian_blocks import hessian_block

        self.blocks: dict[tuple[str, str], sp.Basic] = {}
        named: dict[tuple[str, str], sp.Basic] = {}
        for i, p in enumerate(self.params):
            for q in self.params[i:]:
                try:
                    blk = hessian_block(deriv, h, p, q, namer)
                except NotImplementedError:  # rare cross terms: entry by entry instead
                    blk = _entrywise_block(loss.expr, p, q)
                named[(p.name, q.name)] = blk
                self.blocks[(p.name, q.name)] = _unname(blk, subs)
        top = r"\ell" if loss.data else r"\mathcal{L}"
        self._lines = [
            (f"d2/d{a} d{b}", rf"\frac{{\partial^2 {top}}}{{\partial {a}\, \partial {b}}}", e)
            for (a, b), e in named.items()
        ]

    def __getitem__(self, key: tuple[Any, Any]) -> sp.Basic:
        a, b = (k if isinstance(k, str) else k.name for k in key)
        if (a, b) in self.blocks:
            return self.blocks[(a, b)]
        blk = self.blocks[(b, a)]
        return blk.T if isinstance(blk, (MatrixExpr, sp.MatrixBase)) else blk

    def __repr__(self) -> str:
        return "BlockHessian(\n  " + str(self).replace("\n", "\n  ") + "\n)"


class LossDisplay:
    """A block loss with its gradient (and Hessian) as a textbook shows them: the named inner
    expressions once, the loss written with them, then one line per parameter (what
    ``Loss.display()`` and the notebook show for a loss with blocks)."""

    def __init__(self, loss: Any, gradient: BlockGradient | None,
                 hessian: BlockHessian | None = None) -> None:
        self.loss, self.gradient, self.hessian = loss, gradient, hessian
        defs = gradient.definitions if gradient is not None else []
        self.definitions = list(defs)
        self.expr = loss.expr.xreplace({d: n for n, d in defs}) if defs else loss.expr

    def _head(self) -> tuple[str, str]:
        loss = self.loss
        args = ", ".join(sp.latex(p) for p in loss.params)
        if loss.data:
            total = r"\frac{1}{N}\sum_{i=1}^{N}" if loss.reduce == "mean" else r"\sum_{i=1}^{N}"
            return (f"loss = {self.expr}",
                    rf"\mathcal{{L}}({args}) &= {total} \ell_i, \quad \ell = {sp.latex(self.expr)}")
        return f"loss = {self.expr}", rf"\mathcal{{L}}({args}) &= {sp.latex(self.expr)}"

    def __str__(self) -> str:
        lines = [f"{n} = {d}" for n, d in self.definitions] + [self._head()[0]]
        for part in (self.gradient, self.hessian):
            if part is not None:
                lines += [f"{label} = {e}" for label, _, e in part._lines]
        return "\n".join(lines)

    def latex(self) -> str:
        lines = [rf"{sp.latex(n)} &= {sp.latex(d)}" for n, d in self.definitions]
        lines.append(self._head()[1])
        for part in (self.gradient, self.hessian):
            if part is not None:
                lines += [rf"{tex} &= {sp.latex(e)}" for _, tex, e in part._lines]
        return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def __repr__(self) -> str:
        return str(self)
