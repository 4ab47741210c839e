"""The rules behind :func:`symcalc.explain`: which rule applies to each sub-expression, written
as :class:`Step` objects with plain-text and LaTeX notes.

:class:`Deriver` walks an expression from the outside in (sum, constant multiple, product,
quotient, power, exponential, logarithmic differentiation, chain rule, the known derivatives
of the elementary and ML functions); :mod:`symcalc.explain` runs it under a time budget and
checks the assembled result against ``sympy.diff``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .functions import SoftmaxEntry, log_sigmoid, logsumexp, sigmoid, softplus
from .readable import Ordering, to_latex, to_text

__all__ = ["Step", "Deriver", "MAX_NODES", "MAX_STEPS", "latex_text"]

#: Beyond this many expression-tree nodes no steps are shown; SymPy differentiates directly.
MAX_NODES = 3000
#: At most this many steps; after that, remaining parts are differentiated by SymPy in one step.
MAX_STEPS = 400
_BUDGET_NOTE = "the step or time budget is used up; SymPy differentiates this part directly"
#: Names offered for the inner function of the chain rule, by nesting level.
_INNER_NAMES = ("u", "v", "w", "s", "t")

# d/du F(u) for the functions a calculus course knows by heart.
_KNOWN: dict[type, Callable[[sp.Expr], sp.Expr]] = {
    sp.sin: lambda u: sp.cos(u),
    sp.cos: lambda u: -sp.sin(u),
    sp.tan: lambda u: 1 + sp.tan(u) ** 2,
    sp.exp: lambda u: sp.exp(u),
    sp.log: lambda u: 1 / u,
    sp.sinh: lambda u: sp.cosh(u),
    sp.cosh: lambda u: sp.sinh(u),
    sp.tanh: lambda u: 1 - sp.tanh(u) ** 2,
    sp.asin: lambda u: 1 / sp.sqrt(1 - u**2),
    sp.acos: lambda u: -1 / sp.sqrt(1 - u**2),
    sp.atan: lambda u: 1 / (1 + u**2),
    sp.erf: lambda u: 2 * sp.exp(-(u**2)) / sp.sqrt(sp.pi),
    sp.Abs: lambda u: sp.sign(u),
    sigmoid: lambda u: sigmoid(u) * (1 - sigmoid(u)),
    softplus: lambda u: sigmoid(u),
    log_sigmoid: lambda u: 1 - sigmoid(u),
}

# Rules a machine-learning course names: (rule, plain text, LaTeX).
_NAMED: dict[type, tuple[str, str, str]] = {
    sigmoid: ("sigmoid rule", "σ'(u) = σ(u)(1 - σ(u))",
              r"\sigma'(u) = \sigma(u)\left(1 - \sigma(u)\right)"),
    softplus: ("softplus rule", "softplus'(u) = σ(u)", r"\operatorname{softplus}'(u) = \sigma(u)"),
    log_sigmoid: ("log-sigmoid rule", "(log σ)'(u) = 1 - σ(u)",
                  r"(\log\sigma)'(u) = 1 - \sigma(u)"),
}


@dataclass(eq=False)
class Step:
    """One rule applied to one sub-expression.

    Attributes
    ----------
    rule : str
        The rule's name, e.g. ``"product rule"``, ``"chain rule"``, ``"derivative of sin"``.
    expr : sympy.Expr
        The expression being differentiated in this step.
    result : sympy.Expr
        Its derivative, assembled from the sub-steps.
    note : str
        How the rule was applied, in plain text
        (e.g. ``"u = x**2, d/dx sin(u) = cos(u) · du/dx"``).
    depth : int
        Nesting level: sub-steps of a step have ``depth + 1``.
    inner, outer : sympy.Expr or None
        For the chain rule: the inner function (what ``u`` stands for) and the outer function
        written in ``u`` (e.g. ``sin(u)``); ``None`` for other rules.
    """

    rule: str
    expr: sp.Expr
    result: sp.Expr | None = None
    note: str = ""
    depth: int = 0
    inner: sp.Expr | None = None
    outer: sp.Expr | None = None
    note_latex: str = field(default="", repr=False)


def latex_text(text: str) -> str:
    for char, repl in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                       ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(char, repl)
    return text


class _D:
    """Marks a derivative operator ``d/dx`` (or ``df/dx``) inside a note."""

    def __init__(self, num: Any = None) -> None:
        self.num = num


class _M:
    """A piece of a note written as math: plain text and its LaTeX (math mode)."""

    def __init__(self, plain: str, latex: str) -> None:
        self.plain, self.latex = plain, latex


_COMMA = _M(", ", r",\ ")
_SEP = _M(": ", r":\quad ")
_N, _A = sp.Symbol("n"), sp.Symbol("a", positive=True)


def _render(parts: tuple[Any, ...], var: sp.Symbol) -> tuple[str, str]:
    """Plain and LaTeX text of a note made of text, derivative markers and expressions."""
    plain, latex = [], []
    for part in parts:
        if isinstance(part, str):
            plain.append(part)
            if part.strip():
                latex.append(rf"\text{{{latex_text(part)}}}")
        elif isinstance(part, _M):
            plain.append(part.plain)
            latex.append(part.latex)
        elif isinstance(part, _D):
            top = "" if part.num is None else str(part.num)
            plain.append(f"d{top}/d{var}")
            top = "" if part.num is None else sp.latex(sp.Symbol(str(part.num)))
            latex.append(rf"\frac{{d{top}}}{{d{sp.latex(var)}}}")
        else:
            plain.append(to_text(part, Ordering([var])))
            latex.append(to_latex(part, Ordering([var])))
    return "".join(plain), " ".join(latex)


class Deriver:
    """Recursive rule application; collects steps in reading order."""

    def __init__(self, var: sp.Symbol, taken: set[str], deadline: float) -> None:
        self.var = var
        self.deadline = deadline
        self.steps: list[Step] = []
        self.capped = False  # steps beyond MAX_STEPS were differentiated without showing them
        self.names = [n for n in _INNER_NAMES if n not in taken]
        k = 1
        while len(self.names) < 12:
            if f"u_{k}" not in taken:
                self.names.append(f"u_{k}")
            k += 1

    # -- bookkeeping -------------------------------------------------------------------------
    def _open(self, rule: str, e: sp.Expr, depth: int, *note: Any) -> Step:
        plain, latex = _render(note, self.var)
        step = Step(rule=rule, expr=e, note=plain, depth=depth, note_latex=latex)
        self.steps.append(step)
        return step

    def _close(self, step: Step, result: sp.Expr) -> sp.Expr:
        step.result = result
        return result

    def _by_sympy(self, e: sp.Expr, depth: int, why: str) -> sp.Expr:
        if len(self.steps) >= MAX_STEPS:  # the cap is hard: no more steps, only the result
            self.capped = True
            return sp.diff(e, self.var)
        step = self._open("by SymPy", e, depth, why)
        return self._close(step, sp.diff(e, self.var))

    # -- dispatch ----------------------------------------------------------------------------
    def _exhausted(self) -> bool:
        # one step is kept for the note that SymPy takes over (the cap includes it)
        return len(self.steps) >= MAX_STEPS - 1 or time.perf_counter() > self.deadline

    def d(self, e: sp.Expr, depth: int = 0, level: int = 0) -> sp.Expr:
        x = self.var
        if self._exhausted():
            return self._by_sympy(e, depth, _BUDGET_NOTE)
        if x not in e.free_symbols:
            step = self._open("constant rule", e, depth, f"does not depend on {x}", _SEP, _D(),
                              _M(" c = 0", "c = 0"))
            return self._close(step, sp.S.Zero)
        if e == x:
            step = self._open("identity rule", e, depth, _D(), " ", x, _M(" = 1", "= 1"))
            return self._close(step, sp.S.One)
        if e.is_Add:
            return self._sum(e, depth, level)
        if e.is_Mul:
            return self._mul(e, depth, level)
        if e.is_Pow:
            return self._pow(e, depth, level)
        if isinstance(e, sp.Function) and not isinstance(e, sp.core.function.AppliedUndef):
            return self._function(e, depth, level)
        if isinstance(e, sp.core.function.AppliedUndef):
            return self._by_sympy(e, depth, f"{e.func} is an unknown function; SymPy writes its "
                                            "derivative symbolically")
        return self._by_sympy(e, depth, f"no textbook rule for {type(e).__name__}")

    # -- rules ---------------------------------------------------------------------------------
    def _sum(self, e: sp.Expr, depth: int, level: int) -> sp.Expr:
        terms = e.args
        step = self._open("sum rule", e, depth, _D(), _M(" (f + g) = ", "(f + g) ="), _D("f"),
                          _M(" + ", "+"), _D("g"), _COMMA, f"term by term ({len(terms)} terms)")
        parts = []
        for i, term in enumerate(terms):
            if self._exhausted():  # one step for all the remaining terms
                parts.append(self._by_sympy(sp.Add(*terms[i:]), depth + 1, _BUDGET_NOTE))
                break
            parts.append(self.d(term, depth + 1, level))
        return self._close(step, sp.Add(*parts))

    def _mul(self, e: sp.Expr, depth: int, level: int) -> sp.Expr:
        x = self.var
        const = [f for f in e.args if not f.has(x)]
        dep = [f for f in e.args if f.has(x)]
        if const:
            c, rest = sp.Mul(*const), sp.Mul(*dep)
            step = self._open("constant multiple rule", e, depth, _M("c = ", "c ="), c, _SEP,
                              _D(), _M(" (c·f) = c · ", r"(c f) = c"), _D("f"))
            return self._close(step, c * self.d(rest, depth + 1, level))
        num, den = [], []
        for f in dep:
            if f.is_Pow and not f.exp.has(x) and f.exp.could_extract_minus_sign():
                den.append(sp.Pow(f.base, -f.exp))
            else:
                num.append(f)
        if num and den:
            return self._quotient(e, sp.Mul(*num), sp.Mul(*den), depth, level)
        return self._product(e, dep, depth, level)

    def _product(self, e: sp.Expr, factors: list[sp.Expr], depth: int, level: int) -> sp.Expr:
        if len(factors) == 2:
            f, g = factors
            step = self._open("product rule", e, depth, _M("f = ", "f ="), f, _COMMA,
                              _M("g = ", "g ="), g, _SEP, _D(), _M(" (f·g) = ", "(f g) ="),
                              _D("f"), _M("·g + f·", r"g + f"), _D("g"))
        else:
            n = len(factors)
            parts: list[Any] = []
            for i, f in enumerate(factors, 1):
                parts += [_M(f"f{i} = ", f"f_{{{i}}} ="), f, _COMMA]
            parts[-1] = _SEP
            if n <= 4:  # spell out the n terms: df1/dx·f2·f3 + f1·df2/dx·f3 + ...
                parts += [_D(), _M(" (" + "·".join(f"f{i}" for i in range(1, n + 1)) + ") = ",
                                   "(" + " ".join(f"f_{{{i}}}" for i in range(1, n + 1)) + ") =")]
                for i in range(1, n + 1):
                    for j in range(1, n + 1):
                        parts.append(_D(f"f{j}") if i == j else _M(f"f{j}", f"f_{{{j}}}"))
                        parts.append(_M("·", "") if j < n else _M(" + ", "+") if i < n else "")
            else:
                parts.append("the sum of the n products with one factor differentiated")
            step = self._open("product rule", e, depth, *parts)
        derivs = [self.d(f, depth + 1, level) for f in factors]
        terms = [
            sp.Mul(*[derivs[i] if j == i else f for j, f in enumerate(factors)])
            for i in range(len(factors))
        ]
        return self._close(step, sp.Add(*terms))

    def _quotient(self, e: sp.Expr, f: sp.Expr, g: sp.Expr, depth: int, level: int) -> sp.Expr:
        step = self._open("quotient rule", e, depth, _M("f = ", "f ="), f, _COMMA,
                          _M("g = ", "g ="), g, _SEP, _D(),
                          _M(" (f/g) = (", r"\frac{f}{g} = \Big("), _D("f"),
                          _M("·g - f·", "g - f"), _D("g"), _M(") / g**2", r"\Big) / g^{2}"))
        df = self.d(f, depth + 1, level)
        dg = self.d(g, depth + 1, level)
        return self._close(step, (df * g - f * dg) / g**2)

    def _pow(self, e: sp.Expr, depth: int, level: int) -> sp.Expr:
        x = self.var
        base, n = e.base, e.exp
        if not n.has(x):  # power rule, possibly with a chain
            if base == x:
                step = self._open("power rule", e, depth, _M("n = ", "n ="), n, _SEP, _D(), " ",
                                  x**_N, _M(" = ", "="), _N * x ** (_N - 1))
                return self._close(step, n * x ** (n - 1))
            return self._chain(e, base, lambda u: u**n, depth, level, "power rule")
        if not base.has(x):  # exponential rule a**g
            if n == x:
                step = self._open("exponential rule", e, depth, _M("a = ", "a ="), base, _SEP,
                                  _D(), " ", _A**x, _M(" = ", "="), _A**x * sp.log(_A))
                return self._close(step, e * sp.log(base))
            return self._chain(e, n, lambda u: base**u, depth, level, "exponential rule")
        step = self._open("logarithmic differentiation", e, depth, _M("f = ", "f ="), base,
                          _COMMA, _M("g = ", "g ="), n, _SEP,
                          _M("f**g = exp(g·log(f)), so ", r"f^{g} = e^{g \log f},\ \text{so}\ "),
                          _D(), _M(" f**g = f**g·(", r"f^{g} = f^{g} \Big("), _D("g"),
                          _M("·log(f) + g·", r"\log f + g"), _D("f"), _M("/f)", r"\Big/ f \Big)"))
        dn = self.d(n, depth + 1, level)
        db = self.d(base, depth + 1, level)
        return self._close(step, e * (dn * sp.log(base) + n * db / base))

    def _function(self, e: sp.Expr, depth: int, level: int) -> sp.Expr:
        name = e.func.__name__
        if isinstance(e, logsumexp):
            return self._logsumexp(e, depth, level)
        if isinstance(e, SoftmaxEntry):
            return self._softmax(e, depth, level)
        if len(e.args) != 1:
            return self._by_sympy(e, depth, f"{name} has {len(e.args)} arguments; no "
                                            "single-variable rule applies")
        arg = e.args[0]
        if e.func is sp.Abs and not arg.is_extended_real:
            return self._by_sympy(e, depth, "Abs of a possibly complex argument; declare the "
                                            "symbols real (sp.Symbol('x', real=True)) to get "
                                            "d|u|/du = sign(u)")
        rule = _KNOWN.get(e.func)
        if rule is None:
            u = sp.Dummy("u")
            known = sp.diff(e.func(u), u)
            if known.has(sp.Derivative, sp.Subs):
                return self._by_sympy(e, depth, f"no closed-form derivative of {name} is known")
            rule = lambda v: known.xreplace({u: v})  # noqa: E731
        named = _NAMED.get(e.func)
        if arg == self.var:
            result = rule(arg)
            extra: tuple[Any, ...] = () if named is None else ("   (", _M(*named[1:]), ")")
            step = self._open(named[0] if named else f"derivative of {name}", e, depth, _D(),
                              " ", e, _M(" = ", "="), result, *extra)
            return self._close(step, result)
        outer_name = f"{named[0]} {named[1]}" if named else f"derivative of {name}"
        return self._chain(e, arg, lambda v: e.func(v), depth, level, outer_name,
                           outer_rule=rule)

    def _logsumexp(self, e: sp.Expr, depth: int, level: int) -> sp.Expr:
        """d/dx logsumexp(z_1, ..., z_K) = sum_k softmax(z)_k dz_k/dx."""
        zs = e.args
        weights = [SoftmaxEntry(k, *zs) for k in range(len(zs))]
        step = self._open("log-sum-exp rule", e, depth, _D(), " logsumexp(z) = ",
                          _M("sum_k softmax(z)_k · ", r"\sum_k \operatorname{softmax}(z)_k"),
                          _D("z_k"))
        parts = [wk * self.d(z, depth + 1, level) for wk, z in zip(weights, zs) if z.has(self.var)]
        return self._close(step, sp.Add(*parts))

    def _softmax(self, e: SoftmaxEntry, depth: int, level: int) -> sp.Expr:
        """d/dx softmax(z)_i = softmax(z)_i * sum_k (delta_ik - softmax(z)_k) dz_k/dx."""
        zs, i = e.logits, e.index
        step = self._open("softmax rule", e, depth, _D(), " softmax(z)_i = ",
                          _M("softmax(z)_i · sum_k (δ_ik - softmax(z)_k) · ",
                             r"\operatorname{softmax}(z)_i \sum_k (\delta_{ik} - "
                             r"\operatorname{softmax}(z)_k)"), _D("z_k"))
        parts = [(int(k == i) - SoftmaxEntry(k, *zs)) * self.d(z, depth + 1, level)
                 for k, z in enumerate(zs) if z.has(self.var)]
        return self._close(step, e * sp.Add(*parts))

    def _chain(self, e: sp.Expr, inner: sp.Expr, outer_of: Callable[[sp.Expr], sp.Expr],
               depth: int, level: int, outer_name: str,
               outer_rule: Callable[[sp.Expr], sp.Expr] | None = None) -> sp.Expr:
        """Chain rule: ``e = F(inner)``; names ``u = inner`` and shows ``d/dx F(u)``."""
        u = sp.Symbol(self.names[min(level, len(self.names) - 1)])
        outer = outer_of(u)
        d_outer = outer_rule(u) if outer_rule is not None else sp.diff(outer, u)
        step = self._open("chain rule", e, depth, _M(f"{u} = ", f"{sp.latex(u)} ="), inner,
                          _COMMA, _D(), " ", outer, _M(" = ", "="), d_outer,
                          _M(" · ", r"\cdot"), _D(u),
                          f"   (outer function {outer}: {outer_name})")
        step.inner, step.outer = inner, outer
        d_inner = self.d(inner, depth + 1, level + 1)
        return self._close(step, d_outer.xreplace({u: inner}) * d_inner)
