"""Optional SymEngine acceleration of derivation and common-subexpression elimination.

SymEngine (a C++ symbolic core, extra ``symcalc[fast]``) differentiates and runs CSE on big
losses one to two orders of magnitude faster than SymPy. It is used only as an accelerator:
expressions go in as SymPy and come back as SymPy, and anything SymEngine cannot do exactly
(an unknown function it can only leave as an unevaluated ``Derivative``, a failed conversion)
falls back to SymPy for that output. Functions SymEngine does not know (``Expit``,
``LogAddExp0``, ``log1p``, ``Heaviside``...) travel through it as wrapped SymPy functions whose
derivatives SymPy supplies.

Set the environment variable ``SYMCALC_NO_SYMENGINE=1`` (or :data:`ENABLED` to ``False``) to
use plain SymPy everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import sympy as sp
from sympy.core.add import _addsort
from sympy.core.mul import _mulsort

__all__ = ["ENABLED", "available", "derivatives", "diff_many", "cse"]

#: Module switch (tests flip it); the environment variable disables SymEngine at import.
ENABLED: bool = os.environ.get("SYMCALC_NO_SYMENGINE", "") in ("", "0")

_se: Any = None
_checked = False


def available() -> bool:
    """Whether SymEngine is importable and enabled."""
    global _se, _checked
    if not ENABLED:
        return False
    if not _checked:
        _checked = True
        try:
            import symengine

            _se = symengine
        except ImportError:  # pragma: no cover - depends on the environment
            _se = None
    return _se is not None


def _safe_types() -> tuple[type, ...]:
    from sympy.codegen.cfunctions import expm1, log1p

    from .stable import Expit, LogAddExp0

    return (
        sp.Symbol, sp.Add, sp.Mul, sp.Pow, sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.asin,
        sp.acos, sp.atan, sp.sinh, sp.cosh, sp.tanh, sp.asinh, sp.acosh, sp.atanh, sp.Abs,
        sp.sign, sp.Max, sp.Min, sp.erf, sp.erfc, sp.Heaviside, sp.Piecewise, sp.StrictGreaterThan,
        sp.StrictLessThan, sp.GreaterThan, sp.LessThan, Expit, LogAddExp0, log1p, expm1,
    )


#: Functions SymEngine converts but cannot differentiate (it returns an unevaluated
#: ``Derivative``): derivatives of expressions containing them go straight to SymPy.
_NO_DIFF = (sp.Max, sp.Min, sp.Abs, sp.sign)


def _convertible(exprs: Sequence[sp.Basic], exclude: tuple[type, ...] = ()) -> bool:
    """Whether every node is of a kind SymEngine converts faithfully (others, e.g.
    ``Derivative`` or ``re``, fall back to SymPy; some of them would crash SymEngine)."""
    allowed = _safe_types()
    seen: set[sp.Basic] = set()
    stack = list(exprs)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.is_Number or node.is_NumberSymbol or node in (sp.true, sp.false):
            continue
        if not isinstance(node, allowed) or isinstance(node, (sp.Dummy, *exclude)):
            return False
        stack.extend(node.args)
    return True


class _ToSymEngine:
    """SymPy -> SymEngine with one memo (by object) shared by all outputs, so a subexpression
    shared by every gradient component (a logistic margin, say) is converted once. Free
    symbols become assumption-free placeholders ``_s<i>`` (SymEngine drops assumptions, and
    its CSE names temporaries ``x0, x1, ...``, which could collide with user names)."""

    def __init__(self, *, opaque: bool = False) -> None:
        self.memo: dict[int, tuple[sp.Basic, Any]] = {}
        self.fwd: dict[sp.Symbol, sp.Symbol] = {}
        self.templates: dict[type, Any] = {}
        #: opaque=True (CSE needs no calculus): functions SymEngine lacks become undefined
        #: functions ``_F<i>`` handled in C++ only, and ``functions`` maps them back
        self.opaque = opaque
        self.functions: dict[str, type] = {}
        self._names: dict[type, str] = {}

    def placeholder(self, sym: sp.Symbol) -> sp.Symbol:
        if sym not in self.fwd:
            self.fwd[sym] = sp.Symbol(f"_s{len(self.fwd)}")
        return self.fwd[sym]

    def inverse(self) -> dict[sp.Symbol, sp.Symbol]:
        return {v: k for k, v in self.fwd.items()}

    def __call__(self, e: sp.Basic) -> Any:
        hit = self.memo.get(id(e))
        if hit is not None:
            return hit[1]
        if e.is_Symbol:
            out = _se.Symbol(self.placeholder(e).name)
        elif not e.args:
            out = _se.sympify(e)
        elif e.is_Add or e.is_Mul:
            out = (_se.Add if e.is_Add else _se.Mul)(*[self(a) for a in e.args])
        elif e.is_Pow:
            out = _se.Pow(self(e.args[0]), self(e.args[1]))
        elif isinstance(e, sp.exp):
            out = _se.exp(self(e.args[0]))
        elif type(e).__name__ in _FUNCS:
            out = getattr(_se, type(e).__name__)(*[self(a) for a in e.args])
        elif isinstance(e, sp.Function) and not isinstance(e, (sp.Piecewise, sp.Max, sp.Min)):
            # a function SymEngine wraps (Expit, log1p, ...): fill a cached template's slots
            cls = type(e)
            if self.opaque:
                if cls not in self._names:
                    self._names[cls] = name = f"_F{len(self._names)}"
                    self.functions[name] = cls
                fn = _se.Function(self._names[cls])
                out = fn(*[self(a) for a in e.args])
                self.memo[id(e)] = (e, out)
                return out
            slots = [_se.Symbol(f"_slot{i}") for i in range(len(e.args))]
            key = (cls, len(e.args))
            if key not in self.templates:
                self.templates[key] = _se.sympify(cls(*[sp.Symbol(s.name) for s in slots]))
            out = self.templates[key].subs(dict(zip(slots, [self(a) for a in e.args])))
        else:  # Piecewise, relationals, ...: SymEngine's own converter on the renamed node
            renamed = _rename([e], {s: self.placeholder(s) for s in e.free_symbols})[0]
            out = _se.sympify(renamed)
        self.memo[id(e)] = (e, out)
        return out


def _rename(exprs: Sequence[sp.Basic], mapping: dict[sp.Symbol, sp.Symbol]) -> list[sp.Basic]:
    """Symbol-for-symbol renaming without re-evaluating every rebuilt node (one
    ``evaluate(False)`` block: each toggle clears SymPy's cache)."""
    with sp.evaluate(False):
        return [sp.sympify(e).xreplace(mapping) for e in exprs]


_FUNCS = {
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "log", "Abs", "Max", "Min", "sign", "erf", "erfc",
}


def _to_sympy(e: Any, memo: dict[Any, sp.Basic], rename: dict[sp.Symbol, sp.Symbol],
              functions: dict[str, type] | None = None) -> sp.Basic:
    """SymEngine -> SymPy, building nodes unevaluated: SymEngine's results are already
    canonical, and re-evaluating them is where SymPy spends nearly all its time on big losses
    (assumption queries). ``exp`` is rebuilt as ``exp`` (SymEngine stores ``E**u``)."""
    out = memo.get(e)
    if out is not None:
        return out
    functions = functions or {}
    kind = type(e).__name__
    if not e.args:
        out = e._sympy_()
        out = rename.get(out, out)
    elif kind in ("Add", "Mul"):
        kids = [_to_sympy(a, memo, rename, functions) for a in e.args]
        # SymPy's canonical argument order (number first), so the result is the very
        # expression SymPy's evaluation would build, and pattern rewrites see what they expect
        numbers = [k for k in kids if k.is_Number]
        rest = [k for k in kids if not k.is_Number]
        (_addsort if kind == "Add" else _mulsort)(rest)
        out = (sp.Add if kind == "Add" else sp.Mul)(*numbers, *rest, evaluate=False)
    elif kind == "Pow":
        base, power = e.args
        if type(base).__name__ == "Exp1":
            out = sp.exp(_to_sympy(power, memo, rename, functions), evaluate=False)
        else:
            out = sp.Pow(_to_sympy(base, memo, rename, functions), _to_sympy(power, memo, rename, functions), evaluate=False)
    elif kind == "FunctionSymbol" and e.get_name() in functions:
        cls = functions[e.get_name()]
        out = cls(*[_to_sympy(a, memo, rename, functions) for a in e.args], evaluate=False)
    elif kind == "PyFunction" or kind in _FUNCS:
        cls = e.pyobject().func if kind == "PyFunction" else getattr(sp, kind)
        out = cls(*[_to_sympy(a, memo, rename, functions) for a in e.args], evaluate=False)
    else:  # anything else (Piecewise, ...): SymEngine's own evaluated conversion
        out = sp.sympify(e._sympy_()).xreplace(rename)
    memo[e] = out
    return out


def _back(e: Any, inverse: dict[sp.Symbol, sp.Symbol], memo: dict | None = None,
          functions: dict[str, type] | None = None) -> sp.Expr:
    return _to_sympy(e, {} if memo is None else memo, inverse, functions)


def _unevaluated(e: sp.Basic) -> bool:
    return e.has(sp.Derivative, sp.Subs)


def diff_many(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> list[sp.Expr] | None:
    """``[diff(expr, v) for v in wrt]`` computed with SymEngine, or None when unavailable.

    Outputs SymEngine leaves unevaluated are recomputed by SymPy, so the result always equals
    SymPy's derivative mathematically.
    """
    if not available() or not _convertible([expr], _NO_DIFF):
        return None
    try:
        conv = _ToSymEngine()
        s = conv(expr)
        inv = conv.inverse()
        outs, memo = [], {}
        for v in wrt:
            if v not in conv.fwd:  # a parameter the expression does not contain
                outs.append(sp.S.Zero)
                continue
            d = _back(s.diff(_se.Symbol(conv.fwd[v].name)), inv, memo)
            outs.append(sp.diff(expr, v) if _unevaluated(d) else d)
        return outs
    except Exception:  # noqa: BLE001 - an accelerator only: any failure means "use SymPy"
        return None


def cse(
    outputs: Sequence[sp.Expr], temp_prefix: str = "_t"
) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]] | None:
    """Common-subexpression elimination with SymEngine (None when unavailable or failing).

    Returns ``(assignments, reduced)`` like :func:`sympy.cse`, temporaries named
    ``<temp_prefix><i>`` and the outputs' own symbols restored.
    """
    if not available() or not _convertible(outputs):
        return None
    try:
        conv = _ToSymEngine(opaque=True)
        converted = [conv(sp.sympify(o)) for o in outputs]
        inv = conv.inverse()
        pairs, reduced = _se.cse(converted)
        back = dict(inv)
        for i, (lhs, _) in enumerate(pairs):
            back[sp.Symbol(str(lhs))] = sp.Symbol(f"{temp_prefix}{i}")
        memo: dict[Any, sp.Basic] = {}
        fns = conv.functions
        assignments = [(back[sp.Symbol(str(lhs))], _back(rhs, back, memo, fns)) for lhs, rhs in pairs]
        return assignments, [_back(r, back, memo, fns) for r in reduced]
    except Exception:  # noqa: BLE001 - an accelerator only: any failure means "use SymPy"
        return None


def derivatives(expr: sp.Expr, wrt: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """``[diff(expr, v) for v in wrt]``: SymEngine when available (same results), else SymPy."""
    fast = diff_many(expr, wrt)
    return fast if fast is not None else [sp.diff(expr, v) for v in wrt]
