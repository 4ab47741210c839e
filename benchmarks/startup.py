"""Getting started fast: import time, first compile + call (cold and from the disk cache, each in
a new process), numba vs NumPy backend vs hand-written NumPy by size, and the thread crossover.

Targets (issue 16): ``import symcalc`` at most SymPy's import + 0.15 s; ``symcalc --version``
under 0.3 s; first compile + call of a logistic loss with 8 and 31 parameters under 3 s cold
and under 0.5 s from the cache; numba ``value_and_grad`` never slower than the NumPy backend
at N = 569 / 10^4 / 10^6 and at most 0.45x hand-written NumPy at 10^6, default settings.
Processes are timed from outside (wall) and inside (wall and CPU seconds: on a loaded
machine the CPU time is the steadier figure).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ._util import have, table
from .compile import _hand, _logistic, _race

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_IMPORT_CHILD = r"""
import json, sys, time
w0, c0 = time.perf_counter(), time.process_time()
exec(sys.argv[1])
print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}))
"""

_COMPILE_CHILD = r"""
import json, sys, time
import numpy as np, sympy as sp, symcalc as sc
sc.Loss
p, hessian = int(sys.argv[1]), sys.argv[2] == "1"
ws, xs, y = sp.symbols(f"w0:{p}"), sp.symbols(f"x0:{p}"), sp.Symbol("y")
loss = sc.Loss(sp.log(1 + sp.exp(-y * sum(a * b for a, b in zip(ws, xs)))), params=ws,
               data=[*xs, y])
rng = np.random.default_rng(0)
data = {f"x{i}": rng.normal(size=569) for i in range(p)}
data["y"] = np.where(rng.random(569) < 0.5, -1.0, 1.0)
w0, c0 = time.perf_counter(), time.process_time()
import numba
w1, c1 = time.perf_counter(), time.process_time()
f = loss.compile(backend="numba")
f.value_and_grad(np.zeros(p), data)
w2, c2 = time.perf_counter(), time.process_time()
if hessian:
    f.hessian(np.zeros(p), data)
w3 = time.perf_counter()
print(json.dumps({"numba_import": w1 - w0, "wall": w2 - w1, "cpu": c2 - c1,
                  "hessian": w3 - w2, "cached": sorted(f.compile_time.from_cache)}))
"""


def _child(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    run_env = {**os.environ, "PYTHONPATH": _ROOT, **(env or {})}
    out = subprocess.run([sys.executable, "-c", script, *args], env=run_env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _import_table(quick: bool) -> str:
    runs = 3 if quick else 7
    cases = {
        "import sympy": "import sympy",
        "import numpy": "import numpy",
        "import symcalc": "import symcalc",
        "import symcalc + every public name": "import symcalc as sc\nfor n in sc.__all__: getattr(sc, n)",
    }
    res: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
    cli: list[float] = []
    for _ in range(runs):  # interleaved, so load from other processes hits all alike
        for name, code in cases.items():
            res[name].append(_child(_IMPORT_CHILD, code))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "symcalc", "--version"], capture_output=True,
                       check=True, env={**os.environ, "PYTHONPATH": _ROOT})
        cli.append(time.perf_counter() - start)
    med = {k: (statistics.median(r["wall"] for r in v), statistics.median(r["cpu"] for r in v))
           for k, v in res.items()}
    base = med["import sympy"]
    rows = [(k, w, c, w - base[0], c - base[1],
             "<= +0.15 s" if k.startswith("import symcalc") else "") for k, (w, c) in med.items()]
    rows.append(("`symcalc --version` (whole process)", statistics.median(cli), "-", "-", "-",
                 "< 0.3 s"))
    return table(f"Import time (new process each, median of {runs}; s)",
                 ("what", "wall", "CPU", "wall - sympy", "CPU - sympy", "target"), rows)


def _compile_table(quick: bool) -> str:
    sizes = (8,) if quick else (8, 31)
    rows = []
    for p in sizes:
        hessian = not quick and p == 8  # (the 8-parameter Hessian is the one in the issue)
        with tempfile.TemporaryDirectory(prefix="symcalc-bench-cache-") as folder:
            env = {"SYMCALC_CACHE_DIR": folder}
            cold = _child(_COMPILE_CHILD, str(p), str(int(hessian)), env=env)
            warm = [_child(_COMPILE_CHILD, str(p), str(int(hessian)), env=env)
                    for _ in range(1 if quick else 3)]
        rows.append((p, "cold (empty cache)", cold["wall"], cold["cpu"], cold["numba_import"],
                     cold["hessian"] if hessian else "-", "< 3 s"))
        rows.append((p, "from the disk cache", statistics.median(r["wall"] for r in warm),
                     statistics.median(r["cpu"] for r in warm),
                     statistics.median(r["numba_import"] for r in warm),
                     statistics.median(r["hessian"] for r in warm) if hessian else "-",
                     "< 0.5 s"))
    header = ("params", "run", "compile + first call s", "CPU s", "numba import s",
              "first hessian() s", "target")
    return table("First compile + value_and_grad of a logistic loss, numba backend, new process "
                 "(569 rows; numba import timed apart)", header, rows)


def _sizes_table(quick: bool) -> str:
    sizes = (569, 10_000) if quick else (569, 10_000, 1_000_000)
    features = (8,) if quick else (8, 31)
    rows = []
    for k in features:
        for n in sizes:
            p = _logistic(n, k)
            X, y, theta = p["X"], p["y"], p["theta"]
            f, g = p["loss"].compile(), (p["loss"].compile(backend="numba") if have("numba") else None)
            P = f.prepare(p["data"])
            cands: dict[str, Callable[[], Any]] = {
                "hand": lambda: _hand(X, y, theta), "numpy": lambda: f.evaluate(theta, P)}
            if g is not None:
                Pg = g.prepare(p["data"])
                cands["numba"] = lambda: g.evaluate(theta, Pg)
            med = _race(cands, 2 if quick else 5, pause=0.02 if quick else 0.2)
            nb = med.get("numba", float("nan"))
            rows.append((k, f"{n:,}", med["hand"] * 1e3, med["numpy"] * 1e3, nb * 1e3,
                         nb / med["numpy"], nb / med["hand"]))
    header = ("features", "N", "hand NumPy ms", "numpy backend ms", "numba ms",
              "numba / numpy backend", "numba / hand")
    return table("Mean logistic value_and_grad by size (default threads, no environment "
                 "variables set; targets: numba/numpy <= 1 everywhere, numba/hand <= 0.45 at "
                 "10^6)", header, rows)


def _threads_table(quick: bool) -> str:
    from symcalc import _threads
    from symcalc.codegen import emit_numba as _numba

    p = _logistic(65_536, 8)
    g = p["loss"].compile(backend="numba", block_rows=1024)
    P = g.prepare(p["data"])
    kernel = g._runners["value_and_grad"]
    g.evaluate(p["theta"], P)
    fn = _numba._RUNNERS[kernel].fn
    serial = _threads.BlockRunner(fn, kernel.outputs, 1024, threads=1)
    two = _threads.BlockRunner(fn, kernel.outputs, 1024, threads=2)
    two.row_seconds = 1.0  # always parallel (two blocks or more)
    theta = np.ascontiguousarray(p["theta"])
    rows = []
    for n in ((2048, 8192, 32768) if quick else (2048, 4096, 8192, 16384, 32768, 65536)):
        cols = tuple(c[:n] for c in P.columns)
        med = _race({"serial": lambda: serial(theta, cols, n),
                     "2 threads": lambda: two(theta, cols, n)}, 2 if quick else 5,
                    burst=9, pause=0.02 if quick else 0.1)
        rows.append((f"{n:,}", med["serial"] * 1e6, med["2 threads"] * 1e6,
                     med["2 threads"] / med["serial"]))
    return table("Thread crossover: 8-feature value_and_grad kernel, serial vs two threads "
                 f"(symcalc goes parallel above {_threads.PARALLEL_MIN_SECONDS * 1e6:.0f} us "
                 "of estimated serial work)",
                 ("N", "serial us", "2 threads us", "2 threads / serial"), rows)


def run(quick: bool) -> str:
    parts = [_import_table(quick)]
    if have("numba"):
        parts += [_compile_table(quick), _sizes_table(quick), _threads_table(quick)]
    return "\n".join(parts)
