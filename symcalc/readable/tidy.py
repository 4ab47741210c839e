"""Common factors pulled out and quotients cancelled, on small stand-in expressions.

Every function application (``sigmoid(z)``, ``tanh(u)``, ``Heaviside(m)``...) is first replaced
by a dummy symbol, so SymPy's polynomial machinery sees a handful of generators however long
the inner expressions are. Two candidates are then compared by operation count:

* ``factor_terms`` of the expression as it is (keeps textbook products such as
  ``sigmoid(z)*(1 - sigmoid(z))`` and ``1 - tanh(u)**2`` intact);
* ``cancel`` (expanded numerator over denominator, common factors cancelled), each part passed
  through ``factor_terms``, and the same with the numerator's terms gathered per function
  (``collect``: ``s*(y_1 + y_2) - y_1``), tried only when the expression has sums inside sums or a sum in a
  denominator, and only below a size cap.

The shorter wins, ties going to the first. A lone number times a sum is kept unevaluated
(``2*(w*x + b - y)``, as ``factor_terms`` returns it) instead of being distributed again.
"""

from __future__ import annotations

import sympy as sp

from ._budget import Budget, count_nodes

__all__ = ["tidy", "cost", "rebuild"]

#: Stand-in expressions with more operations than this are left as they are.
_FACTOR_MAX_OPS = 1500
#: ``cancel`` is only tried on stand-in expressions up to this many operations ...
_CANCEL_MAX_OPS = 120
#: ... and this many generators.
_CANCEL_MAX_GENS = 14


def rebuild(e: sp.Basic, back: dict[sp.Basic, sp.Basic]) -> sp.Basic:
    """``e.xreplace(back)``, keeping ``number*(sum)`` products unevaluated (``2*(w*x - y)``
    stays as it is instead of becoming ``2*w*x - 2*y``)."""
    hit = back.get(e)
    if hit is not None:
        return hit
    if e.is_Atom or not e.args:
        return e
    args = tuple(rebuild(a, back) for a in e.args)
    if args == e.args:
        return e
    if e.is_Mul and len(args) == 2 and args[0].is_Number and args[1].is_Add:
        return sp.Mul(*args, evaluate=False)
    return e.func(*args)


def _atomize(e: sp.Basic, atoms: dict[sp.Basic, sp.Dummy], budget: Budget) -> sp.Basic:
    if e.is_Symbol or e.is_Number or e.is_NumberSymbol:
        return e
    if e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Integer):
        return e.func(*[_atomize(a, atoms, budget) for a in e.args])
    dummy = atoms.get(e)
    if dummy is None:
        stand_in = e
        if isinstance(e, sp.Piecewise):  # each branch is tidied on its own
            stand_in = sp.Piecewise(*[(tidy(x, budget), c) for x, c in e.args])
        dummy = atoms[stand_in] = sp.Dummy("a")
        atoms[e] = dummy
    return dummy


def _nested(e: sp.Basic) -> bool:
    """Sums inside sums, or a sum in a denominator: where cancelling can shorten."""
    for node in sp.preorder_traversal(e):
        if node.is_Pow and node.exp.is_negative and node.base.is_Add:
            return True
        if node.is_Add and any(a.is_Mul and any(f.is_Add or (f.is_Pow and f.base.is_Add)
                                                for f in a.args) for a in node.args):
            return True
        if node.is_Mul and sum(1 for f in node.args if f.is_Add or f.is_Pow) >= 2:
            return True
    return False


def cost(e: sp.Basic) -> int:
    """Operation count, each function application counting as one atom."""
    atoms: dict[sp.Basic, sp.Dummy] = {}
    return int(sp.count_ops(_atomize(e, atoms, _UNLIMITED)))


class _Unlimited(Budget):
    def exhausted(self) -> bool:
        return False


_UNLIMITED = _Unlimited()


def tidy(e: sp.Expr, budget: Budget) -> sp.Expr:
    """Pull common factors out and cancel quotients (see the module docstring).

    >>> import sympy as sp
    >>> s, x, y = sp.symbols("s x y")
    >>> tidy(-x*y*(1 - s) + x*(1 - y)*s, Budget())
    x*(s - y)
    >>> tidy(2*s + 2*x - 2*y, Budget())
    2*(s + x - y)
    """
    budget.check()
    if e.is_Atom:
        return e
    atoms: dict[sp.Basic, sp.Dummy] = {}
    a = _atomize(e, atoms, budget)
    if count_nodes([a], _FACTOR_MAX_OPS) > _FACTOR_MAX_OPS:
        return e  # factoring a sum this long takes seconds and reads no better
    back: dict[sp.Basic, sp.Basic] = {}
    for orig, d in atoms.items():
        back.setdefault(d, orig)  # the tidied stand-in was stored first
    candidates = [sp.factor_terms(a)]
    if a.is_Add and not candidates[0].is_Mul:  # no factor common to all terms: x1*(s - y) + w1/5
        candidates += _partial_factors(a)
    if (len(a.free_symbols) <= _CANCEL_MAX_GENS and sp.count_ops(a) <= _CANCEL_MAX_OPS
            and _nested(a)):
        budget.check()
        num, den = sp.fraction(sp.cancel(a))
        candidates.append(_quotient(sp.factor_terms(num), sp.factor_terms(den)))
        candidates += _tanh_derivative(num, den, back)
        stand_ins = [d for d in back if d in num.free_symbols]
        if stand_ins and num.is_Add:  # gather the terms of each function: s*(y1 + y2) - y1
            gathered = sp.collect(num, stand_ins, func=sp.factor_terms)
            candidates.append(_quotient(sp.factor_terms(gathered), sp.factor_terms(den)))
    best = min(candidates, key=lambda c: sp.count_ops(c))
    return rebuild(best, back)


def _partial_factors(a: sp.Add) -> list[sp.Expr]:
    """The sum with the terms that share a symbol gathered, one candidate per symbol."""
    counts: dict[sp.Symbol, int] = {}
    for term in a.args:
        for s in term.free_symbols:
            counts[s] = counts.get(s, 0) + 1
    shared = sorted((s for s, n in counts.items() if 2 <= n < len(a.args)), key=str)
    out = []
    for s in shared[:6]:
        with_s = [t for t in a.args if s in sp.Mul.make_args(t)]
        if len(with_s) >= 2:
            rest = [t for t in a.args if t not in with_s]
            out.append(sp.Add(sp.factor_terms(sp.Add(*with_s)), *rest))
    return out


def _tanh_derivative(num: sp.Expr, den: sp.Expr, back: dict[sp.Basic, sp.Basic]) -> list[sp.Expr]:
    """Keep ``1 - tanh(u)**2`` whole: write ``tanh(u)**2 = 1 - d`` and gather by ``d``."""
    out = []
    for stand_in, orig in back.items():
        if isinstance(orig, sp.tanh) and num.has(stand_in**2):
            d = sp.Dummy("d")
            poly = sp.expand(num.subs(stand_in**2, 1 - d))
            if not poly.has(stand_in):
                gathered = sp.factor_terms(sp.collect(poly, d, func=sp.factor_terms))
                pattern = sp.Add(1, -stand_in**2, evaluate=False)
                out.append(_quotient(rebuild(gathered, {d: pattern}), sp.factor_terms(den)))
    return out


def _quotient(num: sp.Expr, den: sp.Expr) -> sp.Expr:
    if den == 1:
        return num
    return num / den
