"""Name the inner expressions a gradient shares: ``z = w1*x1 + w2*x2 + b``, shown once.

An inner expression is a sum with a parameter among its terms (``w*x + b``) that sits inside a
function (``sigmoid(z)``, ``exp(z)``, ``tanh(z)``, a softmax logit, ``Max(0, 1 - y*z)``...). The chain rule
repeats it in every partial; naming it is how a textbook keeps ``x_j (sigma(z) - y)`` short.
Sums that are factors of a partial (the residual ``w*x + b - y`` of least squares) stay
inline. Names are display-only: the returned expressions keep the original symbols.

Long definitions are compressed: ``w1*x1 + ... + w30*x30 + b`` is shown as
``Sum(w_j*x_j, (j, 1, 30)) + b``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy as sp

from ..functions import SoftmaxEntry
from .tidy import rebuild

__all__ = ["find_inner", "find_outputs", "Names", "split_index", "compress_sums"]

_STEMS = ("z", "u", "v", "h", "t", "q")
_INDEXED = re.compile(r"^(.*?)(_?)(\d+(?:_\d+)*)$")


def split_index(name: str) -> tuple[str, str, tuple[int, ...]] | None:
    """``("w", "_", (1, 2))`` for ``"w_1_2"``, ``("x", "", (3,))`` for ``"x3"``; else None."""
    m = _INDEXED.match(name)
    if not m or not m.group(1):
        return None
    return m.group(1), m.group(2), tuple(int(i) for i in m.group(3).split("_"))


def _direct(term: sp.Expr, params: set[sp.Symbol]) -> bool:
    """A parameter as a factor of the term itself (``w*x``, ``b``), not inside a function."""
    return any(f in params or (f.is_Pow and f.base in params) for f in sp.Mul.make_args(term))


def _inner_sums(arg: sp.Basic, params: set[sp.Symbol]) -> list[sp.Expr]:
    """The sums to name in a function's argument: the argument itself when a parameter is a
    direct term of it (``w*x + b``), else the sums inside it (``1 - y*(w*x + b)``)."""
    if not isinstance(arg, sp.Expr) or arg.is_Atom or isinstance(arg, sp.Function):
        return []
    if arg.is_Add and any(_direct(t, params) for t in arg.args):
        return [arg]
    return [s for a in arg.args for s in _inner_sums(a, params)]


def find_inner(exprs: Sequence[sp.Basic], params: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """Inner sums in order of appearance, innermost first, each up to sign once."""
    ps = set(params)
    found: dict[sp.Expr, None] = {}
    seen: set[sp.Basic] = set()

    def visit(e: sp.Basic) -> None:
        if e in seen or e.is_Atom:
            return
        seen.add(e)
        for a in e.args:
            visit(a)
        if isinstance(e, (sp.Function, sp.Piecewise)):
            args = e.args[1:] if isinstance(e, SoftmaxEntry) else e.args
            for arg in args:
                for a in _inner_sums(arg, ps):
                    if a not in found and -a not in found:
                        found[-a if a.could_extract_minus_sign() else a] = None

    for e in exprs:
        visit(e)
    return list(found)


class Names:
    """Display names for inner expressions, and the replacement that applies them."""

    def __init__(self, inner: Sequence[sp.Expr], taken: set[str],
                 outputs: Sequence[sp.Expr] = ()) -> None:
        stem = next((s for s in _STEMS if not any(
            t == s or (split_index(t) or ("",))[0] == s for t in taken)), "z")
        own = [_own_index(e) for e in inner]
        if len(inner) == 1:
            names = [sp.Symbol(stem)]
        elif None not in own and len(set(own)) == len(own):  # w3*x + b3 is z_3
            order = sorted(range(len(inner)), key=lambda k: own[k])  # type: ignore[arg-type]
            inner = [inner[k] for k in order]
            names = [sp.Symbol(f"{stem}_{own[k]}") for k in order]
        else:
            names = [sp.Symbol(f"{stem}_{i}") for i in range(1, len(inner) + 1)]
        out_name = "yhat" if "yhat" not in taken else "f"
        for k, expr in enumerate(outputs):  # the output of a network, shown as yhat
            names.append(sp.Symbol(out_name if len(outputs) == 1 else f"{out_name}_{k + 1}"))
        inner = [*inner, *outputs]
        self._outputs = [(frozenset(o.args), n) for o, n in zip(outputs, names[-len(outputs):])
                         ] if outputs else []
        self.stem = stem
        self.symbols = names
        self.definitions: dict[sp.Symbol, sp.Expr] = {}
        self._map: dict[sp.Expr, sp.Expr] = {}
        for name, expr in zip(names, inner):
            self.definitions[name] = rebuild(expr, self._map)  # inner names inside outer ones
            self._map[expr] = name
            self._map[-expr] = -name

    def __call__(self, e: sp.Basic) -> sp.Basic:
        for terms, name in self._outputs:
            e = _replace_sums(e, terms, name)
        out = rebuild(e, self._map)
        return self._softmax(out) if out.has(SoftmaxEntry) else out

    def _softmax(self, e: sp.Basic) -> sp.Basic:
        """``softmax(z_1, ..., z_K)[i]`` as ``softmax(z)_{i+1}`` when the logits are all names."""
        if tuple(self.symbols) == () or len(self.symbols) < 2:
            return e
        rules = {}
        for entry in e.atoms(SoftmaxEntry):
            if tuple(entry.logits) == tuple(self.symbols):
                rules[entry] = _shown(f"softmax({self.stem})_{entry.index + 1}")
        return rebuild(e, rules)


def _replace_sums(e: sp.Basic, terms: frozenset, name: sp.Symbol) -> sp.Basic:
    """Every sum containing all of ``terms`` written as ``name`` plus its other terms."""
    if e.is_Add and terms <= set(e.args):
        return sp.Add(name, *[t for t in e.args if t not in terms])
    if e.is_Atom or not e.args:
        return e
    args = tuple(_replace_sums(a, terms, name) for a in e.args)
    if args == e.args:
        return e
    if e.is_Mul and len(args) == 2 and args[0].is_Number and args[1].is_Add:
        return sp.Mul(*args, evaluate=False)
    return e.func(*args)


def _own_index(e: sp.Expr) -> int | None:
    """The one index shared by every indexed symbol of ``e`` (3 for ``w3*x + b3``)."""
    found = {parts[2] for s in e.free_symbols if (parts := split_index(s.name)) is not None}
    if len(found) == 1:
        (idx,) = found
        return idx[0] if len(idx) == 1 else None
    return None


def find_outputs(exprs: Sequence[sp.Expr], params: Sequence[sp.Symbol],
                 min_terms: int = 5) -> list[sp.Expr]:
    """The model output inside a long residual shared by several partials: in
    ``v0*tanh(z_0) + ... + c - y`` the part with parameters, ``v0*tanh(z_0) + ... + c``."""
    ps = set(params)
    counts: dict[sp.Expr, int] = {}
    for e in exprs:
        for f in set(sp.Mul.make_args(e)):
            base = f.base if f.is_Pow else f
            if base.is_Add and len(base.args) >= min_terms:
                counts[base] = counts.get(base, 0) + 1
    out = []
    for add, n in counts.items():
        model = [t for t in add.args if t.free_symbols & ps]
        if n >= 2 and len(model) < len(add.args) and len(model) >= min_terms - 1:
            out.append(sp.Add(*model))
    return out[:1]


def _shown(name: str) -> sp.Symbol:
    from .printing import ShownSymbol

    return ShownSymbol(name)


def compress_sums(e: sp.Expr, letter: str = "j", min_terms: int = 4) -> sp.Expr:
    """Runs of terms that differ only in one index, as ``Sum(w_j*x_j, (j, lo, hi))``."""
    if not e.is_Add:
        return e
    j = sp.Symbol(letter, integer=True)
    groups: dict[sp.Expr, list[tuple[int, sp.Expr]]] = {}
    rest: list[sp.Expr] = []
    for term in e.args:
        key = _one_index_template(term, j)
        if key is None:
            rest.append(term)
        else:
            groups.setdefault(key[0], []).append((key[1], term))
    out = list(rest)
    for template, members in groups.items():
        idx = sorted(i for i, _ in members)
        if len(members) >= min_terms and idx == list(range(idx[0], idx[0] + len(idx))):
            out.append(sp.Sum(template, (j, idx[0], idx[-1])))
        else:
            out.extend(t for _, t in members)
    return sp.Add(*out, evaluate=False) if len(out) > 1 else out[0]


def _one_index_template(term: sp.Expr, j: sp.Symbol) -> tuple[sp.Expr, int] | None:
    values = set()
    rules = {}
    for s in term.free_symbols:
        parts = split_index(s.name)
        if parts is None or len(parts[2]) != 1:
            return None
        values.add(parts[2][0])
        rules[s] = sp.Indexed(sp.IndexedBase(parts[0]), j)
    if len(values) != 1:
        return None
    return term.xreplace(rules), values.pop()
