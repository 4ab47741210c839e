"""The numeric side of :func:`symcalc.limit`: samples at adaptive precision, then extrapolation.

Samples approach the point along two geometric sequences (ratios 2 and 3, started at
irrational offsets so periodic functions cannot line up with them), out to a distance of
about 1e-15 (or 1e15 towards infinity). Each sample is evaluated as an ``mpmath.iv``
interval, a rigorous enclosure of the exact value at that point; while the interval is wider
than 1e-16 of its value (cancellation, absorption), the precision is doubled, up to 960
digits. A sample that cannot be resolved is dropped rather than trusted (``exp(x)*(exp(1/x -
exp(-x)) - exp(1/x))`` at x = 1e15 loses all of 10**14 digits: only the samples up to where
960 digits suffice are used). Where no real interval exists (a function ``mpmath.iv`` lacks,
a complex intermediate) the sample is evaluated at two precisions and kept if they agree.

Only the run of accurate real samples nearest the point is analysed (a complex value or an
overflow far from the point does not abandon the direction) with
:func:`~symcalc.convergence.analyze_sequence`. A divergence to infinity, or a sequence that
cannot be judged, is checked at super-geometric distances (``10**(2**k)`` towards infinity,
``10**-(2**k)`` towards 0): ``log(x)/x**0.001`` only turns towards its limit 0 beyond
``x = e**1000``; a value that seems settled but that the far samples contradict, or values
that change like a power of ``log x`` or slower, give no estimate rather than a confident one.

Where only a short range can be evaluated (``exp(exp(exp(x)))`` needs an exponent past 1e24
from x = 4 on), the two sequences are replaced by denser ones over that range; those may give
a value or explosive growth, never a verdict of divergence. One evaluation can take seconds
(``zeta`` at 960 digits): in the forked child a ``SIGALRM`` interrupts it at the deadline.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from .._mpeval import NotReal, Overflow, iv_dps, iv_function, mp_function
from .sequence import analyze_sequence

__all__ = ["numeric_sides"]

_P0, _PMAX = 30, 960  # starting and largest working precision (decimal digits)
_REL = 1e-16  # a sample is accurate when its enclosure is this narrow, relative
_SEQUENCES = ((0.6180339887498949, 2, 50), (0.7390851332151607, 3, 32))
_FAR = range(4, 23)  # k of the far samples 10**(2**k)
_MIN_SAMPLES = 8
_SHARES = (0.35, 0.7)  # fractions of a side's time by which each sequence must be done
_DENSE_BELOW = 10  # a run shorter than this is resampled densely
_DENSE = ((16, 0), (13, 0.5))  # (count, shift of the exponent) of the dense sequences
_DENSE_SHARES = (0.8, 0.9)
_BIG = mpmath.mpf("1e300")


class _OutOfTime(BaseException):
    """The side's deadline passed during one evaluation (a BaseException so that no
    ``except Exception`` inside mpmath swallows it)."""


def _raise_out_of_time(signum: int, frame: Any) -> None:
    raise _OutOfTime


@contextmanager
def _interrupt_at(deadline: float) -> Iterator[None]:
    """Interrupt the block at ``deadline`` (``SIGALRM``): a single mpmath evaluation (``zeta``
    at 960 digits, a Bessel function of a huge argument) can take seconds. Only in the main
    thread where the platform has ``setitimer`` and no other timer is pending (the forked
    child of :func:`symcalc.limit`); elsewhere the deadline is checked between samples only."""
    usable = (hasattr(signal, "setitimer") and deadline < math.inf
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _OutOfTime
    previous = signal.signal(signal.SIGALRM, _raise_out_of_time)
    signal.setitimer(signal.ITIMER_REAL, remaining)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Sampler:
    """Adaptive-precision values of one expression; each sample starts at the precision that
    sufficed for the previous accurate one."""

    def __init__(self, expr: sp.Expr, var: sp.Symbol, deadline: float) -> None:
        self.mp = mp_function(expr, [var])
        try:
            self.iv: Callable[..., Any] | None = iv_function(expr, [var])
        except NotReal:
            self.iv = None
        self.dps = _P0
        self.deadline = deadline

    def value(self, x_at: Callable[[int], mpmath.mpf]) -> tuple[str, Any]:
        """``("ok", mpf)``, ``("complex", None)`` or ``("lost", None)`` at ``x_at(dps)``."""
        dps = self.dps
        try:
            with _interrupt_at(self.deadline):
                while time.monotonic() < self.deadline:
                    kind, v = self._once(x_at, dps)
                    if kind != "imprecise":
                        self.dps = dps
                        return kind, v
                    if dps >= _PMAX:
                        break
                    dps = min(2 * dps, _PMAX)
        except (Overflow, ZeroDivisionError, OverflowError, ValueError, TypeError, _OutOfTime):
            pass
        return "lost", None

    def _once(self, x_at: Callable[[int], mpmath.mpf], dps: int) -> tuple[str, Any]:
        if self.iv is not None:
            try:
                with mpmath.workdps(dps), iv_dps(dps):
                    v = self.iv(mpmath.iv.mpf(x_at(dps)))
                if mpmath.isinf(v.a) or mpmath.isinf(v.b):  # more digits cannot help (an
                    return "lost", None  # exponent past 1e24 leaves only a bound)
                if v.a > _BIG or v.b < -_BIG:  # astronomically large: its bound nearest 0
                    return "ok", mpmath.mpf(v.a if v.a > _BIG else v.b)
                width, mid = v.delta, abs(v.mid)
                if width <= _REL * mid or width <= mpmath.mpf("1e-320"):
                    return "ok", mpmath.mpf(v.mid)
                return "imprecise", None
            except NotReal:
                pass
        with mpmath.workdps(2 * dps):
            x = x_at(2 * dps)
            fine = self.mp(x)
        with mpmath.workdps(dps):
            coarse = self.mp(x)
        kind = "ok"
        if isinstance(fine, mpmath.mpc):
            if abs(fine.imag) > mpmath.mpf(10) ** (-dps // 2) * max(1, abs(fine.real)):
                kind = "complex"
            else:
                fine, coarse = fine.real, mpmath.re(coarse)
        if mpmath.isnan(fine):
            return "lost", None
        if abs(fine - coarse) <= _REL * abs(fine) or fine == coarse:
            return kind, fine
        return "imprecise", None


def _at(point: sp.Expr, sign: int, step: Any) -> Callable[[int], mpmath.mpf]:
    """``x_at(dps)``: the sample at distance ``1/step`` from the point (``step`` towards oo)."""
    def x_at(dps: int) -> mpmath.mpf:
        with mpmath.workdps(dps + 10):
            if point.is_infinite:
                return sign * mpmath.mpf(step)
            return mpmath.mpf(sp.N(point, dps + 10)) + sign / mpmath.mpf(step)
    return x_at


def _steps(offset: float, ratio: float, count: int) -> list[Any]:
    return [mpmath.mpf(offset) * mpmath.mpf(ratio) ** j for j in range(1, count + 1)]


def _far_steps() -> list[Any]:
    return [mpmath.mpf(10) ** (2**k) for k in _FAR]


def _sample(sampler: _Sampler, point: sp.Expr, sign: int,
            steps: list[Any]) -> tuple[list[Any], str, tuple]:
    """The run of accurate values nearest the point (all real, or all complex), a note, and
    ``(first, last, lost)``: the steps of the run's ends and of the first sample lost after
    it (None when none was)."""
    run: list[Any] = []
    run_kind = ""
    lost, first, last, lost_at = 0, None, None, None
    for step in steps:
        if time.monotonic() > sampler.deadline:
            break
        kind, v = sampler.value(_at(point, sign, step))
        if kind in ("ok", "complex"):
            if kind != run_kind:  # a far-away stretch of the other kind does not count
                run, run_kind, first = [], kind, step
            run.append(v)
            last, lost, lost_at = step, 0, None
        else:
            lost += 1
            lost_at = step if lost_at is None else lost_at
            if lost >= 3 and run:  # precision exhausted towards the point: use what we have
                break
    note = "" if run else "the expression could not be evaluated near the point"
    return run, note, (first, last, lost_at)


def _huge_trend(values: list[Any]) -> float | None:
    """+-inf when the last values are astronomically large, of one sign and growing."""
    tail = values[-3:]
    if len(tail) < 3 or not all(abs(v) > _BIG for v in tail):
        return None
    signs = {mpmath.sign(v) for v in tail}
    if len(signs) != 1 or not (abs(tail[0]) <= abs(tail[1]) <= abs(tail[2])):
        return None
    return math.inf if signs == {1} else -math.inf


def _sublinear_remainder(tail: list[float]) -> float:
    """What the steps ``d_k ~ C k**-p`` still add after the last one, ``d_n n / (p - 1)``
    (``inf`` for ``p < 1.6``: convergence like ``1/log(x)**0.6`` in the distance or slower,
    where ``exp(1 + log(log(log(x)))/log(log(x)))`` still moves by 1 beyond ``x = 1e15``)."""
    d = np.abs(np.diff(np.asarray(tail, dtype=float)))
    k = np.arange(1, d.size + 1, dtype=float)
    half = slice(d.size // 2, None)
    keep = d[half] > 0
    if keep.sum() < 3:
        return math.inf
    p = -np.polyfit(np.log(k[half][keep]), np.log(d[half][keep]), 1)[0]
    return float(d[-1] * d.size / (p - 1)) if p >= 1.6 else math.inf


def _explosive(values: list[Any]) -> float | None:
    """+-inf when the last four values have one sign and each step multiplies them by a
    growing factor of at least 10 (``exp(exp(x))`` over a short range)."""
    tail = values[-4:]
    if len(tail) < 4 or len({mpmath.sign(v) for v in tail}) != 1 or tail[0] == 0:
        return None
    factors = [abs(tail[i + 1] / tail[i]) for i in range(3)]
    if factors[0] >= 10 and factors[0] < factors[1] < factors[2]:
        return math.inf if tail[0] > 0 else -math.inf
    return None


def _analyse(values: list[Any], dense: bool = False) -> tuple[str, float, float, str, Any]:
    """(kind, value, error, note, report) of one sequence of samples. A dense sequence over
    a short range (its ratio near 1) may give a value or astronomically large values, but
    not a verdict of divergence: slow convergence looks the same there."""
    if values and isinstance(values[0], mpmath.mpc):
        return _analyse_complex(values, dense)
    if dense:
        return _analyse_dense(values)
    trend = _huge_trend(values)
    if trend is not None:
        return "inf", trend, 0.0, "the values grow without bound", None
    floats = [float(v) if abs(v) <= _BIG else math.copysign(math.inf, float(mpmath.sign(v)))
              for v in values]
    last_bad = max((i for i, v in enumerate(floats) if not math.isfinite(v)), default=-1)
    tail = floats[last_bad + 1:]
    if len(tail) < _MIN_SAMPLES:
        settled = len(tail) >= 4 and analyze_sequence(tail)
        if settled and settled.converged and settled.pattern in ("constant", "settled"):
            v = float(settled.limit)
            return "value", v, max(float(settled.limit_error), 1e-15 * abs(v)), \
                settled.reason, settled
        return "none", math.nan, math.nan, "too few accurate samples near the point", None
    rep = analyze_sequence(tail)
    if rep.converged:
        err = max(float(rep.limit_error), 1e-15 * abs(rep.limit))
        if rep.order == "sublinear":  # extrapolating slow convergence: trust only the values
            remaining = _sublinear_remainder(tail)
            if not math.isfinite(remaining):
                return "none", math.nan, math.nan, (
                    "the values change too slowly (like a power of log x or slower) to "
                    "extrapolate"), rep
            err = max(err, abs(tail[-1] - float(rep.limit)), remaining)
        shorter = analyze_sequence(tail[: max(_MIN_SAMPLES, 3 * len(tail) // 4)])
        if shorter.converged:  # an extrapolation that drifts with the data is not settled
            err = max(err, abs(float(shorter.limit) - float(rep.limit)))
        return "value", float(rep.limit), err, rep.reason, rep
    if math.isinf(rep.limit):
        return "inf", float(rep.limit), 0.0, rep.reason, rep
    kind = "dne" if rep.pattern in ("diverging", "oscillating", "irregular") else "none"
    return kind, math.nan, math.nan, rep.reason, rep


def _analyse_dense(values: list[Any]) -> tuple[str, float, float, str, Any]:
    """A dense sequence over a short range: a value, or growth to +-inf only when the values
    do not also fall by an astronomical factor inside the range (such a turn, as in
    ``exp(exp(exp(x)/(1 - 1/x))) - exp(exp(exp(x)/(1 - 1/log(x)**log(x) - 1/x)))`` for
    x < 4, says the asymptotic behaviour has not been reached: that one goes to -oo)."""
    kind, value, err, note, rep = _analyse(values)
    if kind == "value":
        return kind, value, err, note, rep
    sizes = [abs(v) for v in values]
    if not any(a > _BIG * b for a, b in zip(sizes, sizes[1:])):
        trend = _huge_trend(values)
        if trend is not None:
            return "inf", trend, 0.0, "the values grow without bound", None
        explosive = _explosive(values)
        if explosive is not None:
            return "inf", explosive, 0.0, "the values grow faster and faster", rep
    return "none", math.nan, math.nan, (
        "the values could only be computed over a short range and do not settle there"), rep


def _analyse_complex(values: list[Any], dense: bool) -> tuple[str, float, float, str, Any]:
    """Complex samples whose imaginary part vanishes: ``sqrt(x)`` as x -> 0 from the left."""
    re_part = _analyse([mpmath.re(v) for v in values], dense)
    im_part = _analyse([mpmath.im(v) for v in values], dense)
    if re_part[0] == im_part[0] == "value" and abs(im_part[1]) <= max(
            10 * im_part[2], 1e-12 * max(1.0, abs(re_part[1]))):
        err = max(re_part[2], abs(im_part[1]), im_part[2])
        return "value", re_part[1], err, "the imaginary part of the values vanishes", None
    return "none", math.nan, math.nan, "the expression is not real on this side of the point", None


def _combine(a: tuple, b: tuple) -> tuple[str, float, float, str]:
    (ka, va, ea, na, _), (kb, vb, eb, nb, _) = a, b
    if ka == kb == "value":
        scale = max(1.0, abs(va))
        gap = abs(va - vb)
        if gap <= max(1e-8 * scale, 10 * max(ea, eb)):
            best = (va, ea) if ea <= eb else (vb, eb)
            return "value", best[0], max(best[1], gap), na
        return "dne", math.nan, math.nan, (
            f"two sample sequences approach different values ({va:.10g} and {vb:.10g})")
    if ka == kb == "inf" and va == vb:
        return "inf", va, 0.0, na
    if "dne" in (ka, kb):
        return "dne", math.nan, math.nan, na if ka == "dne" else nb
    if ka == "value" and kb == "none" and ea < 1e-3 * max(1.0, abs(va)):
        return "value", va, ea, na
    if kb == "value" and ka == "none" and eb < 1e-3 * max(1.0, abs(vb)):
        return "value", vb, eb, nb
    return "none", math.nan, math.nan, na if ka == "none" else nb


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _far_check(sampler: _Sampler, point: sp.Expr, sign: int,
               first: tuple[str, float, float, str]) -> tuple[str, float, float, str]:
    """Re-judge an infinite or undecided answer from super-geometric distances."""
    if not (point.is_infinite or point == 0):
        return first
    values, _, _ = _sample(sampler, point, sign, _far_steps())
    if len(values) < 5:
        return first
    far = _analyse(values)
    kind = first[0]
    if kind == "value":  # a slowly settling value: the far samples bound its error
        if far[0] == "value":
            return "value", first[1], max(first[2], abs(far[1] - first[1])), first[3]
        if far[0] == "inf":
            return "none", math.nan, math.nan, ("the values seem to settle near the point "
                                                "but grow without bound further out")
        if isinstance(values[-1], mpmath.mpc):
            return first
        last = float(values[-1]) if abs(values[-1]) <= _BIG else math.inf
        if not abs(last - first[1]) <= first[2]:  # still moving beyond the error estimate
            return "none", math.nan, math.nan, (
                f"the values seem to settle near {_fmt(first[1])} but are still "
                f"{_fmt(last)} far closer to the point")
        return first
    if far[0] == "value" and far[2] <= 1e-6 * max(1.0, abs(far[1])):
        return "value", far[1], far[2], f"at super-geometric distances: {far[3]}"
    if kind == "inf":
        big = [abs(v) for v in values[-5:]]
        growing = all(big[i] <= big[i + 1] for i in range(len(big) - 1))
        if not growing and not all(v > _BIG for v in big):
            return "none", math.nan, math.nan, (
                "the values grow over the usual range but fall again far closer to the point")
    return first


def _runs(sampler: _Sampler, point: sp.Expr, sign: int, start: float,
          span: float) -> list[tuple[list[Any], bool]]:
    """The two sequences' runs of accurate values; when a run is short because the samples
    beyond some distance are lost (an exponent past ``exp(1e24)``, cancellation beyond 960
    digits), it is replaced by a denser geometric sequence over the range that can be
    evaluated (``exp(exp(exp(x)))*exp(-exp(exp(x - exp(-exp(x)))))`` is only computable for
    x < 4: the ratio-2 sequence has two samples there, the dense one a dozen)."""
    found = []
    for (offset, ratio, count), share in zip(_SEQUENCES, _SHARES):
        sampler.deadline, sampler.dps = start + share * span, _P0
        found.append(_sample(sampler, point, sign, _steps(offset, ratio, count)))
    runs = [(values, False) for values, _, _ in found]
    if all(len(r) >= _DENSE_BELOW for r, _ in runs) or not any(r for r, _ in runs):
        return runs
    ranges = [where for values, _, where in found if values]
    lo = min(first for first, _, _ in ranges)
    hi = max(lost if lost is not None else last * 3 for _, last, lost in ranges)
    for i, ((count, shift), share) in enumerate(zip(_DENSE, _DENSE_SHARES)):
        if len(runs[i][0]) >= _DENSE_BELOW:
            continue
        q = (hi / lo) ** (mpmath.mpf(1) / count)
        sampler.deadline, sampler.dps = start + share * span, _P0
        dense, _, _ = _sample(sampler, point, sign, [lo * q ** (j + shift)
                                                     for j in range(count + 1)])
        if len(dense) > len(runs[i][0]):
            runs[i] = (dense, True)
    return runs


def _one_side(expr: sp.Expr, var: sp.Symbol, point: sp.Expr, side: str,
              deadline: float) -> tuple[str, float, float, str]:
    sampler = _Sampler(expr, var, deadline)
    sign = (1 if point == sp.oo else -1) if point.is_infinite else (1 if side == "+" else -1)
    start = time.monotonic()
    runs = _runs(sampler, point, sign, start, deadline - start)
    if not all(values for values, _ in runs):
        return "none", math.nan, math.nan, "the expression could not be evaluated near the point"
    first = _combine(*[_analyse(values, dense) for values, dense in runs])
    sampler.deadline = deadline
    slow = first[0] == "value" and first[2] > 1e-9 * max(1.0, abs(first[1]))
    if (first[0] in ("inf", "none", "dne") or slow) and time.monotonic() < deadline:
        return _far_check(sampler, point, sign, first)
    return first


def numeric_sides(expr: sp.Expr, var: sp.Symbol, point: sp.Expr, sides: tuple,
                  budget: float | None) -> dict[str, tuple[str, float, float, str]]:
    """``{side: (kind, value, error, note)}``, kind in value | inf | dne | none.

    Runs in the timeout child of :func:`symcalc.limit`; ``budget`` seconds are shared by the
    sides (samples not reached in time are simply not used).
    """
    start = time.monotonic()
    total = math.inf if budget is None else 0.9 * budget
    out = {}
    for i, side in enumerate(sides):
        deadline = start + total * (i + 1) / len(sides)
        with np.errstate(all="ignore"):
            out[side] = _one_side(expr, var, point, side, deadline)
    return out

