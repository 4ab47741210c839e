"""Evaluate SymPy expressions with mpmath, by walking the tree (no generated code, no ``eval``).

Two evaluators over one fixed table of functions:

* :func:`mp_function` -- point values at the working precision (``mpmath.mp.dps``), complex
  where the expression is (``log`` of a negative number, a negative base to a fractional
  power).
* :func:`iv_function` -- interval values (``mpmath.iv``): a rigorous enclosure of the exact
  value at the point, so cancellation and absorption show as a wide interval instead of a
  confident wrong number. Functions missing from ``mpmath.iv`` are evaluated at both ends of
  their argument interval (they are monotone on the tiny intervals that matter) and widened
  outward; an argument where the expression is not real raises :class:`NotReal`.

Only SymPy classes are looked up, in a fixed table; a function that SymPy knows but the table
does not is evaluated by SymPy's own ``evalf`` on the numeric arguments, and an undefined
function (``Function("f")``) is refused with a :class:`~symcalc.errors.SymcalcError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from .errors import SymcalcError

__all__ = ["mp_function", "iv_function", "iv_dps", "NotReal", "Overflow",
           "MPMATH_ONLY_FUNCTIONS"]


class NotReal(ArithmeticError):
    """The expression is not real (or not defined) at the point."""


class Overflow(ArithmeticError):
    """An intermediate value is too large to compute in bounded time (``exp(exp(1e5))``)."""


_MAX_EXP = 10**24  # largest |argument| of exp-like functions (result exponent ~ 1.4e24 bits)
_MAX_TRIG_MAG = 4000  # largest binary magnitude of a sin/cos argument (pi needed to that)
_GROWTH = {sp.exp, sp.sinh, sp.cosh, sp.gamma, sp.loggamma, sp.factorial, sp.erfc, sp.erf,
           sp.Ei, sp.li, sp.LambertW, sp.digamma, sp.polygamma, sp.zeta, sp.tanh, sp.coth,
           sp.besseli, sp.besselk, sp.fibonacci}
# oscillating: an argument of 2**k needs pi (and the working precision) to k bits
_PERIODIC = {sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc, sp.besselj, sp.bessely}


def _check_arg(cls: Any, arg: Any) -> None:
    """Refuse arguments that would take unbounded time (raise :class:`Overflow`)."""
    mag = mpmath.mag(arg.b if isinstance(arg, mpmath.ctx_iv.ivmpf) else arg)
    if cls in _GROWTH and mag > 80 and abs(
            mpmath.mpf(arg.b if isinstance(arg, mpmath.ctx_iv.ivmpf) else arg)) > _MAX_EXP:
        raise Overflow(f"{cls.__name__} of an argument of magnitude 2^{mag}")
    if cls in _PERIODIC and mag > _MAX_TRIG_MAG:
        raise Overflow(f"{cls.__name__} of an argument of magnitude 2^{mag}")


def _check_pow(base: Any, ex: Any) -> None:
    """``base**ex`` whose result exponent would be astronomically large."""
    b = base.b if isinstance(base, mpmath.ctx_iv.ivmpf) else base
    e = ex.b if isinstance(ex, mpmath.ctx_iv.ivmpf) else ex
    if isinstance(b, mpmath.mpc) or isinstance(e, mpmath.mpc):
        return
    if abs(e) * (abs(mpmath.mag(b)) + 1) > _MAX_EXP:
        raise Overflow("a power whose result is too large to represent")


def _mp_table() -> dict[type, Callable[..., Any]]:
    m = mpmath
    return {
        sp.exp: m.exp, sp.log: m.log, sp.sin: m.sin, sp.cos: m.cos, sp.tan: m.tan,
        sp.cot: m.cot, sp.sec: m.sec, sp.csc: m.csc, sp.asin: m.asin, sp.acos: m.acos,
        sp.atan: m.atan, sp.acot: m.acot, sp.sinh: m.sinh, sp.cosh: m.cosh, sp.tanh: m.tanh,
        sp.coth: m.coth, sp.asinh: m.asinh, sp.acosh: m.acosh, sp.atanh: m.atanh,
        sp.erf: m.erf, sp.erfc: m.erfc, sp.gamma: m.gamma, sp.loggamma: m.loggamma,
        sp.Abs: abs, sp.sign: m.sign, sp.floor: m.floor, sp.ceiling: m.ceil,
        sp.factorial: m.factorial, sp.digamma: m.digamma, sp.LambertW: m.lambertw,
        sp.erfinv: m.erfinv, sp.Ei: m.ei, sp.expint: m.expint, sp.li: m.li,
        sp.Si: m.si, sp.Ci: m.ci, sp.zeta: m.zeta, sp.atan2: m.atan2,
        sp.polygamma: m.polygamma, sp.besselj: m.besselj, sp.bessely: m.bessely,
        sp.exp_polar: m.exp, sp.re: m.re, sp.im: m.im,
        sp.besseli: m.besseli, sp.besselk: m.besselk, sp.asec: m.asec, sp.acsc: m.acsc,
        sp.asech: m.asech, sp.acsch: m.acsch, sp.acoth: m.acoth, sp.frac: m.frac,
        sp.fresnels: m.fresnels, sp.fresnelc: m.fresnelc, sp.erfi: m.erfi,
        sp.uppergamma: m.gammainc, sp.binomial: m.binomial, sp.cbrt: m.cbrt,
        sp.fibonacci: m.fibonacci, sp.elliptic_k: m.ellipk, sp.elliptic_e: m.ellipe,
    }


_MP = _mp_table()
#: Functions this module evaluates that :data:`symcalc._safety.ALLOWED_FUNCTIONS` (the gate
#: for generated code) does not list: callers that evaluate only through this module (the
#: numeric side of :func:`symcalc.limit`) may accept them.
MPMATH_ONLY_FUNCTIONS: frozenset[type] = frozenset({sp.re, sp.im, sp.fibonacci,
                                                    sp.elliptic_k, sp.elliptic_e})
_REL = {sp.StrictLessThan: lambda a, b: a < b, sp.LessThan: lambda a, b: a <= b,
        sp.StrictGreaterThan: lambda a, b: a > b, sp.GreaterThan: lambda a, b: a >= b,
        sp.Equality: lambda a, b: a == b, sp.Unequality: lambda a, b: a != b}


def _refuse(e: sp.Basic) -> None:
    if isinstance(e, AppliedUndef):
        raise SymcalcError(
            f"the expression uses the undefined function {type(e).__name__!r}; only SymPy's "
            "built-in functions can be evaluated numerically"
        )


def _heaviside(x: Any, h0: Any = None) -> Any:
    if x > 0:
        return mpmath.mpf(1)
    if x < 0:
        return mpmath.mpf(0)
    return mpmath.mpf(0.5) if h0 is None else h0


def _fallback(func: Any, args: list[Any]) -> Any:
    """SymPy's own evalf of a known function at numeric arguments."""
    dps = mpmath.mp.dps
    value = func(*[sp.Float(a, dps) if isinstance(a, mpmath.mpf) else sp.sympify(complex(a))
                   for a in args]).evalf(dps)
    if value.is_real:
        return mpmath.mpf(value._mpf_) if value.is_Float else mpmath.mpf(float(value))
    return mpmath.mpc(complex(value))


def _number_leaf(e: sp.Basic, index: dict, ctx: Any) -> Callable[[list], Any] | None:
    """Variables and exact constants in the context ``ctx`` (``mpmath.mp`` or ``mpmath.iv``)."""
    if e in index:
        i = index[e]
        return lambda xs: xs[i]
    if e.is_Integer:
        v = int(e)
        return lambda xs: ctx.mpf(v)
    if e.is_Rational:
        p, q = int(e.p), int(e.q)
        return lambda xs: ctx.mpf(p) / q
    if e.is_Float:
        t = mpmath.mpf(e._mpf_)
        return lambda xs: ctx.mpf(t)
    named = {sp.pi: "pi", sp.E: "e", sp.EulerGamma: "euler"}
    if e in named:
        name = named[e]
        return lambda xs: getattr(ctx, name) + 0
    return None


def _point_leaf(e: sp.Basic, index: dict) -> Callable[[list], Any]:
    known = _number_leaf(e, index, mpmath.mp)
    if known is not None:
        return known
    if e is sp.I:
        return lambda xs: mpmath.mpc(0, 1)
    if e is sp.oo:
        return lambda xs: mpmath.inf
    if e is sp.S.NegativeInfinity:
        return lambda xs: -mpmath.inf
    if e is sp.true or e is sp.false:
        flag = bool(e)
        return lambda xs: flag
    if e.is_number and not e.free_symbols:
        return lambda xs: _fallback(lambda: e, [])
    raise SymcalcError(f"cannot evaluate the symbol {e} numerically (not a variable here)")


def _point(e: sp.Basic, index: dict) -> Callable[[list], Any]:
    _refuse(e)
    if not e.args or e in index:
        return _point_leaf(e, index)
    if isinstance(e, sp.Piecewise):
        pairs = [(_point(c, index), _point(v, index)) for v, c in e.args]
        return lambda xs: next((v(xs) for c, v in pairs if c(xs)), mpmath.nan)
    kids = [_point(a, index) for a in e.args]
    if isinstance(e, sp.Add):
        return lambda xs: mpmath.fsum(k(xs) for k in kids)
    if isinstance(e, sp.Mul):
        return lambda xs: mpmath.fprod(k(xs) for k in kids)
    if isinstance(e, sp.Pow):
        base, ex = kids
        if e.exp == sp.S.Half:
            return lambda xs: mpmath.sqrt(base(xs))

        def power(xs: list) -> Any:
            b, x = base(xs), ex(xs)
            _check_pow(b, x)
            return mpmath.power(b, x)
        return power
    if isinstance(e, (sp.Max, sp.Min)):
        pick = max if isinstance(e, sp.Max) else min
        return lambda xs: pick(k(xs) for k in kids)
    if isinstance(e, sp.Heaviside):
        return lambda xs: _heaviside(*[k(xs) for k in kids])
    if type(e) in _REL:
        rel = _REL[type(e)]
        return lambda xs: rel(kids[0](xs), kids[1](xs))
    if isinstance(e, sp.And):
        return lambda xs: all(k(xs) for k in kids)
    if isinstance(e, sp.Or):
        return lambda xs: any(k(xs) for k in kids)
    fn = _MP.get(type(e)) or _MP.get(e.func)
    if fn is not None:
        cls = e.func

        def call(xs: list) -> Any:
            args = [k(xs) for k in kids]
            if not isinstance(args[-1], mpmath.mpc):
                _check_arg(cls, args[-1])
            return fn(*args)
        return call
    if isinstance(e, sp.Function):
        func = e.func
        return lambda xs: _fallback(func, [k(xs) for k in kids])
    raise SymcalcError(f"cannot evaluate {type(e).__name__} numerically: {str(e)[:80]}")


def mp_function(expr: sp.Basic, symbols: Sequence[sp.Symbol]) -> Callable[..., Any]:
    """``f(*values)`` evaluating ``expr`` with mpmath at the current precision.

    >>> x = sp.Symbol("x")
    >>> with mpmath.workdps(50):
    ...     print(mpmath.nstr(mp_function(sp.log(1 + x) / x, [x])(mpmath.mpf("1e-20")), 15))
    1.0
    """
    body = _point(sp.sympify(expr), {s: i for i, s in enumerate(symbols)})
    return lambda *values: body([v if isinstance(v, (mpmath.mpf, mpmath.mpc))
                                 else mpmath.mpmathify(v) for v in values])


# ---------------------------------------------------------------------- intervals
@contextlib.contextmanager
def iv_dps(dps: int) -> Iterator[None]:
    """Run a block with ``mpmath.iv`` at ``dps`` decimal digits (restored afterwards)."""
    saved = mpmath.iv.prec
    mpmath.iv.dps = int(dps)
    try:
        yield
    finally:
        mpmath.iv.prec = saved


def _iv(v: Any) -> Any:
    if isinstance(v, mpmath.ctx_iv.ivmpf):
        return v
    if isinstance(v, (mpmath.mpc, complex)):
        raise NotReal("complex value")
    return mpmath.iv.mpf(v)


def _ends(fn: Callable[[Any], Any], x: Any) -> Any:
    """``fn`` over an interval from its values at the two ends (monotone on tiny intervals)."""
    x = _iv(x)
    with mpmath.workprec(mpmath.iv.prec + 20):
        lo, hi = fn(mpmath.mpf(x.a)), fn(mpmath.mpf(x.b))
    if isinstance(lo, mpmath.mpc) or isinstance(hi, mpmath.mpc):
        raise NotReal("complex value")
    if mpmath.isnan(lo) or mpmath.isnan(hi):
        raise NotReal("undefined value")
    lo, hi = min(lo, hi), max(lo, hi)
    out = mpmath.iv.mpf([lo, hi])
    return out + mpmath.iv.mpf([-1, 1]) * (abs(out.b) * mpmath.mpf(2) ** (-mpmath.iv.prec + 2))


def _iv_exp(x: Any) -> Any:
    """``exp`` of an interval; beyond ``+-1e24`` a one-sided enclosure (``[2**1e24, inf]`` or
    ``[0, 2**-1e24]``) instead of an astronomically long computation: absorbed by a sum it
    costs nothing, multiplied by something huge it makes the result wide (so not trusted)."""
    x = _iv(x)
    if x.a > _MAX_EXP:
        return mpmath.iv.mpf([mpmath.mpf(2) ** _MAX_EXP, mpmath.inf])
    if x.b < -_MAX_EXP:
        return mpmath.iv.mpf([0, mpmath.mpf(2) ** (-_MAX_EXP)])
    if abs(x.a) > _MAX_EXP or abs(x.b) > _MAX_EXP:
        raise Overflow("exp of an interval across the representable range")
    return mpmath.iv.exp(x)


def _iv_log(x: Any) -> Any:
    x = _iv(x)
    if x.a <= 0:
        raise NotReal("log of a non-positive interval")
    return mpmath.iv.log(x)


def _iv_sqrt(x: Any) -> Any:
    x = _iv(x)
    if x.a < 0:
        raise NotReal("square root of a negative interval")
    return mpmath.iv.sqrt(x)


def _iv_pow(base: Any, ex: Any, ex_expr: sp.Basic) -> Any:
    if ex_expr.is_Integer:
        _check_pow(_iv(base), _iv(ex))
        return _iv(base) ** int(ex_expr)
    b = _iv(base)
    _check_pow(b, _iv(ex))
    if ex_expr.is_Rational and ex_expr.q % 2 == 1 and b.b < 0:  # odd root of a negative
        raise NotReal("SymPy's principal root of a negative base is complex")
    if b.a <= 0:
        if b.a == b.b == 0 and _iv(ex).a > 0:
            return mpmath.iv.mpf(0)
        raise NotReal("non-positive base to a non-integer power")
    return mpmath.iv.exp(_iv(ex) * mpmath.iv.log(b))


def _iv_table() -> dict[type, Callable[..., Any]]:
    iv, m = mpmath.iv, mpmath
    table: dict[type, Callable[..., Any]] = {
        sp.exp: _iv_exp, sp.log: _iv_log,
        sp.sin: lambda x: iv.sin(_iv(x)), sp.cos: lambda x: iv.cos(_iv(x)),
        sp.Abs: lambda x: abs(_iv(x)),
    }
    for cls in _MP:
        if cls not in table and cls not in (sp.floor, sp.ceiling, sp.sign, sp.re, sp.im,
                                            sp.atan2, sp.polygamma, sp.besselj, sp.bessely,
                                            sp.expint, sp.exp_polar):
            fn = _MP[cls]
            table[cls] = (lambda f: lambda x: _ends(f, x))(fn)
    table[sp.sign] = lambda x: _iv_sign(_iv(x))
    del m
    return table


def _iv_sign(x: Any) -> Any:
    if x.a > 0:
        return mpmath.iv.mpf(1)
    if x.b < 0:
        return mpmath.iv.mpf(-1)
    if x.a == x.b == 0:
        return mpmath.iv.mpf(0)
    return mpmath.iv.mpf([-1, 1])


_IV = _iv_table()


def _iv_leaf(e: sp.Basic, index: dict) -> Callable[[list], Any]:
    known = _number_leaf(e, index, mpmath.iv)
    if known is not None:
        return known
    if e.is_number and e.is_extended_real is not False and not e.free_symbols:
        def const(xs: list) -> Any:
            with mpmath.workprec(mpmath.iv.prec + 20):
                v = _fallback(lambda: e, [])
            return _ends(lambda t: t, v) if isinstance(v, mpmath.mpf) else _iv(v)
        return const
    raise NotReal(f"{e} is not a real number")


def _interval(e: sp.Basic, index: dict) -> Callable[[list], Any]:
    _refuse(e)
    if not e.args or e in index:
        return _iv_leaf(e, index)
    if isinstance(e, sp.Piecewise):
        raise NotReal("no interval evaluation of Piecewise")
    kids = [_interval(a, index) for a in e.args]
    if isinstance(e, sp.Add):
        def add(xs: list) -> Any:
            total = _iv(kids[0](xs))
            for k in kids[1:]:
                total = total + _iv(k(xs))
            return total
        return add
    if isinstance(e, sp.Mul):
        def mul(xs: list) -> Any:
            total = _iv(kids[0](xs))
            for k in kids[1:]:
                total = total * _iv(k(xs))
            return total
        return mul
    if isinstance(e, sp.Pow):
        base, ex = kids
        if e.exp == sp.S.Half:
            return lambda xs: _iv_sqrt(base(xs))
        return lambda xs: _iv_pow(base(xs), ex(xs), e.exp)
    if isinstance(e, (sp.Max, sp.Min)):
        big = isinstance(e, sp.Max)

        def pick(xs: list) -> Any:
            vals = [_iv(k(xs)) for k in kids]
            f = max if big else min
            return mpmath.iv.mpf([f(v.a for v in vals), f(v.b for v in vals)])
        return pick
    fn = _IV.get(type(e)) or _IV.get(e.func)
    if fn is not None and len(kids) == 1:
        cls, kid = e.func, kids[0]

        def call(xs: list) -> Any:
            arg = _iv(kid(xs))
            if cls is not sp.exp:
                _check_arg(cls, arg)
            return fn(arg)
        return call
    raise NotReal(f"no interval evaluation of {type(e).__name__}")


def iv_function(expr: sp.Basic, symbols: Sequence[sp.Symbol]) -> Callable[..., Any]:
    """``f(*values)`` enclosing ``expr`` in an ``mpmath.iv`` interval at ``iv.prec``.

    Raises :class:`NotReal` (at call time or, for an unsupported function, at once) where no
    real interval can be given; then use :func:`mp_function` at two precisions instead.

    >>> x = sp.Symbol("x")
    >>> f = iv_function(sp.exp(x) * (sp.exp(1/x - sp.exp(-x)) - sp.exp(1/x)), [x])
    >>> with iv_dps(30):
    ...     v = f(mpmath.iv.mpf(10**6))  # every digit cancels: the interval says so
    >>> bool(v.delta > 1)
    True
    """
    body = _interval(sp.sympify(expr), {s: i for i, s in enumerate(symbols)})
    return lambda *values: _iv(body([_iv(v) for v in values]))
