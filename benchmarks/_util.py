"""Timing helpers shared by the benchmark suites: warm-up, then the median of repeats."""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def timeit(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def have(module: str) -> bool:
    """Whether an optional peer library (jax, torch, sklearn, numba, ...) is importable."""
    return importlib.util.find_spec(module) is not None


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table with a heading line; floats shown with 3 significant digits."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def with_one_blas_thread(run: Callable[[str], str]) -> str:
    """``run(threads_label)`` with BLAS limited to one thread (threadpoolctl, when installed),
    so small per-batch matrix products are timed without thread contention on shared
    machines."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return run("default BLAS threads")
    with threadpool_limits(limits=1, user_api="blas"):
        return run("1 BLAS thread")


def interleaved_medians(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median time of each function, the repeats interleaved (one call of each in turn, after
    one warm-up call each) so that load changes on a shared machine hit all sides alike."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(repeats):
        for key, fn in runs.items():
            times[key].append(timeit(fn, repeats=1, warmup=0 if times[key] else 1))
    return {k: statistics.median(v) for k, v in times.items()}


def training_rows(numpy_epoch: Callable[[], Any], symcalc_epoch: Callable[[], Any],
                  peers: Sequence[tuple[str, str, Callable[[], Callable[[], Any]]]],
                  repeats: int) -> list[tuple[Any, ...]]:
    """Table rows for one training epoch: hand-written NumPy (= 1), symcalc.nn, then each
    optional peer ``(label, module, make_epoch)`` when its module is installed."""
    medians = interleaved_medians({"numpy": numpy_epoch, "symcalc": symcalc_epoch}, repeats)
    t_numpy, t_symcalc = medians["numpy"], medians["symcalc"]
    rows: list[tuple[Any, ...]] = [("hand-written NumPy backprop", t_numpy * 1e3, 1.0),
                                   ("symcalc.nn Sequential.fit", t_symcalc * 1e3,
                                    t_symcalc / t_numpy)]
    for label, module, make_epoch in peers:
        if have(module):  # pragma: no cover - optional peers
            t = timeit(make_epoch(), repeats=repeats, warmup=2)
            rows.append((label, t * 1e3, t / t_numpy))
        else:
            rows.append((label, "not installed", "-"))
    return rows


def torch_sgd_epoch(net: Any, loss_fn: Any, X: Any, y: Any, *, batch: int, lr: float
                    ) -> Callable[[], None]:  # pragma: no cover - optional peer
    """One shuffled epoch of mini-batch SGD in PyTorch eager mode (one thread), reading
    each batch's loss as a training loop reports it."""
    import torch

    torch.set_num_threads(1)
    opt = torch.optim.SGD(net.parameters(), lr=lr)

    def epoch() -> None:
        order = torch.randperm(len(X))
        Xs, ys = X[order], y[order]
        for s in range(0, len(X), batch):
            opt.zero_grad()
            loss = loss_fn(net(Xs[s : s + batch]), ys[s : s + batch])
            loss.backward()
            opt.step()
            loss.item()

    return epoch
