"""Numerically stable rewrites of SymPy expressions before code generation.

The readable symbolic forms users write and SymPy derives (``log(1 + exp(u))``,
``exp(u)/(1 + exp(u))``) overflow in floating point for large ``|u|``. :func:`stabilize`
rewrites them into equivalent functions that NumPy/SciPy evaluate stably
(``logaddexp``, ``expit``, ``log1p``, ``expm1``) and reports which rules fired. The symbolic
results users see (``Loss.gradient()``) are never rewritten; only the compiled code is.

The stable targets are the ML functions of :mod:`symcalc.functions` (``sigmoid``,
``softplus``, ``logsumexp``, softmax entries): ordinary SymPy functions with exact derivatives
and an exact ``rewrite(exp)``, so they evaluate at any precision. Written directly by the user,
they are recognised as they are (``log_sigmoid(u) -> -softplus(-u)``,
``log(softmax(z)[i]) -> z_i - logsumexp(z)``, ``relu(u) -> max(u, 0)``).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from ..functions import SoftmaxEntry, log_sigmoid, logsumexp, relu, sigmoid, softplus

__all__ = ["Expit", "LogAddExp0", "stabilize", "RULES"]


# The stable forms are the ML functions themselves: the printers evaluate ``sigmoid`` as
# ``scipy.special.expit`` and ``softplus`` as ``numpy.logaddexp(0, u)``. The old private names
# stay as aliases for the emitters.
Expit = sigmoid
LogAddExp0 = softplus


#: Every rewrite rule, keyed by a short id, with the sentence reported in ``CompiledLoss.rewrites``.
RULES: dict[str, str] = {
    "softplus": "log(1 + exp(u)) -> logaddexp(0, u)",
    "log_sigmoid": "log(sigmoid(u)) -> -logaddexp(0, -u)",
    "sigmoid": "exp(m*u)/(1 + exp(u))**k -> sigmoid(u)**m * sigmoid(-u)**(k-m)",
    "one_minus_sigmoid": "1 - sigmoid(u) -> sigmoid(-u)",
    "log1p": "log(1 + u) -> log1p(u)",
    "expm1": "exp(u) - 1 -> expm1(u)",
    "log_exp": "log(exp(u)) -> u",
    "cancel": "(g*a + g*b)/g -> a + b (no 0/0 where g underflows)",
    "log_sigmoid_fn": "log_sigmoid(u) -> -logaddexp(0, -u)",
    "relu": "relu(u) -> max(u, 0)",
    "softmax": "softmax(z)[i] -> exp(z_i - logsumexp(z))",
    "log_softmax": "log(softmax(z)[i]) -> z_i - logsumexp(z)",
}


def _one_plus_exp(e: sp.Expr) -> sp.Expr | None:
    """``u`` when ``e`` is ``1 + exp(u)``, else None."""
    if e.is_Add and len(e.args) == 2 and sp.S.One in e.args:
        other = e.args[0] if e.args[1] is sp.S.One else e.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _has_factor(term: sp.Expr, g: sp.Expr) -> bool:
    for f in sp.Mul.make_args(term):
        if f == g or (f.is_Pow and f.base == g and f.exp.is_positive):
            return True
    return False


def _cancel_quotient(e: sp.Expr) -> sp.Expr | None:
    """``(g*a + g*b)/g -> a + b`` for a function ``g`` (e.g. a softmax entry), else None.

    The derivative of ``log(g)`` is ``g'/g``; when ``g'`` is a sum whose every term carries
    ``g`` (softmax, sigmoid), the quotient evaluates as 0/0 where ``g`` underflows. Cancelled,
    it stays finite (the softmax cross-entropy gradient becomes ``softmax - y``).
    """
    factors = e.args
    for den in factors:
        if not (den.is_Pow and den.exp.is_Integer and den.exp < 0
                and isinstance(den.base, sp.Function)):
            continue
        g = den.base
        for num in factors:
            if num.is_Add and all(_has_factor(t, g) for t in num.args):
                rest = [f for f in factors if f is not den and f is not num]
                return sp.Mul(*rest, g ** (den.exp + 1), sp.Add(*[t / g for t in num.args]))
    return None


class _IdMemo(dict):
    """Rewritten node per node OBJECT (by ``id``). Keyed by equality, an unchanged node that is
    equal to, but not the same object as, one seen earlier would map to that other object and
    look changed, forcing costly rebuilds of all its ancestors. Keeps the keys alive."""

    def __init__(self) -> None:
        super().__init__()
        self._alive: list[sp.Basic] = []

    def __contains__(self, node: object) -> bool:
        return super().__contains__(id(node))

    def __getitem__(self, node: sp.Basic) -> sp.Basic:
        return super().__getitem__(id(node))

    def __setitem__(self, node: sp.Basic, value: sp.Basic) -> None:
        self._alive.append(node)
        super().__setitem__(id(node), value)


class _Rewriter:
    def __init__(self) -> None:
        self.memo: _IdMemo = _IdMemo()
        self.fired: set[str] = set()

    def __call__(self, e: sp.Basic) -> sp.Basic:
        # Iterative post-order so that very deep expressions cannot overflow the stack.
        stack: list[tuple[sp.Basic, bool]] = [(e, False)]
        memo = self.memo
        while stack:
            node, ready = stack.pop()
            if node in memo:
                continue
            if not node.args or node.is_Atom:
                memo[node] = node
                continue
            kids = self._children(node)
            if not ready:
                stack.append((node, True))
                stack.extend((k, False) for k in kids if k not in memo)
                continue
            memo[node] = self._rebuild(node)
        return memo[e]

    def _children(self, node: sp.Basic) -> tuple[sp.Basic, ...]:
        if node.is_Mul:
            kids: list[sp.Basic] = []
            for f in node.args:
                u = _one_plus_exp(f.base) if f.is_Pow else None
                if u is not None and f.exp.is_Integer and f.exp < 0:
                    kids.append(u)  # the special factor is rebuilt from its rewritten u
                else:
                    kids.append(f)
            return tuple(kids)
        return node.args

    def _rebuild(self, node: sp.Basic) -> sp.Basic:
        rw = self.memo
        if node.is_Mul:
            cancelled = _cancel_quotient(node)
            if cancelled is not None:  # rewrite the cancelled form instead
                self.fired.add("cancel")
                return self(cancelled)
            return self._mul(node)
        args = [rw[a] for a in node.args]
        if isinstance(node, sp.log):
            return self._log(args[0], node)
        if node.is_Pow:
            u = _one_plus_exp(node.base)
            if u is not None and node.exp.is_Integer and node.exp < 0:
                self.fired.add("sigmoid")
                return Expit(-rw[u]) ** (-node.exp)
        if node.is_Add:
            changed = any(a is not o for a, o in zip(args, node.args))
            return self._add(sp.Add(*args) if changed else node)
        special = self._function(node, args)
        if special is not None:
            return special
        if all(a is o for a, o in zip(args, node.args)):
            return node  # nothing below changed: no rebuild (SymPy rebuilds are costly)
        return node.func(*args)

    def _function(self, node: sp.Basic, args: list[sp.Basic]) -> sp.Expr | None:
        """The ML functions written by the user, mapped to what the emitters print stably."""
        if isinstance(node, log_sigmoid):
            self.fired.add("log_sigmoid_fn")
            return -softplus(-args[0])
        if isinstance(node, relu):
            self.fired.add("relu")
            return sp.Max(args[0], 0)
        if isinstance(node, SoftmaxEntry):
            self.fired.add("softmax")
            zs = args[1:]
            return sp.exp(zs[int(args[0])] - logsumexp(*zs))
        return None

    def _add(self, e: sp.Expr) -> sp.Expr:
        if not e.is_Add or len(e.args) != 2:
            return e
        a, b = e.args
        if a is sp.S.One and b.is_Mul and len(b.args) == 2 and b.args[0] is sp.S.NegativeOne:
            if isinstance(b.args[1], Expit):
                self.fired.add("one_minus_sigmoid")
                return Expit(-b.args[1].args[0])
        if a is sp.S.NegativeOne and isinstance(b, sp.exp):
            self.fired.add("expm1")
            return expm1(b.args[0])
        return e

    def _log(self, arg: sp.Expr, node: sp.Expr) -> sp.Expr:
        original = node.args[0]
        if isinstance(original, SoftmaxEntry):  # (the rewritten arg is exp(z_i - lse))
            self.fired.add("log_softmax")
            zs = [self.memo[z] for z in original.logits]
            return zs[original.index] - logsumexp(*zs)
        if isinstance(arg, sp.exp):
            self.fired.add("log_exp")
            return arg.args[0]
        base, power = (arg.base, arg.exp) if arg.is_Pow and arg.exp.is_Integer else (arg, 1)
        if isinstance(base, Expit):
            self.fired.add("log_sigmoid")
            return -power * LogAddExp0(-base.args[0])
        u = _one_plus_exp(base)
        if u is not None:
            self.fired.add("softplus")
            return power * LogAddExp0(u)
        if arg.is_Add and sp.S.One in arg.args:
            self.fired.add("log1p")
            return log1p(arg - 1)
        return node if arg is node.args[0] else sp.log(arg)

    def _mul(self, node: sp.Expr) -> sp.Expr:
        rw = self.memo
        plain: list[sp.Expr] = []
        specials: list[tuple[sp.Expr, int]] = []  # (u, k) for (1 + exp(u))**-k
        for f in node.args:
            u = _one_plus_exp(f.base) if f.is_Pow else None
            if u is not None and f.exp.is_Integer and f.exp < 0:
                specials.append((rw[u], int(-f.exp)))
            else:
                plain.append(rw[f])
        if not specials:
            if all(a is o for a, o in zip(plain, node.args)):
                return node
            return sp.Mul(*plain)
        self.fired.add("sigmoid")
        out: list[sp.Expr] = []
        for u, k in specials:
            m = 0
            for i, f in enumerate(plain):
                if isinstance(f, sp.exp):
                    ratio = f.args[0] / u
                    if ratio.is_Integer and 0 < ratio <= k:
                        m = int(ratio)
                        plain.pop(i)
                        break
            out.append(Expit(u) ** m * Expit(-u) ** (k - m))
        return sp.Mul(*plain, *out)


def stabilize(exprs: list[sp.Expr]) -> tuple[list[sp.Expr], list[str]]:
    """Rewrite expressions into numerically stable equivalents.

    Parameters
    ----------
    exprs : list of sympy.Expr

    Returns
    -------
    rewritten : list of sympy.Expr
        Mathematically equal expressions.
    fired : list of str
        Descriptions (from :data:`RULES`) of the rules that changed something, sorted.

    Examples
    --------
    >>> import sympy as sp
    >>> u = sp.Symbol("u")
    >>> stabilize([sp.log(1 + sp.exp(u))])
    ([softplus(u)], ['log(1 + exp(u)) -> logaddexp(0, u)'])
    """
    rewriter = _Rewriter()
    out = [rewriter(sp.sympify(e)) for e in exprs]
    return out, sorted(RULES[k] for k in rewriter.fired)
