"""Display of readable gradients: CPU time for logistic losses of 30, 100 and 300 terms.

For each size the raw gradient is derived first (not timed: that is the derivation every form
shares); then the readable form (pattern search, factoring) and the display (names, groups,
text) are timed, each as a fraction of the one-second budget and as a ratio to printing the raw
gradient with ``str``. CPU time of this thread, so the shared machine's load counts less.
"""

from __future__ import annotations

import time

import sympy as sp

from symcalc.functions import softplus
from symcalc.readable import display, readable_gradient

from ._util import table


def _cpu(fn) -> tuple[float, object]:
    start = time.thread_time()
    out = fn()
    return time.thread_time() - start, out


def _case(n: int) -> list[object]:
    ws, xs = sp.symbols(f"w1:{n + 1}"), sp.symbols(f"x1:{n + 1}")
    b, y = sp.symbols("b y")
    z = sp.Add(*[w * x for w, x in zip(ws, xs)]) + b
    expr = sp.log(1 + sp.exp(z)) - y * z
    params = [*ws, b]
    raw = [sp.diff(expr, p) for p in params]
    t_str, _ = _cpu(lambda: [str(g) for g in raw])
    t_read, entries = _cpu(lambda: readable_gradient(raw))
    fell_back = entries is None
    t_show, shown = _cpu(lambda: str(display(expr, params, entries or raw)))
    lines = len(str(shown).splitlines())
    total = t_read + t_show
    return [n, f"{t_read:.3f}", f"{t_show:.3f}", f"{total:.2f}", f"{total / max(t_str, 1e-9):.2f}x",
            lines, "raw (budget)" if fell_back else "readable"]


def run(quick: bool) -> str:
    sizes = (30, 100) if quick else (30, 100, 300)
    rows = [_case(n) for n in sizes]
    return table(
        "Readable display of a logistic loss with n features (CPU seconds; budget 1 s)",
        ["n terms", "readable form", "display", "total", "vs str(raw)", "lines shown", "form"],
        rows,
    )


if __name__ == "__main__":  # pragma: no cover
    print(run(quick=False))
