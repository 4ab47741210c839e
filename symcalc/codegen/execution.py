"""Executing generated source: one namespace per source text, registered with linecache.

The generated module is kept as text and registered with :mod:`linecache` under a
``<symcalc-generated-...>`` file name, so tracebacks show the generated lines. Only code
printed by symcalc's own printers is ever executed here (never user text).
"""

from __future__ import annotations

import itertools
import linecache
import math
from typing import Any

import numpy as np
import scipy.special

from ..errors import NonFiniteError

__all__ = ["exec_source", "full", "logsumexp", "overflow_error", "NAMESPACES"]

_counter = itertools.count()

#: Generated sources already executed in this process, by (backend, source).
NAMESPACES: dict[tuple[str, str], dict[str, Any]] = {}


def full(n: Any, v: float) -> np.ndarray:
    """``v`` broadcast to ``n`` rows (an elementwise output that is constant)."""
    return np.full(n, v, dtype=np.float64)


def logsumexp(*xs: Any) -> Any:
    """``log(sum(exp(x)))`` of several arrays, with their elementwise maximum subtracted."""
    top = xs[0]
    for x in xs[1:]:
        top = np.maximum(top, x)
    shift = np.where(np.isfinite(top), top, 0.0)
    total = sum(np.exp(x - shift) for x in xs)
    return shift + np.log(total)


def exec_source(source: str, tag: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute generated ``source`` in a fresh namespace with numpy/scipy/math in scope."""
    filename = f"<symcalc-generated-{tag}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {
        "numpy": np,
        "scipy": scipy,
        "math": math,
        "_full": full,
        "_logsumexp": logsumexp,
        **(extra or {}),
    }
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace


def overflow_error(exc: OverflowError) -> NonFiniteError:
    """Python-float constants of the generated code (e.g. ``math.pi**4000``) raise
    OverflowError instead of giving inf: report that as a NonFiniteError."""
    return NonFiniteError(f"a constant in the loss overflows float64 ({exc}); rescale the formula")
