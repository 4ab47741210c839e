"""Derivatives worked out step by step, the way a calculus course writes them.

:func:`explain` walks an expression from the outside in and applies one named rule per node:
the sum rule, the constant multiple rule, the product rule (for any number of factors), the
quotient rule, the power rule, the exponential rule, logarithmic differentiation for ``f**g``
and the chain rule, which names its inner function ``u`` and its outer function ``F(u)``
("u = x**2, d/dx sin(u) = cos(u) · du/dx"). It ends at the known derivatives of the elementary
functions. Anything it has no rule for (an unknown function ``f(x)``, ``Piecewise``, ``Max``) is
one step taken "by SymPy".

The derivative assembled from the steps is checked against ``sympy.diff``: the
:class:`Derivation` keeps SymPy's own result as ``result``, the step-assembled one as
``assembled``, and says in ``verified`` / ``check`` whether they were shown to be equal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ._timeout import call_with_timeout
from ._expressions import as_expr
from ._validate import as_finite_float, describe, resolve_symbol
from .chain_rule import MAX_NODES, MAX_STEPS, Deriver, Step, latex_text
from .readable import OnDemand, Ordering, to_latex, to_text
from .errors import SymbolError, SymbolicTimeout, SymcalcError
from .results import Result

__all__ = ["Step", "Derivation", "explain", "format_steps"]

@dataclass(repr=False, eq=False)
class Derivation(Result):
    """A derivative with the steps that produce it.

    Attributes
    ----------
    verified : bool
        Whether the step-assembled derivative was shown equal to ``sympy.diff(expr, var)``.
    check : str
        How that was decided, or why it could not be (e.g. the time budget ran out).
    expr : sympy.Expr
        The expression differentiated.
    var : sympy.Symbol
        The variable.
    result : sympy.Expr
        ``sympy.diff(expr, var)``, SymPy's canonical form of the derivative.
    assembled : sympy.Expr
        The derivative as assembled from the steps.
    steps : list of Step
        The steps in reading order (a step comes before its sub-steps).

    ``str(derivation)`` is a numbered plain-text derivation; in Jupyter it renders as LaTeX.
    Both show each derivative in its readable form (``sigmoid`` folded, common factors pulled
    out, terms with ``var`` first), which equals ``result`` / the step's ``result`` exactly.
    """

    verified: bool
    check: str
    expr: sp.Expr
    var: sp.Symbol
    result: sp.Expr
    assembled: sp.Expr
    steps: list[Step] = field(default_factory=list)
    _shown: OnDemand = field(default_factory=OnDemand, repr=False, compare=False)

    def _text(self, e: sp.Expr, readable: bool = True) -> str:
        if _blocky(e):  # vector/matrix expressions (block losses) print as they are
            return str(e)
        return to_text(self._shown(e) if readable else e, Ordering([self.var]))

    def _latex(self, e: sp.Expr, readable: bool = True) -> str:
        if _blocky(e):
            return sp.latex(e)
        return to_latex(self._shown(e) if readable else e, Ordering([self.var]))

    def __str__(self) -> str:
        v, t = self.var, self._text
        lines = [f"d/d{v} [{t(self.expr, False)}] = {t(self.result)}"]
        for number, step in zip(_numbers(self.steps), self.steps):
            pad = "   " * step.depth
            lines.append(f"{pad}{number} {step.rule}: d/d{v} [{t(step.expr, False)}] = "
                         f"{t(step.result)}")
            if step.note:
                lines.append(f"{pad}{' ' * (len(number) + 1)}{step.note}")
        lines.append(("verified: " if self.verified else "NOT verified: ") + self.check)
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        d = rf"\frac{{d}}{{d{sp.latex(self.var)}}}"
        L = self._latex
        rows = [rf"& {d}\left[{L(self.expr, False)}\right] = {L(self.result)}"]
        for number, step in zip(_numbers(self.steps), self.steps):
            pad = r"\quad " * (step.depth + 1)
            rows.append(
                rf"& {pad}\text{{{number}}}\ \text{{{step.rule}}}:\ "
                rf"{d}\left[{L(step.expr, False)}\right] = {L(step.result)}"
            )
            if step.note_latex:
                rows.append(rf"& {pad}\qquad {step.note_latex}")
        verdict = "verified: " if self.verified else "NOT verified: "
        rows.append(rf"& \text{{{latex_text(verdict + self.check)}}}")
        return "$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$"

    def _repr_html_(self) -> None:  # type: ignore[override]
        # Returning None lets Jupyter fall back to the LaTeX rendering (HTML would win).
        return None


def _blocky(e: Any) -> bool:
    """Whether ``e`` holds vector/matrix expressions (the readable form is for scalars)."""
    return isinstance(e, sp.Basic) and (isinstance(e, sp.MatrixExpr) or e.has(sp.MatrixExpr)
                                        or isinstance(e, sp.MatrixBase))


def _numbers(steps: list[Step]) -> list[str]:
    """Hierarchical step numbers ("1.", "1.1.", "1.2.") from the depths."""
    counters: list[int] = []
    out = []
    for step in steps:
        del counters[step.depth + 1 :]
        while len(counters) <= step.depth:
            counters.append(0)
        counters[step.depth] += 1
        out.append(".".join(str(c) for c in counters) + ".")
    return out


def _count_nodes(expr: sp.Basic, cap: int) -> int:
    n = 0
    for _ in sp.preorder_traversal(expr):
        n += 1
        if n > cap:
            break
    return n


def _is_zero(diff: sp.Expr) -> bool:
    """``simplify(diff) == 0`` with a cheaper ``expand`` first (runs in a child process)."""
    if sp.expand(diff) == 0:
        return True
    return sp.simplify(diff) == 0


def explain(
    expr: sp.Expr | str, var: sp.Symbol | str, *, timeout: float | None = 10.0
) -> Derivation:
    """Differentiate ``expr`` with respect to ``var`` step by step, naming each rule.

    Parameters
    ----------
    expr : sympy.Expr or str
        The expression; a string is parsed with :func:`symcalc.parsing.parse` (``^`` is power).
    var : sympy.Symbol or str
        The variable (a string is matched by name against the symbols of ``expr``).
    timeout : float or None, keyword-only
        Seconds for the whole computation, a hard limit (``None``: no limit). The steps run in
        a child process; after half the budget the remaining parts are differentiated by SymPy
        in one step each; when the final check cannot finish in time, ``verified`` is False and
        ``check`` says so. At most 400 steps are shown (SymPy differentiates the rest and
        ``check`` says so). Expressions larger than a few thousand nodes are differentiated by
        SymPy directly, without steps.

    Returns
    -------
    Derivation
        ``result`` (``sympy.diff``), ``assembled`` (from the steps), ``verified``, ``check``
        and the list of :class:`Step`. ``print()`` it for text; Jupyter shows LaTeX.

    Raises
    ------
    SymbolError
        ``var`` is not a symbol (or a symbol's name).
    SymcalcError
        ``expr`` is not an expression; a non-positive ``timeout``.
    SymbolicTimeout
        The derivation (or, for a very large expression, ``sympy.diff``) did not finish within
        ``timeout``; the child process doing it has been stopped.

    Examples
    --------
    >>> import sympy as sp
    >>> from symcalc import explain
    >>> x = sp.Symbol("x")
    >>> d = explain(sp.sin(x**2), x)
    >>> d.result, d.verified
    (2*x*cos(x**2), True)
    >>> d.steps[0].rule, d.steps[0].inner, d.steps[0].outer
    ('chain rule', x**2, sin(u))
    """
    if timeout is not None:
        timeout = as_finite_float(timeout, "timeout")
        if timeout <= 0:
            raise SymcalcError(f"timeout must be > 0 seconds or None; got {timeout:g}")
    start = time.perf_counter()
    deadline = start + (timeout if timeout is not None else float("inf"))
    e = as_expr(expr, "expr")
    if isinstance(var, (list, tuple, set)):
        raise SymbolError(f"var must be a single symbol; got the {type(var).__name__} "
                          f"{describe(var)} (call explain once per variable)")
    x = resolve_symbol(var, e, "var")
    if _count_nodes(e, MAX_NODES) > MAX_NODES:
        return _too_large(e, x, deadline)
    # The steps run in a child process killed at the deadline (a hard limit); they stop
    # opening new steps at half the budget, leaving the rest for SymPy and the final check.
    soft = start + (timeout / 2 if timeout is not None else float("inf"))
    remaining = None if timeout is None else max(deadline - time.perf_counter(), 0.01)
    try:
        derivation = call_with_timeout(_derive, e, x, soft, timeout=remaining, what="explain")
    except SymbolicTimeout as exc:
        why = "" if "did not finish" in str(exc) else f" ({exc})"  # memory: say so
        raise SymbolicTimeout(
            f"explain did not finish within its {timeout:g} s budget{why}; the derivation "
            f"of this {_count_nodes(e, MAX_NODES)}-node expression was stopped: give a larger "
            "timeout, or use sympy.diff for the result alone"
        ) from None
    verified, check = _verify(derivation.assembled, derivation.result, deadline)
    derivation.verified = verified
    derivation.check = check + derivation.check
    return derivation


def _derive(e: sp.Expr, x: sp.Symbol, soft_deadline: float) -> Derivation:
    """The steps, the assembled derivative and ``sympy.diff`` (not yet verified)."""
    taken = {s.name for s in e.free_symbols if isinstance(s, sp.Symbol)} | {x.name}
    deriver = Deriver(x, taken, soft_deadline)
    assembled = deriver.d(e)
    note = (f"; only the first {MAX_STEPS} steps are shown, SymPy differentiated the rest"
            if deriver.capped else "")
    return Derivation(verified=False, check=note, expr=e, var=x, result=sp.diff(e, x),
                      assembled=assembled, steps=deriver.steps)


def _too_large(e: sp.Expr, x: sp.Symbol, deadline: float) -> Derivation:
    remaining = deadline - time.perf_counter()
    if remaining <= 0:
        raise SymbolicTimeout("explain: the time budget was used up before differentiating")
    reference = call_with_timeout(sp.diff, e, x, timeout=None if remaining == float("inf")
                                  else remaining, what="sympy.diff of a very large expression")
    why = (f"the expression has more than {MAX_NODES} nodes, too many to show step by step; "
           "SymPy differentiates it directly")
    step = Step(rule="by SymPy", expr=e, result=reference, note=why,
                note_latex=rf"\text{{{latex_text(why)}}}")
    return Derivation(verified=True, check="no steps to compare: " + why, expr=e, var=x,
                      result=reference, assembled=reference, steps=[step])


def _verify(assembled: sp.Expr, reference: sp.Expr, deadline: float) -> tuple[bool, str]:
    if assembled == reference:
        return True, "the assembled derivative is identical to sympy.diff"
    remaining = deadline - time.perf_counter()
    if remaining <= 0.05:
        return False, "not checked: the time budget was used up before comparing with sympy.diff"
    try:
        zero = call_with_timeout(_is_zero, assembled - reference,
                                 timeout=None if remaining == float("inf") else remaining,
                                 what="simplify(assembled - sympy.diff)")
    except SymbolicTimeout:
        return False, (f"not checked: simplify(assembled - sympy.diff) did not finish within "
                       f"the remaining {remaining:.2g} s")
    if zero:
        return True, "simplify(assembled - sympy.diff) == 0"
    return False, "simplify(assembled - sympy.diff) did not reduce to 0"


def format_steps(derivation: Derivation) -> str:
    """Plain-text rendering of a :class:`Derivation` (for ``symcalc diff --steps``).

    Examples
    --------
    >>> import sympy as sp
    >>> from symcalc.explain import explain, format_steps
    >>> x = sp.Symbol("x")
    >>> print(format_steps(explain(x**5, x)))
    d/dx [x**5] = 5*x**4
    1. power rule: d/dx [x**5] = 5*x**4
       n = 5: d/dx x**n = n*x**(n - 1)
    verified: the assembled derivative is identical to sympy.diff
    """
    if not isinstance(derivation, Derivation):
        raise SymcalcError(f"format_steps needs a Derivation from explain(); got "
                           f"{describe(derivation)}")
    return str(derivation)
