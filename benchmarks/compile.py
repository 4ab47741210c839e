"""The compile path: value_and_grad per backend, derive+compile time, chunk size, peak memory.

Targets (issue 8), on mean logistic loss with 8 features and N = 1,000,000 rows, relative to
hand-written NumPy (2-D ``X``, ``X @ w``, ``logaddexp``, ``expit``, ``X.T @ r``):
numba backend at most 0.35x; derive + compile of a 256-parameter logistic loss over polynomial
features under 1 s with SymEngine. Candidates run interleaved, round after round, so load
from other processes hits all of them alike; the table shows medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ._util import have, table


def _race(cands: dict[str, Callable[[], Any]], rounds: int, burst: int = 5,
          pause: float = 0.3) -> dict[str, float]:
    """Seconds per call for each candidate: in each of ``rounds`` rounds every candidate runs
    a burst (a pause, one warm-up call, then the median of ``burst`` calls); the result is the
    median over rounds. Bursts after a pause, not single interleaved calls: a library's
    worker threads keep spinning after its calls (OpenBLAS measured here: the numba kernel
    right after ``X @ w`` ran at half speed, its second core taken) and would slow the next
    candidate; rounds spread the load of other processes over everyone."""
    per_round: dict[str, list[float]] = {k: [] for k in cands}
    for _ in range(rounds):
        for name, fn in cands.items():
            time.sleep(pause)
            fn()
            times = []
            for _ in range(burst):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            per_round[name].append(statistics.median(times))
    return {k: statistics.median(v) for k, v in per_round.items()}


def _logistic(n: int, features: int, seed: int = 0) -> dict[str, Any]:
    import sympy as sp

    import symcalc as sc

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    ws, xs = sp.symbols(f"w0:{features}"), sp.symbols(f"x0:{features}")
    ys = sp.Symbol("y")
    expr = sp.log(1 + sp.exp(-ys * sum(a * b for a, b in zip(ws, xs))))
    loss = sc.Loss(expr, params=ws, data=[*xs, ys])
    data = {f"x{i}": np.ascontiguousarray(X[:, i]) for i in range(features)}
    data["y"] = y
    theta = 0.3 * rng.normal(size=features)
    return {"X": X, "y": y, "loss": loss, "data": data, "theta": theta, "ws": ws, "xs": xs, "ys": ys}


def _hand(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    from scipy.special import expit

    m = -y * (X @ w)
    r = -y * expit(m)
    return float(np.logaddexp(0, m).mean()), X.T @ r / len(y)


def _peers(p: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """Value-and-gradient closures for optional peers (JAX, PyTorch) when installed."""
    out: dict[str, Callable[[], Any]] = {}
    if have("jax"):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        Xj, yj = jnp.asarray(p["X"]), jnp.asarray(p["y"])
        vg = jax.jit(jax.value_and_grad(lambda w: jnp.mean(jnp.logaddexp(0.0, -yj * (Xj @ w)))))
        wj = jnp.asarray(p["theta"])
        out["JAX jit (float64)"] = lambda: jax.block_until_ready(vg(wj))
    if have("torch"):
        import torch

        Xt, yt = torch.from_numpy(p["X"]), torch.from_numpy(p["y"])

        def torch_vg() -> Any:
            w = torch.tensor(p["theta"], requires_grad=True)
            v = torch.nn.functional.softplus(-yt * (Xt @ w)).mean()
            v.backward()
            return v.item(), w.grad

        out["PyTorch eager"] = torch_vg
    return out


def _value_and_grad_table(quick: bool) -> str:
    import sympy as sp

    n = 50_000 if quick else 1_000_000
    p = _logistic(n, 8)
    loss, data, theta, X, y = p["loss"], p["data"], p["theta"], p["X"], p["y"]
    cands: dict[str, Callable[[], Any]] = {"hand-written NumPy": lambda: _hand(X, y, theta)}
    compile_s: dict[str, float] = {}
    f = loss.compile()
    P = f.prepare(data)
    compile_s["symcalc numpy"] = f.compile_time
    cands["symcalc numpy"] = lambda: f.evaluate(theta, P)
    if have("numba"):
        g = loss.compile(backend="numba")
        Pg = g.prepare(data)
        compile_s["symcalc numba"] = g.compile_time
        cands["symcalc numba"] = lambda: g.evaluate(theta, Pg)
    args = [p["ws"], p["xs"], p["ys"]]
    exprs = [loss.expr, *loss.gradient(form="raw")]
    cols = [data[f"x{i}"] for i in range(8)]
    for cse in (False, True):
        start = time.perf_counter()
        lam = sp.lambdify(args, exprs, "numpy", cse=cse)
        compile_s[f"sympy.lambdify cse={cse}"] = time.perf_counter() - start
        cands[f"sympy.lambdify cse={cse}"] = (
            lambda lam=lam: [np.mean(o) for o in lam(theta, cols, y)]
        )
    cands.update(_peers(p))
    cands["streaming read (floor)"] = lambda: X.sum() + y.sum()
    med = _race(cands, 2 if quick else 5, pause=0.02 if quick else 0.3)
    base, floor = med["hand-written NumPy"], med["streaming read (floor)"]
    rows = [
        (name, t * 1e3, t / base, t / floor, compile_s.get(name, "-"),
         "<= 0.35" if name == "symcalc numba" else "")
        for name, t in med.items()
    ]
    header = ("implementation", "ms", "x hand NumPy", "x floor", "compile s", "target")
    return table(f"Mean logistic value_and_grad, 8 features, N = {n:,}", header, rows)


def _poly_loss(p: int) -> Any:
    import sympy as sp

    import symcalc as sc

    k = int(round(p**0.5))
    x1, x2, y = sp.symbols("x1 x2 y")
    ws = sp.symbols(f"w0:{p}")
    z = sp.Add(*[ws[i * k + j] * x1**i * x2**j for i in range(k) for j in range(k)])
    return sc.Loss(sp.log(1 + sp.exp(-y * z)), params=ws, data=[x1, x2, y])


def _derive_compile_table(quick: bool) -> str:
    from sympy.core.cache import clear_cache

    from symcalc.codegen import symengine_bridge as _symengine

    sizes = (4, 16) if quick else (4, 16, 64, 256)
    rows = []
    saved = _symengine.ENABLED
    try:
        for p in sizes:
            row: list[Any] = [p]
            for use in (False, True):
                if use and not have("symengine"):
                    row.append("-")
                    continue
                _symengine.ENABLED = use
                clear_cache()
                start = time.perf_counter()
                _poly_loss(p).compile()
                row.append(time.perf_counter() - start)
            row.append("< 1 s (256, SymEngine)" if p == 256 else "")
            rows.append(tuple(row))
    finally:
        _symengine.ENABLED = saved
    header = ("parameters", "SymPy s", "SymEngine s", "target")
    return table("Derive + compile: logistic loss over polynomial features of (x1, x2)", header, rows)


def _chunk_table(quick: bool) -> str:
    n = 50_000 if quick else 1_000_000
    p = _logistic(n, 8)
    theta, X, y = p["theta"], p["X"], p["y"]
    cands: dict[str, Callable[[], Any]] = {"hand-written NumPy": lambda: _hand(X, y, theta)}
    for rows in (4096, 16384, 32768, 65536, 262144, n):
        f = p["loss"].compile(chunk_rows=rows)
        P = f.prepare(p["data"])
        cands[f"{rows:,}"] = lambda f=f, P=P: f.evaluate(theta, P)
    med = _race(cands, 1 if quick else 3, pause=0.02 if quick else 0.3)
    base = med.pop("hand-written NumPy")
    out = [(k, v * 1e3, v / base) for k, v in med.items()]
    return table(f"NumPy backend chunk_rows (value_and_grad, N = {n:,})",
                 ("chunk_rows", "ms", "x hand NumPy"), out)


_MEMORY_CHILD = r"""
import json, resource, sys, tracemalloc
import numpy as np
sys.path.insert(0, sys.argv[3])
from benchmarks.compile import _logistic, _hand
n, which = int(sys.argv[1]), sys.argv[2]
p = _logistic(n, 8)
if which == "hand":
    X = p["X"]; run = lambda: _hand(X, p["y"], p["theta"])
else:
    del p["X"]
    f = p["loss"].compile(backend=which)
    P = f.prepare(p["data"])
    run = lambda: f.evaluate(p["theta"], P)
run()  # warm-up (numba threads, lazily built kernels)
tracemalloc.start()
run()
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
data_mb = sum(c.nbytes for c in p["data"].values()) if "data" in p else p["X"].nbytes + p["y"].nbytes
print(json.dumps({"data_mb": data_mb / 2**20, "extra_mb": peak / 2**20, "rss_mb": rss / 1024}))
"""


def _memory_table(quick: bool) -> str:
    n = 200_000 if quick else 10_000_000
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for which in ("hand", "numpy", "numba"):
        if which == "numba" and (quick or not have("numba")):
            continue  # (quick: a second numba compile in the child would double the run time)
        res = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(n), which, root],
                             capture_output=True, text=True, check=True)
        info = json.loads(res.stdout.strip().splitlines()[-1])
        name = "hand-written NumPy" if which == "hand" else f"symcalc {which}"
        rows.append((name, info["data_mb"], info["extra_mb"], info["rss_mb"]))
    return table(f"Memory of one value_and_grad call, N = {n:,}, 8 features (MB; extra = "
                 "tracemalloc peak of NumPy allocations during the call)",
                 ("implementation", "data", "extra during call", "process peak RSS"), rows)


def run(quick: bool) -> str:
    parts = [_value_and_grad_table(quick), _derive_compile_table(quick), _chunk_table(quick),
             _memory_table(quick)]
    return "\n".join(parts)
