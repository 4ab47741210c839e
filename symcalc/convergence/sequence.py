"""Numeric convergence of sequences: the one stopping rule and the sequence report.

:func:`check_convergence` is the cheap test optimizers call every iteration;
:func:`analyze_sequence` looks at the whole tail of a sequence and says whether it converges,
how fast (rate and order), to what extrapolated limit, and whether it oscillates or diverges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import as_float_array, check_int, check_positive, describe
from ..errors import DataError, SymcalcError
from ..results import Result
from ._extrapolate import aitken, levin_u, wynn_epsilon

__all__ = ["check_convergence", "analyze_sequence", "SequenceReport"]

_EPS = float(np.finfo(float).eps)
_TAIL = 40  # differences looked at for rates and trends


def check_convergence(
    values: Any,
    tol: float = 1e-5,
    window: int = 2,
    rtol: float = 0.0,
    *,
    tolerance: float | None = None,
) -> bool:
    """The stopping rule: have the last ``window`` steps all moved less than the tolerance?

    True when each of the last ``window`` successive differences satisfies
    ``|v[i] - v[i-1]| <= tol + rtol * |v[i]|``. Only the last ``window + 1`` values are read
    (O(window) work), so it is cheap enough to call every iteration.

    Parameters
    ----------
    values : sequence of float
        The history so far (list, tuple, 1-D NumPy array or pandas Series).
    tol : float, default 1e-5
        Absolute tolerance, ``>= 0``.
    window : int, default 2
        How many consecutive steps must all be small, ``>= 1``: the last ``window + 1``
        values are compared pairwise, so ``window=2`` needs two small steps in a row (one
        accidentally small step, e.g. where an oscillation turns, is not enough) and
        ``window=1`` only the last step. Larger windows guard against slow drifts that pause.
    rtol : float, default 0.0
        Relative tolerance, ``>= 0``, scaled by the magnitude of the newer value.
    tolerance : float, optional
        Another name for ``tol`` (``check_convergence(values, tolerance=1e-6)``); give one
        of the two.

    Returns
    -------
    bool
        False when there are fewer than ``window + 1`` values or when any of them is NaN or
        infinite (a diverged run never counts as converged).

    Raises
    ------
    SymcalcError
        Negative or non-finite ``tol``/``rtol``, ``window < 1``, or non-numeric values.

    Examples
    --------
    >>> check_convergence([1.0, 0.5, 0.25, 0.2500001, 0.25000015], tol=1e-5)
    True
    >>> check_convergence([1.0, 0.5], tol=1e-5)
    False
    >>> check_convergence([1.0, 1.0 + 1e-6, 1.0], tolerance=1e-6, window=1)
    True
    """
    if tolerance is not None:
        if tol != 1e-5:
            raise SymcalcError(
                f"give the tolerance once: tol={tol!r} and tolerance={tolerance!r} were both "
                "passed (tolerance is another name for tol)"
            )
        tol = tolerance
    if not (type(tol) is float and tol >= 0.0 and tol != math.inf):
        tol = check_positive(tol, "tol", allow_zero=True)
    if not (type(rtol) is float and rtol >= 0.0 and rtol != math.inf):
        rtol = check_positive(rtol, "rtol", allow_zero=True)
    if type(window) is not int or window < 1:
        window = check_int(window, "window", minimum=1)
    need = window + 1
    if isinstance(values, (str, bytes)):
        raise DataError(f"values must be a sequence of numbers; got the string {describe(values)}")
    try:
        tail = values.iloc[-need:] if hasattr(values, "iloc") else values[-need:]
    except (TypeError, KeyError):  # deques, generators and other iterables
        tail = list(values)[-need:]
    if len(tail) < need:
        return False
    prev = None
    for item in tail:
        try:
            value = float(item)
        except (TypeError, ValueError):
            raise DataError(
                f"values must be a 1-D sequence of numbers; found {describe(item)}"
            ) from None
        if not math.isfinite(value):
            return False
        if prev is not None and abs(value - prev) > tol + rtol * abs(value):
            return False
        prev = value
    return True


@dataclass(repr=False, eq=False)
class SequenceReport(Result):
    """What :func:`analyze_sequence` found out about a sequence.

    Attributes
    ----------
    converged : bool
        The values approach a finite limit (or have already settled to rounding).
    limit : float
        Extrapolated limit; ``+inf``/``-inf`` for divergence to infinity, ``nan`` when none.
    error : float
        Estimate of ``|limit - last value|``; ``inf`` when the sequence does not converge.
    rate : float
        Linear rate constant ``|d[k+1] / d[k]|`` of successive differences ``d`` (near 1 for
        sublinear convergence, tiny for superlinear); ``nan`` when not measurable.
    order : float or str
        Order of convergence (about 1 linear, 2 quadratic), ``"sublinear"``, or ``nan``.
    oscillating : bool
        The values alternate around their trend (successive differences change sign).
    diverging : bool
        The values run off (growing differences, or increments that shrink too slowly).
    reason : str
        One sentence explaining the verdict.
    method : str
        How ``limit`` was obtained: ``"wynn-epsilon"``, ``"levin-u"``, ``"aitken"``,
        ``"settled"``, ``"last-value"`` or ``"none"``.
    limit_error : float
        Uncertainty of ``limit`` itself (disagreement of successive extrapolations).
    n : int
        Number of values analyzed.
    pattern : str
        The behaviour found: ``"constant"``, ``"settled"``, ``"superlinear"``, ``"linear"``,
        ``"sublinear"``, ``"oscillating"``, ``"diverging"``, ``"irregular"``,
        ``"undetermined"``, ``"too-few"`` or ``"non-finite"``.
    """

    converged: bool
    limit: float
    error: float
    rate: float
    order: float | str
    oscillating: bool
    diverging: bool
    reason: str
    method: str = "none"
    limit_error: float = math.inf
    n: int = 0
    pattern: str = ""


@dataclass
class _Dynamics:
    kind: str  # superlinear | linear | sublinear | oscillating | diverging | undetermined | few
    alternating: bool = False
    irregular: bool = False
    rate: float = math.nan
    order: float | str = math.nan
    power: float = math.nan  # p in |d_k| ~ k**-p
    growth: float = math.nan  # median ratio when growing
    amplitude: float = math.nan  # last |d|


def analyze_sequence(values: Any) -> SequenceReport:
    """Analyze a sequence: does it converge, to what, how fast, does it oscillate or diverge?

    The successive differences ``d[k]`` of the tail are classified: growing (diverging),
    alternating without shrinking (oscillating), shrinking geometrically (linear, rate
    ``|d[k+1]/d[k]|``), faster (superlinear, order ``q`` from ``log|d[k+1]/d[k]| /
    log|d[k]/d[k-1]|``) or like a power ``k**-p`` (sublinear). The limit is extrapolated with
    the transform that suits the class: Wynn's epsilon (linear, alternating), Levin's u
    (monotone sublinear) or the last value plus the next-step bound (superlinear). Differences
    at rounding level count as "settled". The reported ``error`` is never smaller than what the
    last step implies, so an unsettled sequence cannot report a near-zero error.

    Parameters
    ----------
    values : array-like of shape (n,)
        The sequence, e.g. a loss history or iterates; NaN and inf are allowed (reported).

    Returns
    -------
    SequenceReport
        Fields ``converged, limit, error, rate, order, oscillating, diverging, reason`` and
        ``method, limit_error, n``.

    Raises
    ------
    SymcalcError
        Empty, non-numeric or multi-dimensional input.

    Examples
    --------
    >>> r = analyze_sequence([0.5 ** k for k in range(30)])
    >>> r.converged, round(r.rate, 6), round(r.order, 6), abs(r.limit) < 1e-12
    (True, 0.5, 1.0, True)
    >>> analyze_sequence([(-1) ** k for k in range(20)]).oscillating
    True
    """
    x = as_float_array(values, "values", finite=False)
    n = int(x.size)
    bad = ~np.isfinite(x)
    if bad.any():
        return _nonfinite_report(x, bad)
    if n < 3:
        return SequenceReport(
            False, math.nan, math.inf, math.nan, math.nan, False, False,
            f"At least 3 values are needed to judge convergence; got {n}.", n=n,
            pattern="too-few",
        )
    # Values near the float64 limit can overflow intermediate steps (x - y, 2 * |d|): those
    # are judged by the rules below on inf, never reported as RuntimeWarnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _analyze_finite(x, n)


def _analyze_finite(x: np.ndarray, n: int) -> SequenceReport:
    d = np.diff(x)
    if not np.isfinite(d).all():  # steps beyond float64 (values of both signs near 1e308):
        j = int(np.flatnonzero(~np.isfinite(d))[-1]) + 1  # judge the tail after the last one
        report = analyze_sequence(x[j:])
        report.n = n
        report.reason += (f" (Values up to index {j - 1} were skipped: the step before "
                          "index {j} overflows float64.)").replace("{j}", str(j))
        return report
    noise = 4 * _EPS * np.maximum(np.abs(x[:-1]), np.abs(x[1:])) + 1e-300
    significant = np.flatnonzero(np.abs(d) > noise)
    if significant.size == 0:
        return SequenceReport(
            True, float(x[-1]), 0.0, 0.0, math.nan, False, False,
            f"All {n} values are equal up to rounding: the sequence is constant at {x[-1]:.12g}.",
            method="settled", limit_error=0.0, n=n, pattern="constant",
        )
    last = int(significant[-1])
    flat = d.size - 1 - last  # trailing differences at rounding level
    dyn = _dynamics(d[: last + 1], noise[: last + 1])
    converging_kinds = ("superlinear", "linear", "sublinear")
    if flat >= 2 or (flat == 1 and dyn.kind in converging_kinds):
        return _settled_report(x, flat, dyn, float(noise[-1]))
    return _report_from_dynamics(x, d, dyn, float(noise[-1]))


def _exp(v: float) -> float:
    """``exp`` that overflows to inf instead of raising (rates of wildly growing steps)."""
    return math.exp(v) if v < 709.0 else math.inf


def _fit_slope(u: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of v on u and the RMS residual."""
    if u.size < 2 or np.ptp(u) == 0:
        return math.nan, math.inf
    slope, intercept = np.polyfit(u, v, 1)
    resid = v - (slope * u + intercept)
    return float(slope), float(np.sqrt(np.mean(resid**2)))


def _dynamics(d: np.ndarray, noise: np.ndarray) -> _Dynamics:
    """Classify the tail of the successive differences ``d`` (the last one is significant)."""
    m = d.size
    if m < 2:
        return _Dynamics("few")
    tail = d[-_TAIL:]
    k = np.arange(m - tail.size, m, dtype=float) + 1.0
    size = np.maximum(np.abs(tail), noise[-tail.size :])
    logs = np.log(size)
    log_ratio = np.diff(logs)
    reliable = np.abs(tail) > 100 * noise[-tail.size :]
    signs = np.sign(tail[tail != 0])[-13:]
    alt_frac = float(np.mean(signs[1:] != signs[:-1])) if signs.size > 1 else 0.0
    alternating = alt_frac >= 0.8
    irregular = 0.2 < alt_frac < 0.8
    recent = log_ratio[-6:]
    median_lr = float(np.median(recent))
    power, res_pow = _fit_slope(np.log(k), logs)
    geo, res_geo = _fit_slope(k, logs)
    power = -power if math.isfinite(power) else math.nan
    if tail.size < 4:  # too few points for a fit: endpoint estimate
        power = -float((logs[-1] - logs[0]) / (math.log(k[-1]) - math.log(k[0])))
    dyn = _Dynamics("undetermined", alternating, irregular, power=power,
                    amplitude=float(abs(tail[-1])))
    if median_lr > math.log(1.05) and size[-1] > 2 * size[0]:
        dyn.kind, dyn.growth, dyn.rate = "diverging", _exp(median_lr), _exp(median_lr)
        return dyn
    order = _superlinear_order(log_ratio, reliable)
    if order is not None:
        dyn.kind, dyn.order, dyn.rate = "superlinear", order, float(_exp(log_ratio[-1]))
        return dyn
    rate = _exp(median_lr)
    shrinking = (power > 0.3) if alternating else (power > 1.1)
    if not shrinking and not (math.isfinite(geo) and _exp(geo) < 0.9 and res_geo < 0.5):
        if alternating:
            dyn.kind = "oscillating"
        elif not irregular and power < 0.9:
            dyn.kind = "diverging"
            dyn.growth = rate
        dyn.rate = rate
        return dyn
    dyn.rate = rate
    if irregular:
        dyn.kind, dyn.rate = "linear", min(_exp(geo), 0.999) if math.isfinite(geo) else rate
        return dyn
    if rate > 0.9 and (res_pow < res_geo or rate > 0.98):
        dyn.kind, dyn.order = "sublinear", "sublinear"
        return dyn
    dyn.kind = "linear"
    q = _order_estimates(log_ratio, reliable)
    dyn.order = float(np.median(q[-3:])) if q.size else 1.0
    return dyn


def _order_estimates(log_ratio: np.ndarray, reliable: np.ndarray) -> np.ndarray:
    """q_k = log|d[k+1]/d[k]| / log|d[k]/d[k-1]| over reliable, shrinking steps."""
    ok = reliable[1:] & reliable[:-1]  # ratio i uses d[i], d[i+1]
    lr = np.where(ok, log_ratio, np.nan)
    prev, nxt = lr[:-1], lr[1:]
    use = np.isfinite(prev) & np.isfinite(nxt) & (prev < -0.01)
    return nxt[use] / prev[use]


def _superlinear_order(log_ratio: np.ndarray, reliable: np.ndarray) -> float | None:
    q = _order_estimates(log_ratio, reliable)
    if q.size == 0 or log_ratio[-1] > math.log(0.5):
        return None
    accelerating = log_ratio.size >= 2 and log_ratio[-1] < log_ratio[-2]
    if q.size == 1:
        return float(q[0]) if q[0] > 1.5 and accelerating else None
    last = q[-2:]
    if np.all(last > 1.3) and accelerating:
        return float(np.median(last))
    return None


def _settled_report(x: np.ndarray, flat: int, dyn: _Dynamics, noise: float) -> SequenceReport:
    limit = float(x[-1])
    how = {
        "superlinear": f" after converging with order {_fmt_order(dyn.order)}",
        "linear": f" after converging linearly (rate {dyn.rate:.3g})",
        "sublinear": " after converging sublinearly",
    }.get(dyn.kind, "")
    converging = dyn.kind in ("superlinear", "linear", "sublinear")
    return SequenceReport(
        True, limit, noise, dyn.rate if converging else math.nan,
        dyn.order if converging else math.nan, dyn.alternating and converging, False,
        f"The sequence settled at {limit:.12g}{how}: its last {flat + 1} values agree to "
        "rounding.",
        method="settled", limit_error=noise, n=int(x.size), pattern="settled",
    )


def _fmt_order(order: float | str) -> str:
    return order if isinstance(order, str) else f"≈{order:.3g}"


def _report_from_dynamics(
    x: np.ndarray, d: np.ndarray, dyn: _Dynamics, noise: float
) -> SequenceReport:
    n, last = int(x.size), float(x[-1])
    kind = dyn.kind
    common = dict(n=n)
    if kind == "few":
        return SequenceReport(
            False, math.nan, math.inf, math.nan, math.nan, False, False,
            "Too few changing values to estimate a rate; supply a longer sequence.", **common,
            pattern="too-few",
        )
    if kind == "diverging":
        limit = math.nan if (dyn.alternating or dyn.irregular) else math.copysign(math.inf, d[-1])
        if math.isfinite(dyn.growth) and dyn.growth > 1.05:
            why = f"successive differences grow by a factor ≈{dyn.growth:.3g} per step"
        elif not dyn.power > 0.05:
            why = f"its steps do not shrink (≈{dyn.amplitude:.3g} per step)"
        else:
            why = (f"its steps shrink too slowly (like k^-{max(dyn.power, 0):.2g}) for the "
                   "values to settle")
        where = "" if math.isnan(limit) else f" towards {'+' if limit > 0 else '-'}inf"
        return SequenceReport(
            False, limit, math.inf, dyn.rate, math.nan, dyn.alternating, True,
            f"The sequence diverges{where}: {why}.", **common, pattern="diverging",
        )
    if kind == "oscillating":
        return SequenceReport(
            False, math.nan, math.inf, dyn.rate, math.nan, True, False,
            f"The sequence oscillates without settling: successive differences alternate in "
            f"sign with an amplitude (≈{dyn.amplitude:.3g}) that does not shrink.", **common,
            pattern="oscillating",
        )
    if kind == "undetermined":
        if dyn.irregular:
            why = "its differences change sign irregularly and do not shrink steadily"
        else:
            why = (f"its steps shrink like k^-{dyn.power:.2g}, which cannot tell slow "
                   "convergence from slow divergence (like log k)")
        return SequenceReport(
            False, math.nan, math.inf, dyn.rate, math.nan, False, False,
            f"No limit can be established: {why}.", **common,
            pattern="irregular" if dyn.irregular else "undetermined",
        )
    limit, limit_error, method = _extrapolate(x, d, dyn)
    # Guard: the remaining distance is at least what the last step implies.
    a = min(dyn.rate, 1.0) if math.isfinite(dyn.rate) else 1.0
    floor = 0.5 * abs(float(d[-1])) * a / (1.0 + a)
    error = max(abs(limit - last), limit_error, floor, noise)
    if kind == "superlinear":
        speed = f"with order {_fmt_order(dyn.order)} (superlinear)"
    elif kind == "sublinear":
        speed = f"sublinearly (steps shrink like k^-{dyn.power:.2g})"
    elif dyn.irregular:
        speed = f"irregularly but geometrically (rate ≈{dyn.rate:.3g})"
    else:
        speed = f"linearly (rate {dyn.rate:.3g})"
    alt = " while alternating around its limit" if dyn.alternating else ""
    return SequenceReport(
        True, limit, error, dyn.rate, dyn.order, dyn.alternating, False,
        f"The sequence converges {speed}{alt} to ≈{limit:.10g} ({method}); the last value is "
        f"about {error:.2g} away.",
        method=method, limit_error=limit_error, **common, pattern=kind,
    )


def _extrapolate(x: np.ndarray, d: np.ndarray, dyn: _Dynamics) -> tuple[float, float, str]:
    """Limit estimate, its uncertainty and the method name for a converging sequence."""
    last = float(x[-1])
    if dyn.kind == "superlinear":
        # The next step is at most rate * |last step| (ratios keep shrinking).
        return last, abs(float(d[-1])) * min(dyn.rate, 1.0), "last-value"
    if dyn.irregular:
        r = min(dyn.rate, 0.999)
        return last, abs(float(d[-1])) * r / (1.0 - r), "last-value"
    if dyn.kind == "sublinear" and not dyn.alternating:
        limit, unc = levin_u(x)
        method = "levin-u"
    else:
        limit, unc = wynn_epsilon(x)
        method = "wynn-epsilon"
    if not math.isfinite(limit):
        limit, unc, method = aitken(x), abs(float(d[-1])), "aitken"
    if not math.isfinite(limit):
        limit, unc, method = last, abs(float(d[-1])), "last-value"
    return float(limit), float(unc), method


def _nonfinite_report(x: np.ndarray, bad: np.ndarray) -> SequenceReport:
    first = int(np.flatnonzero(bad)[0])
    found = x[bad]
    has_nan = bool(np.isnan(found).any())
    pos = bool(np.all(found == math.inf))
    neg = bool(np.all(found == -math.inf))
    ends_bad = bool(bad[-1])
    if (pos or neg) and ends_bad:
        limit = math.inf if pos else -math.inf
        reason = (f"The sequence diverges to {'+' if pos else '-'}inf: values[{first}] "
                  f"overflowed to {x[first]} and it stays infinite.")
    elif has_nan:
        limit = math.nan
        reason = (f"values[{first}] is {x[first]} (a broken-down computation such as inf - inf "
                  "or 0/0); no limit can be estimated.")
    else:
        limit = math.nan
        reason = (f"values[{first}] is {x[first]}: the sequence overflowed, so no finite limit "
                  "can be estimated.")
    diverging = bool(np.isinf(found).any())
    return SequenceReport(
        False, limit, math.inf, math.nan, math.nan, False, diverging, reason, n=int(x.size),
        pattern="non-finite",
    )
