"""Executing generated source: one namespace per source text, registered with linecache.

The generated module is kept as text and registered with :mod:`linecache` under a
``<symcalc-generated-...>`` file name, so tracebacks show the generated lines. Only code
printed by symcalc's own printers is ever executed here (never user text), and only after
:func:`symcalc._safety.compile_generated` has checked every name in it. A namespace and its
linecache lines live as long as their owner (a CompiledLoss or ElementwiseFunction: see
:func:`own`).
"""

from __future__ import annotations

import collections
import itertools
import linecache
import math
import types
import weakref
from typing import Any

import numpy as np

from .._safety import compile_generated
from ..errors import NonFiniteError

__all__ = ["exec_source", "full", "logsumexp", "overflow_error", "own", "NAMESPACES"]

_counter = itertools.count()

#: Generated sources already executed in this process, by (backend, source), and how many
#: live owners (CompiledLoss, ElementwiseFunction) use each; an entry and its linecache
#: lines go when the last owner does (entries made for a bare Kernel, e.g. on a Dask worker,
#: have no owner and stay).
NAMESPACES: dict[tuple[str, str], dict[str, Any]] = {}
_OWNERS: collections.Counter[tuple[str, str]] = collections.Counter()


def own(owner: object, key: tuple[str, str], namespace: dict[str, Any]) -> None:
    """Keep ``namespace`` (cached under ``key``) and its linecache entry while ``owner`` lives."""
    NAMESPACES.setdefault(key, namespace)
    _OWNERS[key] += 1
    weakref.finalize(owner, _release, key, namespace["__file__"])


def _release(key: tuple[str, str], filename: str) -> None:
    linecache.cache.pop(filename, None)
    _OWNERS[key] -= 1
    if _OWNERS[key] <= 0:
        del _OWNERS[key]
        gone = NAMESPACES.pop(key, None)
        if gone is not None:
            linecache.cache.pop(gone["__file__"], None)


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
    import scipy  # its submodules (scipy.special) load when the generated code first uses them

    filename = f"<symcalc-generated-{tag}-{next(_counter)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {
        "__file__": filename,  # released with the owner's namespace (see own)
        "numpy": np,
        "scipy": scipy,
        "math": math,
        "_full": full,
        "_logsumexp": logsumexp,
        **(extra or {}),
    }
    # every name checked before anything runs (modules given in ``extra``, e.g. the exports'
    # jnp or torch, may be used like numpy)
    modules = [k for k, v in (extra or {}).items() if isinstance(v, types.ModuleType)]
    code = compile_generated(source, filename, modules)
    exec(code, namespace)  # noqa: S102 - our own generated code, audited above
    return namespace


def overflow_error(exc: OverflowError) -> NonFiniteError:
    """Python-float constants of the generated code (e.g. ``math.pi**4000``) raise
    OverflowError instead of giving inf: report that as a NonFiniteError."""
    return NonFiniteError(f"a constant in the loss overflows float64 ({exc}); rescale the formula")
