"""Recognise the ML functions in expanded expressions and fold them back.

Structural rules, applied bottom-up once per node (memoised across all the entries of a
gradient, so a shared inner expression is visited once)::

    exp(v)**m / (1 + exp(v))**n    -> sigmoid(v)**m * sigmoid(-v)**(n - m)      (0 <= m <= n)
    1 / (1 + exp(v))               -> sigmoid(-v)
    log(1 + exp(v))                -> softplus(v)
    log(exp(z_1) + ... + exp(z_K)) -> logsumexp(z_1, ..., z_K)
    exp(z_i) / (exp(z_1) + ... + exp(z_K)) -> softmax(z_1, ..., z_K)[i]
    sinh(u) / cosh(u)              -> tanh(u)

and ``sigmoid(-v)`` is written ``1 - sigmoid(v)`` so each logistic family has one argument.
Every rule is an identity, so the folded expression equals the input exactly.

What the structural rules miss (``exp(-v)`` mixed with ``1/(1 + exp(-v))`` in one term, the
expanded sigmoid inside a logarithm) is handled algebraically by :func:`logistic_families`
and :func:`substitute`: ``exp(v) = s/(1 - s)`` with ``s = sigmoid(v)``, after which the
expression is a rational function of ``s`` for :mod:`.tidy` to cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy as sp

from ..functions import SoftmaxEntry, logsumexp, sigmoid, softplus
from ._budget import Budget

__all__ = ["fold", "Folder", "canonical_sigmoid", "logistic_families", "substitute"]


@lru_cache(maxsize=4096)  # the sign test walks the whole sum; partials share their sums
def _orient(v: sp.Expr) -> tuple[sp.Expr, bool]:
    """``(u, flipped)`` with ``v = -u`` when ``flipped``; ``u`` never starts with a minus."""
    if v.could_extract_minus_sign():
        return -v, True
    return v, False


def canonical_sigmoid(v: sp.Expr) -> sp.Expr:
    """``sigmoid(v)``, written ``1 - sigmoid(-v)`` when ``v`` carries a leading minus."""
    u, flipped = _orient(v)
    return 1 - sigmoid(u) if flipped else sigmoid(u)


def _one_plus_exp(e: sp.Expr) -> sp.Expr | None:
    """``v`` when ``e`` is ``1 + exp(v)``."""
    if e.is_Add and len(e.args) == 2 and sp.S.One in e.args:
        other = e.args[1] if e.args[0] is sp.S.One else e.args[0]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _sum_of_exps(e: sp.Expr) -> tuple[sp.Expr, ...] | None:
    """The logits ``(z_1, ..., z_K)`` when ``e`` is ``exp(z_1) + ... + exp(z_K)``, K >= 2."""
    if e.is_Add and len(e.args) >= 2 and all(isinstance(t, sp.exp) for t in e.args):
        return tuple(t.args[0] for t in e.args)
    return None


def _fold_log(e: sp.log) -> sp.Expr:
    arg = e.args[0]
    v = _one_plus_exp(arg)
    if v is not None:
        return softplus(v)
    logits = _sum_of_exps(arg)
    if logits is not None:
        return logsumexp(*logits)
    if arg.is_Pow and arg.exp == -1:
        inner = _fold_log(sp.log(arg.base, evaluate=False))
        if not isinstance(inner, sp.log):
            return -inner
    return e


def _fold_mul(e: sp.Mul) -> sp.Expr:
    factors = list(e.args)
    changed = False
    for i, f in enumerate(factors):
        if not (f.is_Pow and f.exp.is_Integer and f.exp < 0):
            continue
        n = -int(f.exp)
        v = _one_plus_exp(f.base)
        if v is not None:
            m, j = _exp_power(factors, v, n)
            if j is not None:
                factors[j] = sp.S.One
            factors[i] = canonical_sigmoid(v) ** m * canonical_sigmoid(-v) ** (n - m)
            changed = True
            continue
        logits = _sum_of_exps(f.base)
        if logits is not None and n == 1:
            for j, g in enumerate(factors):
                if isinstance(g, sp.exp) and g.args[0] in logits:
                    factors[j] = sp.S.One
                    factors[i] = SoftmaxEntry(logits.index(g.args[0]), *logits)
                    changed = True
                    break
    changed |= _fold_tanh(factors)
    return sp.Mul(*factors) if changed else e


def _exp_power(factors: list[sp.Expr], v: sp.Expr, n: int) -> tuple[int, int | None]:
    """The power ``m <= n`` of ``exp(v)`` among the factors, and its position."""
    for j, g in enumerate(factors):
        if isinstance(g, sp.exp) and g.args[0] == v:
            return 1, j
        if g.is_Pow and isinstance(g.base, sp.exp) and g.base.args[0] == v:
            m = g.exp
            if m.is_Integer and 0 < m <= n:
                return int(m), j
        if isinstance(g, sp.exp):
            for k in range(2, n + 1):
                if g.args[0] == k * v:
                    return k, j
    return 0, None


def _fold_tanh(factors: list[sp.Expr]) -> bool:
    sinhs = {f.args[0]: j for j, f in enumerate(factors) if isinstance(f, sp.sinh)}
    changed = False
    for j, f in enumerate(factors):
        if f.is_Pow and f.exp == -1 and isinstance(f.base, sp.cosh) and f.base.args[0] in sinhs:
            k = sinhs.pop(f.base.args[0])
            factors[k], factors[j] = sp.tanh(f.base.args[0]), sp.S.One
            changed = True
    return changed


def _fold_node(e: sp.Basic, in_mul: bool) -> sp.Basic:
    if isinstance(e, sigmoid):
        return canonical_sigmoid(e.args[0])
    if isinstance(e, sp.log):
        return _fold_log(e)
    if e.is_Mul:
        return _fold_mul(e)
    if not in_mul and e.is_Pow and e.exp.is_Integer and e.exp < 0:
        v = _one_plus_exp(e.base)
        if v is not None:
            return canonical_sigmoid(-v) ** (-int(e.exp))
    return e


class Folder:
    """Bottom-up folding with one memo shared by every expression it is given."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.memo: dict[tuple[sp.Basic, bool], sp.Basic] = {}

    def __call__(self, e: sp.Basic, in_mul: bool = False) -> sp.Basic:
        # A power inside a product is left to the product's rule, which sees the exp(v)
        # factor next to it; the memo is keyed on that context.
        if e.is_Atom or not e.args:
            return e
        key = (e, in_mul and e.is_Pow)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        self.budget.check()
        args = tuple(self(a, e.is_Mul) for a in e.args)
        new = e.func(*args) if args != e.args else e
        out = _fold_node(new, in_mul)
        self.memo[key] = out
        return out


def fold(expr: sp.Expr, budget: Budget | None = None) -> sp.Expr:
    """Fold the ML functions of one expression (see the module docstring).

    >>> import sympy as sp
    >>> z, y = sp.symbols("z y")
    >>> fold(sp.exp(z)/(1 + sp.exp(z)) - y)
    -y + sigmoid(z)
    >>> fold(sp.log(1 + sp.exp(z)))
    softplus(z)
    """
    return Folder(budget or Budget())(expr)


# ---------------------------------------------------------------- algebraic substitution
def logistic_families(e: sp.Basic, memo: dict[sp.Basic, tuple[sp.Expr, ...]] | None = None
                      ) -> list[sp.Expr]:
    """Arguments ``u`` (no leading minus) of every ``1 + exp(+-u)`` left in ``e``.

    ``memo`` (shared between the entries of a gradient) keeps the answer per sub-tree, so a
    long inner expression is walked once, not once per partial.
    """
    memo = {} if memo is None else memo

    def walk(node: sp.Basic) -> tuple[sp.Expr, ...]:
        hit = memo.get(node)
        if hit is None:
            found: dict[sp.Expr, None] = {}
            v = _one_plus_exp(node)
            if v is not None:
                found[_orient(v)[0]] = None
            for a in node.args:
                found.update(dict.fromkeys(walk(a)))
            hit = memo[node] = tuple(found)
        return hit

    return list(walk(e))


def substitute(e: sp.Expr, families: list[sp.Expr]) -> tuple[sp.Expr, dict[sp.Dummy, sp.Expr]]:
    """Write ``exp(+-u)`` as rational functions of a dummy ``s = sigmoid(u)``, per family.

    Returns the substituted expression and the map from each dummy back to its sigmoid.
    """
    back: dict[sp.Dummy, sp.Expr] = {}
    rules: dict[sp.Expr, sp.Expr] = {}
    for u in families:
        s = sp.Dummy("s")
        back[s] = sigmoid(u)
        rules[sp.exp(u)] = s / (1 - s)
        rules[sp.exp(-u)] = (1 - s) / s
    return _replace(e, rules.get), back


def _replace(e: sp.Basic, lookup: Callable[[sp.Basic], sp.Basic | None]) -> sp.Basic:
    hit = lookup(e)
    if hit is not None:
        return hit
    if e.is_Atom or not e.args:
        return e
    args = tuple(_replace(a, lookup) for a in e.args)
    return e.func(*args) if args != e.args else e
