"""Limits computed twice: ``sympy.limit`` (bounded by a timeout) and a numeric cross-check.

The numeric side (:mod:`._numeric_limit`) evaluates the expression along two sequences of
points approaching the point, each sample as a rigorous interval at a precision raised until
the interval is narrow (up to 960 digits), analyzes each sequence with
:func:`~symcalc.convergence.analyze_sequence` and extrapolates. Each side checks the other:
when they disagree, the report says so with both values.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from .._mpeval import MPMATH_ONLY_FUNCTIONS
from .._safety import check_expression
from .._timeout import call_with_timeout
from .._expressions import as_expr
from .._validate import check_choice, check_positive, describe, resolve_symbol
from ..errors import SymbolError, SymbolicTimeout, SymcalcError
from ..results import Result
from ._numeric_limit import numeric_sides

__all__ = ["limit", "LimitReport"]

_REL_TOL = 1e-6  # symbolic and numeric agree when within this relative distance


@dataclass(repr=False, eq=False)
class LimitReport(Result):
    """A limit computed symbolically and numerically.

    Attributes
    ----------
    symbolic : sympy expression or None
        ``sympy.limit``'s value (``oo``/``-oo`` included); None when the limit does not exist
        (one-sided limits differ, or sympy returns ``AccumBounds``), timed out or failed.
    numeric : float
        Extrapolated numeric estimate; ``inf``/``-inf`` for divergence, ``nan`` when none.
    agree : bool
        True when both sides give the same answer (the same value, the same infinity, or both
        find no limit).
    reason : str
        One sentence: the answer, or the disagreement with both values.
    left, right : sympy expression or None
        Raw one-sided results of ``sympy.limit`` (None when not computed).
    numeric_left, numeric_right : float
        One-sided numeric estimates (``nan`` when not computed).
    numeric_error : float
        Uncertainty of ``numeric``.
    timed_out : bool
        Whether ``sympy.limit`` ran out of time.
    """

    symbolic: Any
    numeric: float
    agree: bool
    reason: str
    left: Any = None
    right: Any = None
    numeric_left: float = math.nan
    numeric_right: float = math.nan
    numeric_error: float = math.nan
    timed_out: bool = False


@dataclass
class _Side:
    sym_kind: str = "none"  # value | oo | -oo | dne | zoo | complex | symbolic | failed | none
    sym: Any = None
    sym_float: float = math.nan
    sym_note: str = ""
    num_kind: str = "none"  # value | inf | dne | none
    num: float = math.nan
    num_err: float = math.nan
    num_note: str = ""

    def agrees(self) -> bool:
        if self.sym_kind == "value" and self.num_kind == "value":
            scale = max(1.0, abs(self.sym_float))
            slack = self.num_err if self.num_err < 1e-2 * scale else 0.0
            return abs(self.num - self.sym_float) <= max(_REL_TOL * scale, 2 * slack)
        if self.sym_kind in ("oo", "-oo") and self.num_kind == "inf":
            return self.num == (math.inf if self.sym_kind == "oo" else -math.inf)
        return self.sym_kind == "dne" and self.num_kind == "dne"


def limit(
    expr: Any, var: Any, point: Any, dir: str = "+-", *, timeout: float | None = 5.0
) -> LimitReport:
    """The limit of ``expr`` as ``var`` approaches ``point``, symbolically and numerically.

    Parameters
    ----------
    expr : sympy.Expr or str
        The expression; strings go through the safe parser :func:`symcalc.parsing.parse`.
    var : sympy.Symbol or str
        The variable (a name is matched against the expression's symbols).
    point : number, sympy number, or str
        A finite real point, ``oo``/``-oo`` (also ``float('inf')``, ``"oo"``, ``"-inf"``).
    dir : {"+-", "+", "-"}
        Two-sided (both one-sided limits are computed and compared), from the right or from
        the left. Ignored at ``oo``/``-oo``, which are approached from the only possible side.
    timeout : float or None, default 5.0
        Seconds for the whole call. The numeric check runs first (in a child process, at most
        half the budget; usually a few tens of milliseconds), then ``sympy.limit`` runs in a
        child process with the rest and is killed when time is up (``symbolic`` is then None
        and the numeric estimate still comes back). None means no limit and no child process.

    Returns
    -------
    LimitReport
        ``symbolic, numeric, agree, reason`` followed by the one-sided details.

    Raises
    ------
    SymcalcError
        An unusable expression, variable, point, direction or timeout.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> r = limit(sp.sin(x) / x, x, 0)
    >>> r.symbolic, round(r.numeric, 12), r.agree
    (1, 1.0, True)
    >>> limit(1 / x, x, 0).symbolic is None  # -oo from the left, oo from the right
    True
    """
    expr = as_expr(expr, "expr")
    check_expression(expr, extra_functions=MPMATH_ONLY_FUNCTIONS)  # numeric side: mpmath only
    var = resolve_symbol(var, expr, "var")
    point = _as_point(point)
    check_choice(dir, ("+-", "+", "-"), "dir")
    if timeout is not None:
        timeout = check_positive(timeout, "timeout")
    if point.is_infinite:
        sides = ("-",) if point == sp.oo else ("+",)
    else:
        sides = ("-", "+") if dir == "+-" else (dir,)
    info = {s: _Side() for s in sides}
    start = time.perf_counter()
    _run_numeric(expr, var, point, sides, info, None if timeout is None else timeout / 2)
    remaining = None if timeout is None else max(timeout - (time.perf_counter() - start), 0.01)
    timed_out = False
    try:
        results = call_with_timeout(
            _symbolic_sides, expr, var, point, sides, timeout=remaining, what="sympy.limit"
        )
    except SymbolicTimeout:
        timed_out = True
        results = ({s: ("failed", None, math.nan, "timed out") for s in sides}, False)
    per_side, same = results
    for s, (kind, value, as_float, note) in per_side.items():
        info[s].sym_kind, info[s].sym, info[s].sym_float, info[s].sym_note = (
            kind, value, as_float, note)
    return _build_report(info, sides, same, timed_out, timeout)


# ---------------------------------------------------------------------------- input checks
_INFINITIES = {"oo": sp.oo, "+oo": sp.oo, "inf": sp.oo, "+inf": sp.oo, "infinity": sp.oo,
               "-oo": -sp.oo, "-inf": -sp.oo, "-infinity": -sp.oo}


def _as_point(point: Any) -> sp.Expr:
    original = point
    if isinstance(point, str):
        key = point.strip().lower()
        point = _INFINITIES[key] if key in _INFINITIES else as_expr(point, "point")
    elif isinstance(point, sp.Basic):
        pass  # SymPy numbers stay exact (a Rational is a numbers.Real too)
    elif isinstance(point, (bool, np.bool_)):
        raise SymcalcError(f"point must be a real number or oo/-oo; got {point!r}")
    elif isinstance(point, numbers.Real):
        value = float(point)
        if math.isnan(value):
            raise SymcalcError("point must be a real number or oo/-oo; got nan")
        if math.isinf(value):
            point = sp.oo if value > 0 else -sp.oo
        elif isinstance(point, numbers.Integral):
            point = sp.Integer(int(point))
        else:
            point = sp.Float(value)
    if not isinstance(point, sp.Expr):
        raise SymcalcError(
            f"point must be a real number, a SymPy number or oo/-oo; got {describe(original)} "
            f"of type {type(original).__name__}"
        )
    if point.free_symbols:
        names = ", ".join(sorted(str(s) for s in point.free_symbols))
        raise SymbolError(f"point must be a number; got {point} with free symbols {names}")
    if point in (sp.oo, -sp.oo):
        return point
    if point is sp.zoo or point is sp.nan or point.is_extended_real is False:
        raise SymcalcError(f"point must be real or oo/-oo; got {point}")
    return point


# ---------------------------------------------------------------------------- symbolic side
def _symbolic_sides(
    expr: sp.Expr, var: sp.Symbol, point: sp.Expr, sides: tuple
) -> tuple[dict, bool]:
    """One-sided ``sympy.limit`` results, classified (runs in the timeout child)."""
    out = {}
    for side in sides:
        try:
            if point.is_infinite:
                value = sp.limit(expr, var, point)
            else:
                value = sp.limit(expr, var, point, dir=side)
        except Exception as exc:  # noqa: BLE001 - sympy raises many kinds
            out[side] = ("failed", None, math.nan, f"{type(exc).__name__}: {exc}")
            continue
        out[side] = (*_classify_symbolic(value), "")
    same = False
    if len(sides) == 2 and all(out[s][0] in _EXISTS for s in sides):
        same = _sides_equal(out["-"][1], out["+"][1])
    return out, same


def _classify_symbolic(value: Any) -> tuple[str, Any, float]:
    if isinstance(value, sp.AccumBounds):
        return "dne", value, math.nan
    if value is sp.zoo:
        return "zoo", value, math.nan
    if value is sp.nan or value.has(sp.Limit):
        return "failed", value, math.nan
    if value == sp.oo or value == -sp.oo:
        return ("oo" if value == sp.oo else "-oo"), value, math.nan
    if value.free_symbols:
        return "symbolic", value, math.nan
    try:
        number = complex(sp.N(value, 30))
    except (TypeError, ValueError):
        return "failed", value, math.nan
    if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
        return "complex", value, math.nan
    return "value", value, number.real


# ---------------------------------------------------------------------------- numeric side
def _run_numeric(expr, var, point, sides, info, budget) -> None:
    others = expr.free_symbols - {var}
    if others:
        note = f"the expression has other free symbols ({', '.join(sorted(map(str, others)))})"
        for s in sides:
            info[s].num_note = note
        return
    try:
        results = call_with_timeout(
            numeric_sides, expr, var, point, sides, budget, timeout=None if budget is None
            else budget + 0.5, what="numeric evaluation"
        )
    except SymbolicTimeout:
        results = {s: ("none", math.nan, math.nan, f"numeric evaluation took over {budget:g} s")
                   for s in sides}
    except Exception as exc:  # noqa: BLE001 - evaluation problems become a note, not a crash
        results = {s: ("none", math.nan, math.nan, f"numeric evaluation failed ({exc})")
                   for s in sides}
    for s, (kind, value, err, note) in results.items():
        info[s].num_kind, info[s].num, info[s].num_err, info[s].num_note = kind, value, err, note


def _sides_equal(a: Any, b: Any) -> bool:
    """Whether two one-sided sympy results are the same value (runs in the child)."""
    if a == b:
        return True
    if a.is_infinite or b.is_infinite:
        return False
    try:
        diff = sp.N(a - b, 30)
        if diff.is_number:
            scale = max(1.0, abs(complex(sp.N(a, 30))))
            return abs(complex(diff)) <= 1e-25 * scale
        return sp.simplify(a - b) == 0
    except (TypeError, ValueError, AttributeError):
        return False


# ---------------------------------------------------------------------------- the report
_EXISTS = ("value", "oo", "-oo", "symbolic", "zoo", "complex")
_LABEL = {"-": "the left-hand limit ", "+": "the right-hand limit "}


def _fmt(value: float) -> str:
    return f"{value:.12g}"


def _numeric_phrase(side: _Side) -> str:
    if side.num_kind == "value":
        return f"is ≈{_fmt(side.num)}"
    if side.num_kind == "inf":
        return f"is {'+' if side.num > 0 else '-'}inf"
    if side.num_kind == "dne":
        return f"does not appear to exist ({_lower(side.num_note)})"
    return f"could not be estimated ({side.num_note or 'no numeric evaluation'})"


def _lower(text: str) -> str:
    text = text.rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _combined(left: _Side, right: _Side, same: bool) -> tuple[Any, _Side]:
    """Overall symbolic value and a synthetic two-sided numeric side."""
    both = _Side()
    symbolic = left.sym if (left.sym_kind in _EXISTS and right.sym_kind in _EXISTS
                            and same) else None
    if left.num_kind == right.num_kind == "value":
        scale = max(1.0, abs(left.num))
        gap = abs(left.num - right.num)
        slack = max(left.num_err, right.num_err)
        slack = slack if slack < 1e-2 * scale else 0.0  # a vague estimate confirms nothing
        if gap <= _REL_TOL * scale + 2 * slack:
            both.num_kind, both.num = "value", (left.num + right.num) / 2
            both.num_err = max(left.num_err, right.num_err, gap)
            return symbolic, both
    if left.num_kind == right.num_kind == "inf" and left.num == right.num:
        both.num_kind, both.num, both.num_err = "inf", left.num, 0.0
        return symbolic, both
    if "none" in (left.num_kind, right.num_kind):
        both.num_note = left.num_note or right.num_note
    else:
        both.num_kind = "dne"
        both.num_note = (f"numerically {_LABEL['-']}{_numeric_phrase(left)} and "
                         f"{_LABEL['+']}{_numeric_phrase(right)}")
    return symbolic, both


def _build_report(info: dict, sides: tuple, same: bool, timed_out: bool,
                  timeout: float | None) -> LimitReport:
    left, right = info.get("-"), info.get("+")
    if len(sides) == 1:
        only = info[sides[0]]
        symbolic = only.sym if only.sym_kind in _EXISTS else None
        overall = only
    else:
        symbolic, overall = _combined(left, right, same)
    agree = all(info[s].agrees() for s in sides)
    reason = _reason(info, sides, symbolic, overall, agree, timed_out, timeout)
    return LimitReport(
        symbolic, float(overall.num), bool(agree), reason,
        left=left.sym if left else None, right=right.sym if right else None,
        numeric_left=left.num if left else math.nan,
        numeric_right=right.num if right else math.nan,
        numeric_error=float(overall.num_err), timed_out=timed_out,
    )


def _reason(info, sides, symbolic, overall: _Side, agree, timed_out, timeout) -> str:
    two = len(sides) == 2
    if timed_out:
        return (f"sympy.limit did not finish within {timeout:g} s; numerically the limit "
                f"{_numeric_phrase(overall)}, unconfirmed.")
    failed = [s for s in sides if info[s].sym_kind == "failed"]
    if failed:
        side = info[failed[0]]
        what = side.sym_note or f"it returned {side.sym}"
        return (f"sympy.limit could not evaluate {_LABEL[failed[0]] if two else 'the limit '}"
                f"({what}); numerically the limit {_numeric_phrase(overall)}, unconfirmed.")
    syms = (f"{_LABEL['-']}{info['-'].sym} and {_LABEL['+']}{info['+'].sym}" if two
            else f"{info[sides[0]].sym}")
    missing = [s for s in sides if info[s].num_kind == "none"]
    if missing:
        return (f"sympy.limit gives {syms}; the numeric check is inconclusive "
                f"({_lower(info[missing[0]].num_note)}).")
    if not agree:
        s = next(s for s in sides if not info[s].agrees())
        side = info[s]
        label = _LABEL[s] if two else ""
        return (f"sympy.limit gives {label}{side.sym} but numerically {label or 'the limit '}"
                f"{_numeric_phrase(side)}: they disagree, so neither is confirmed "
                "(sympy.limit is sometimes wrong; check the expression).")
    if symbolic is not None:
        if overall.num_kind == "inf":
            return f"The limit is {symbolic}: sympy.limit and the numeric values agree."
        return (f"sympy.limit gives {symbolic} and the numeric estimate {_fmt(overall.num)} "
                "agrees.")
    if two and all(info[s].sym_kind in _EXISTS for s in sides):
        return (f"The limit does not exist: the left-hand limit is {info['-'].sym} and the "
                f"right-hand limit is {info['+'].sym}, in agreement with the numeric values "
                f"({_fmt(info['-'].num)} and {_fmt(info['+'].num)}).")
    raw = next(info[s].sym for s in sides if info[s].sym_kind == "dne")
    note = next(info[s].num_note for s in sides if info[s].num_kind == "dne")
    return (f"The limit does not exist: sympy.limit gives {raw} and numerically "
            f"{_lower(note)}.")
